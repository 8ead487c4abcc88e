//! One credential chain for every S3 request (docs/OPERATING.md#s3-credentials):
//! the profile `AWS_PROFILE` names signs the reads, the uploads and the
//! lease alike, wherever it stands in the shared credentials file.

mod common;

use std::path::Path;
use std::process::Output;

use common::s3::{s3_pipeline, verify_on, S3Server};
use common::*;

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// A run with no keys in the environment, only `env` (profile variables).
fn run_with(server: &S3Server, home: &Path, pipeline: &Path, env: &[(&str, String)]) -> Output {
    let mut command = server.process(home);
    command
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .arg("run")
        .arg(pipeline);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn the_profile_aws_profile_names_signs_every_request() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline(dir.path(), ", max_retries: 0");
    // `[other]` comes first and holds keys the server does not know.
    let aws = dir.path().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[other]\naws_access_key_id = AKIAUNKNOWN0000000\naws_secret_access_key = not-the-secret\n\n\
             [default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            server.access_key_id, server.secret_access_key
        ),
    )
    .unwrap();

    for env in [vec![], vec![("AWS_PROFILE", "default".to_string())]] {
        let output = run_with(&server, dir.path(), &pipeline, &env);
        assert!(output.status.success(), "{env:?}: {}", stderr_of(&output));
        assert!(verify_on(&server, dir.path()).status.success());
    }
    let refused = run_with(
        &server,
        dir.path(),
        &pipeline,
        &[("AWS_PROFILE", "other".to_string())],
    );
    assert_eq!(refused.status.code(), Some(4), "{}", stderr_of(&refused));
    assert!(!stderr_of(&refused).contains("not-the-secret"));
    let missing = run_with(
        &server,
        dir.path(),
        &pipeline,
        &[("AWS_PROFILE", "nope".to_string())],
    );
    assert_eq!(missing.status.code(), Some(2), "{}", stderr_of(&missing));
    assert!(stderr_of(&missing).contains("AWS_PROFILE `nope` names no profile"));

    // A credentials file elsewhere, with the profile in it.
    let elsewhere = dir.path().join("ci-credentials");
    std::fs::write(
        &elsewhere,
        format!(
            "[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            server.access_key_id, server.secret_access_key
        ),
    )
    .unwrap();
    let output = run_with(
        &server,
        dir.path(),
        &pipeline,
        &[
            ("AWS_PROFILE", "ci".to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                elsewhere.display().to_string(),
            ),
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
}
