//! Multipart uploads of large outputs (docs/OUTPUTS.md): completed in parts, and
//! aborted when a part fails so that no half-written object or dangling
//! upload is left. In its own test binary because the client takes its
//! credentials from the process environment, which this test sets.

mod common;

use cohort_metrics::storage::s3::S3Config;
use cohort_metrics::storage::s3::{S3Settings, S3};
use common::s3::S3Server;

#[test]
fn large_files_are_uploaded_in_parts_and_a_failed_upload_is_aborted() {
    let Some(server) = S3Server::start(&["results"]) else {
        return;
    };
    // SAFETY: the only test of this binary; no other thread reads the
    // environment while it is changed.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", &server.access_key_id);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", &server.secret_access_key);
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_SESSION_TOKEN");
        std::env::remove_var("AWS_PROFILE");
    }
    let config = S3Config {
        endpoint: Some(server.endpoint()),
        allow_http: true,
        region: Some("us-east-1".into()),
        max_retries: Some(1),
        backoff_ms: Some(10),
        ..S3Config::default()
    };
    let s3 = S3::new(S3Settings::from_config(Some(&config)));

    // 20 MiB of incompressible bytes: three parts of at most 8 MiB.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.parquet");
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let bytes: Vec<u8> = (0..20 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    std::fs::write(&file, &bytes).unwrap();

    let before = server.requests().len();
    s3.put_file("results", "p/big.parquet", &file).unwrap();
    let requests = server.requests()[before..].to_vec();
    let parts = requests
        .iter()
        .filter(|r| r["method"] == "PUT" && r["query"].as_str().unwrap().contains("partNumber="))
        .count();
    assert_eq!(parts, 3, "three parts: {requests:?}");
    assert_eq!(s3.get("results", "p/big.parquet").unwrap(), bytes);
    assert!(server.multipart_uploads("results").is_empty());

    // Every try of every part fails (retries included): the upload fails
    // naming the bucket and key, and it is aborted, so that neither an
    // object nor an unfinished upload is left behind.
    let before = server.requests().len();
    server.fail_parts(1000);
    let err = s3
        .put_file("results", "p/broken.parquet", &file)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bucket `results`") && err.contains("key `p/broken.parquet`"),
        "{err}"
    );
    server.fail_parts(0);
    let requests = server.requests()[before..].to_vec();
    let started = requests
        .iter()
        .any(|r| r["method"] == "POST" && r["query"].as_str().unwrap().contains("uploads"));
    assert!(
        started,
        "the second upload was a multipart upload: {requests:?}"
    );
    assert!(
        server
            .list("results", "p/")
            .iter()
            .all(|(k, _)| k != "p/broken.parquet"),
        "no half-written object"
    );
    assert_eq!(
        server.multipart_uploads("results"),
        Vec::<String>::new(),
        "the failed upload was aborted"
    );
}
