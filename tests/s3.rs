//! Inputs read from and outputs published to S3 (docs/INPUTS.md, §7), against a real
//! S3-compatible server on 127.0.0.1 (see `tests/common/s3.rs`).

mod common;

use std::path::Path;

use common::s3::{s3_pipeline, s3_pipeline_with_expiry, verify_on, S3Server};
use common::*;
use polars::prelude::*;

/// sample_data/ with a wide, incompressible `payload` column added to the
/// events: no metric reads it, so a scan that fetches only the needed
/// columns downloads a small part of the file.
fn sample_with_payload(dir: &Path) -> std::path::PathBuf {
    let copy = copy_sample_data(dir);
    let events = copy.join("events/part-00000.parquet");
    let file = std::fs::File::open(&events).unwrap();
    let mut df = ParquetReader::new(file).finish().unwrap();
    let n = df.height();
    let payload: Vec<String> = (0..n)
        .map(|i| {
            let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            (0..6)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    format!("{x:016x}")
                })
                .collect()
        })
        .collect();
    df.with_column(Column::new("payload".into(), payload))
        .unwrap();
    let file = std::fs::File::create(&events).unwrap();
    ParquetWriter::new(file)
        .with_row_group_size(Some(50_000))
        .finish(&mut df)
        .unwrap();
    copy
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// The sample pipeline run on disk with its output under `dir/local`;
/// returns the partition.
fn local_run(dir: &Path) -> std::path::PathBuf {
    let local = bin()
        .arg("run")
        .arg(repo().join("pipelines/education_impact.yaml"))
        .arg("--output")
        .arg(dir.join("local"))
        .output()
        .unwrap();
    assert!(local.status.success(), "{}", stderr_of(&local));
    dir.join("local/as_of=2026-11-01")
}

/// `command` of `pipeline` against the server; fails the test unless it succeeds.
fn succeed(server: &S3Server, dir: &Path, command: &str, pipeline: &Path) -> std::process::Output {
    let output = server
        .command(dir)
        .arg(command)
        .arg(pipeline)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{command} failed:\n{}",
        stderr_of(&output)
    );
    output
}

#[test]
fn sample_pipeline_on_s3_gives_the_same_tables_as_on_disk() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = sample_with_payload(dir.path());
    server.upload_dir(&data, "lake", "sample_data/");
    let events_size = server
        .list("lake", "sample_data/events/")
        .into_iter()
        .map(|(_, size)| size)
        .sum::<u64>();

    // A stale table and an old marker from an earlier run.
    let partition = "education_impact/as_of=2026-11-01/";
    server.put("results", &format!("{partition}old_table.parquet"), "stale");
    server.put("results", &format!("{partition}_SUCCESS"), "");

    let pipeline = s3_pipeline(dir.path(), "");
    let explain = succeed(&server, dir.path(), "explain", &pipeline);
    let plan = String::from_utf8_lossy(&explain.stdout);
    assert!(
        plan.contains("s3://lake/sample_data/events/part-00000.parquet"),
        "the plan reads the events from S3:\n{plan}"
    );

    let before = server.requests().len();
    let run = succeed(&server, dir.path(), "run", &pipeline);

    // Only the needed columns of the events were fetched: ranged reads
    // whose union (each adoption metric streams its own scan) covers far
    // less than the file.
    let mut ranges: Vec<(u64, u64)> = server.requests()[before..]
        .iter()
        .filter(|r| {
            r["method"] == "GET" && r["path"] == "/lake/sample_data/events/part-00000.parquet"
        })
        .map(|r| {
            let range = r["range"]
                .as_str()
                .expect("every read of the events is ranged");
            let (a, b) = range.trim_start_matches("bytes=").split_once('-').unwrap();
            (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap())
        })
        .collect();
    ranges.sort();
    let mut fetched = 0;
    let mut covered_to = 0; // exclusive end of the union so far
    for (a, b) in ranges {
        let start = a.max(covered_to);
        if b + 1 > start {
            fetched += b + 1 - start;
        }
        covered_to = covered_to.max(b + 1);
    }
    assert!(fetched > 0, "the events were read");
    assert!(
        fetched * 2 < events_size,
        "projection pushdown: fetched {fetched} of {events_size} bytes"
    );

    let local_partition = local_run(dir.path());

    let downloaded = dir.path().join("downloaded");
    let mut keys = server.download("results", partition, &downloaded);
    keys.sort();
    let mut expected: Vec<String> = TABLES
        .iter()
        .map(|t| format!("{partition}{t}.parquet"))
        .chain([
            format!("{partition}_SUCCESS"),
            format!("{partition}_manifest.json"),
            format!("{partition}report.html"),
        ])
        .collect();
    expected.sort();
    assert_eq!(
        keys, expected,
        "stale objects removed, every table, the report and the marker present"
    );
    // `report` renders the page again from the S3 partition: the same bytes.
    let again = dir.path().join("again.html");
    server
        .command(dir.path())
        .args(["-q", "report"])
        .arg(format!("s3://results/{partition}"))
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert!(
        std::fs::read(&again).unwrap() == std::fs::read(downloaded.join("report.html")).unwrap(),
        "report from S3 differs from the published page"
    );
    for table in TABLES {
        assert_eq!(
            contents(&downloaded, table),
            contents(&local_partition, table),
            "table {table}: S3 and local runs differ"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(downloaded.join("_manifest.json")).unwrap())
            .unwrap();
    let manifest_text = manifest.to_string();
    assert!(manifest_text.contains("s3://lake/sample_data/accounts.csv"));
    assert!(!manifest_text.contains(&server.secret_access_key));
    assert!(!stderr_of(&run).contains(&server.secret_access_key));

    // The next night on S3 is compared with this partition (docs/OPERATING.md#each-night-against-the-last).
    let next = server
        .command(dir.path())
        .args(["run", "--as-of", "2026-11-02"])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert!(next.status.success(), "{}", stderr_of(&next));
    let next_dir = dir.path().join("next");
    server.download("results", "education_impact/as_of=2026-11-02/", &next_dir);
    let drift: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(next_dir.join("_manifest.json")).unwrap())
            .unwrap();
    let drift = drift["drift"].clone();
    assert_eq!(
        drift["previous"].as_str(),
        Some("s3://results/education_impact/as_of=2026-11-01"),
        "{drift}"
    );
    assert_eq!(drift["previous_run_id"], manifest["run_id"], "{drift}");
}

#[test]
fn s3_faults_exit_4_with_the_bucket_and_key_and_no_secret() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline(dir.path(), ", max_retries: 2, backoff_ms: 10");

    // A missing object.
    let missing = server
        .command(dir.path())
        .arg("run")
        .arg(&pipeline)
        .arg("--set")
        .arg("sources.accounts.path=s3://lake/nowhere/accounts.csv")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(4), "{}", stderr_of(&missing));
    let message = stderr_of(&missing);
    assert!(
        message.contains("s3://lake/nowhere/accounts.csv") && message.contains("bucket `lake`"),
        "{message}"
    );

    // Wrong credentials: refused, and the secret is in no output.
    let secret = "Wr0ngSecretValue/ThatMustNeverBePrinted+42";
    for format in ["text", "json"] {
        let denied = server
            .command(dir.path())
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .arg("--log-format")
            .arg(format)
            .arg("-v")
            .arg("run")
            .arg(&pipeline)
            .output()
            .unwrap();
        assert_eq!(denied.status.code(), Some(4), "{}", stderr_of(&denied));
        let all = format!(
            "{}{}",
            stderr_of(&denied),
            String::from_utf8_lossy(&denied.stdout)
        );
        // The partition's lease is the first request, on the output bucket.
        assert!(
            all.contains("access denied") && all.contains("bucket `results`"),
            "{all}"
        );
        assert!(!all.contains(secret), "the secret was printed:\n{all}");
        assert!(!all.contains(&server.secret_access_key));
    }

    // A listed object whose key the client would read percent-encoded (as
    // another key): a configuration error naming the key, not a silent miss.
    server.put(
        "lake",
        "odd/accounts~v2.csv",
        "account_id,signup_date\n1,2025-01-01\n",
    );
    let odd = server
        .command(dir.path())
        .arg("validate")
        .arg(&pipeline)
        .arg("--set")
        .arg("sources.accounts.path=s3://lake/odd/")
        .output()
        .unwrap();
    assert_eq!(odd.status.code(), Some(2), "{}", stderr_of(&odd));
    let message = stderr_of(&odd);
    assert!(
        message.contains("s3://lake/odd/accounts~v2.csv") && message.contains("`~`"),
        "{message}"
    );

    // A large CSV with a ragged second line: the line check reads it in
    // ranged chunks and stops at the first bad record, so one 4 MiB range
    // is fetched of the 10 MiB file, and nothing else reads it.
    let mut big = String::from("account_id,signup_date\n1,2025-01-01,extra\n");
    while big.len() < 10 * 1024 * 1024 {
        big.push_str("1234567,2025-01-01\n");
    }
    server.put("lake", "big/accounts.csv", &big);
    let before = server.requests().len();
    let ragged = server
        .command(dir.path())
        .arg("validate")
        .arg(&pipeline)
        .arg("--set")
        .arg("sources.accounts.path=s3://lake/big/accounts.csv")
        .output()
        .unwrap();
    assert_eq!(ragged.status.code(), Some(3), "{}", stderr_of(&ragged));
    assert!(
        stderr_of(&ragged).contains("`s3://lake/big/accounts.csv`), line 2: malformed CSV line"),
        "{}",
        stderr_of(&ragged)
    );
    let gets: Vec<String> = server.requests()[before..]
        .iter()
        .filter(|r| r["method"] == "GET" && r["path"] == "/lake/big/accounts.csv")
        .map(|r| r["range"].as_str().unwrap_or("whole object").to_string())
        .collect();
    assert_eq!(
        gets,
        ["bytes=0-4194303"],
        "one ranged read of the first chunk"
    );

    // The server is down: exit 4 after the retries, naming bucket and key.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let down = server
        .command(dir.path())
        .env("S3_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .arg("run")
        .arg(&pipeline)
        .output()
        .unwrap();
    assert_eq!(down.status.code(), Some(4), "{}", stderr_of(&down));
    let message = stderr_of(&down);
    assert!(
        message.contains("bucket `results`")
            && message.contains("key `education_impact/.as_of=2026-11-01.lock`")
            && message.contains("retries"),
        "{message}"
    );
}

#[test]
fn a_store_dying_mid_upload_leaves_the_previous_partition_and_a_waiting_rerun_takes_over() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline(dir.path(), ", max_retries: 1, backoff_ms: 10");
    let text = std::fs::read_to_string(&pipeline).unwrap().replace(
        "path: s3://results/education_impact }",
        "path: s3://results/education_impact, lock_expiry_secs: 8 }",
    );
    assert!(text.contains("lock_expiry_secs: 8"));
    std::fs::write(&pipeline, text).unwrap();
    let partition = "education_impact/as_of=2026-11-01/";
    let run = |extra: &[&str]| {
        server
            .command(dir.path())
            .arg("run")
            .arg(&pipeline)
            .args(extra)
            .output()
            .unwrap()
    };
    let first = run(&[]);
    assert!(first.status.success(), "{}", stderr_of(&first));
    let names = |listed: Vec<(String, u64)>| -> Vec<String> {
        listed
            .into_iter()
            .map(|(k, _)| k[partition.len()..].to_string())
            .collect()
    };
    assert!(names(server.list("results", partition)).contains(&"_SUCCESS".to_string()));

    server.download("results", partition, &dir.path().join("first"));
    let first_manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("first/_manifest.json")).unwrap(),
    )
    .unwrap();
    let first_id = first_manifest["run_id"].as_str().unwrap().to_string();
    let verify = || {
        server
            .command(dir.path())
            .arg("verify")
            .arg(format!("s3://results/{partition}"))
            .output()
            .unwrap()
    };

    // A second run with other settings dies (the store goes away) after
    // its second part upload: its table uploads were opened, and recorded
    // in its lease, but never completed.
    server.die_after_parts("results", 2);
    let second = run(&["--set", "stats.alpha=0.01"]);
    assert_eq!(second.status.code(), Some(4), "{}", stderr_of(&second));
    assert!(
        stderr_of(&second).contains("bucket `results`"),
        "{}",
        stderr_of(&second)
    );
    server.revive();
    // The previous partition is exactly as it was: its `_SUCCESS`, its
    // tables, all of the first run; the dead run's uploads are invisible.
    let after = names(server.list("results", partition));
    assert!(after.contains(&"_SUCCESS".to_string()), "{after:?}");
    let intact = verify();
    assert!(intact.status.success(), "{}", stderr_of(&intact));
    assert!(String::from_utf8_lossy(&intact.stdout).contains(&first_id));
    // Every table and the report.
    assert_eq!(server.multipart_uploads("results").len(), TABLES.len() + 1);

    // The dead run's lease (it could not delete it) holds the partition
    // until it has stayed unchanged for its expiry (8 s) on the clock of the
    // run that finds it, even without `--wait-lock`: that run watches it,
    // says so, takes it over, aborts the dead run's uploads and publishes:
    // every table from one run.
    let watched = std::time::Instant::now();
    let third = run(&["--set", "stats.alpha=0.01"]);
    assert!(third.status.success(), "{}", stderr_of(&third));
    assert!(watched.elapsed() >= std::time::Duration::from_secs(8));
    assert!(
        stderr_of(&third).contains("watching it")
            && stderr_of(&third).contains("took over the lease")
            && stderr_of(&third).contains("presumed dead"),
        "{}",
        stderr_of(&third)
    );
    assert!(server.multipart_uploads("results").is_empty());
    assert!(verify().status.success());
    let downloaded = dir.path().join("downloaded");
    let keys = server.download("results", partition, &downloaded);
    assert!(keys.iter().any(|k| k.ends_with("_SUCCESS")));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(downloaded.join("_manifest.json")).unwrap())
            .unwrap();
    let run_id = manifest["run_id"].as_str().unwrap();
    for table in TABLES {
        let df = read_table(&downloaded, table);
        if df.height() == 0 {
            continue;
        }
        let ids = df.column("run_id").unwrap().unique().unwrap();
        assert_eq!(ids.len(), 1, "{table}: one run");
        assert_eq!(
            ids.str().unwrap().get(0),
            Some(run_id),
            "{table} comes from the run of the manifest"
        );
    }
}

/// `sample_data/` with the events split into two Hive partitions
/// (`events_hive/half=0/`, `events_hive/half=1/`).
fn sample_with_hive_events(dir: &Path) -> std::path::PathBuf {
    let copy = copy_sample_data(dir);
    let file = std::fs::File::open(copy.join("events/part-00000.parquet")).unwrap();
    let events = ParquetReader::new(file).finish().unwrap();
    let n = events.height();
    for half in 0..2 {
        let mask: BooleanChunked = (0..n).map(|i| i % 2 == half).collect();
        let mut part = events.filter(&mask).unwrap();
        let folder = copy.join(format!("events_hive/half={half}"));
        std::fs::create_dir_all(&folder).unwrap();
        let file = std::fs::File::create(folder.join("part-00000.parquet")).unwrap();
        ParquetWriter::new(file).finish(&mut part).unwrap();
    }
    copy
}

#[test]
fn hive_prefixes_and_globs_on_s3_read_like_the_files_on_disk() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = sample_with_hive_events(dir.path());
    server.upload_dir(&data, "lake", "sample_data/");
    let pipeline = s3_pipeline(dir.path(), "");
    let text = std::fs::read_to_string(&pipeline)
        .unwrap()
        .replace(
            "{ path: s3://lake/sample_data/events/, format: parquet }",
            "{ path: s3://lake/sample_data/events_hive/, format: parquet, hive_partitioning: true }",
        )
        .replace("s3://lake/sample_data/tickets.parquet", "s3://lake/sample_data/tick*.parquet")
        .replace("s3://lake/sample_data/referrals.parquet", "\"s3://lake/sample_data/referral[s].parquet\"");
    assert!(text.contains("events_hive") && text.contains("tick*"));
    std::fs::write(&pipeline, text).unwrap();

    let explain = succeed(&server, dir.path(), "explain", &pipeline);
    let plan = String::from_utf8_lossy(&explain.stdout);
    assert!(plan.contains("events_hive"), "{plan}");

    succeed(&server, dir.path(), "run", &pipeline);
    let local_partition = local_run(dir.path());
    let downloaded = dir.path().join("downloaded");
    server.download("results", "education_impact/as_of=2026-11-01/", &downloaded);
    for table in TABLES {
        assert_eq!(
            contents(&downloaded, table),
            contents(&local_partition, table),
            "table {table}: the Hive-partitioned S3 events and the local file differ"
        );
    }
}

#[test]
fn two_runs_on_one_s3_output_end_with_0_or_5_and_leave_no_upload_or_lease() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline_with_expiry(dir.path(), 60);
    for earlier in [false, true] {
        for offset_ms in [0u64, 200, 500] {
            let case = format!("earlier partition: {earlier}, offset {offset_ms} ms");
            server.delete_prefix("results", "education_impact/");
            if earlier {
                succeed(&server, dir.path(), "run", &pipeline);
            }
            let start = |server: &S3Server| {
                server
                    .process(dir.path())
                    .args(["-q", "run"])
                    .arg(&pipeline)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            };
            let first = start(&server);
            std::thread::sleep(std::time::Duration::from_millis(offset_ms));
            let second = start(&server);
            let results = [
                first.wait_with_output().unwrap(),
                second.wait_with_output().unwrap(),
            ];
            let codes: Vec<Option<i32>> = results.iter().map(|o| o.status.code()).collect();
            for result in &results {
                match result.status.code() {
                    Some(0) => {}
                    Some(5) => assert!(stderr_of(result).contains("locked by run `"), "{case}"),
                    _ => panic!("{case}: {codes:?}: {}", stderr_of(result)),
                }
            }
            assert!(codes.contains(&Some(0)), "{case}: {codes:?}");
            let verified = verify_on(&server, dir.path());
            assert!(
                verified.status.success(),
                "{case}: {}",
                stderr_of(&verified)
            );
            assert!(
                server.multipart_uploads("results").is_empty(),
                "{case}: uploads left"
            );
            let keys: Vec<String> = server
                .list("results", "education_impact/")
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            assert!(
                keys.iter()
                    .all(|k| k.starts_with("education_impact/as_of=2026-11-01/")),
                "{case}: a lease or stray object is left: {keys:?}"
            );
        }
    }
}

#[test]
fn a_run_killed_at_any_point_on_s3_leaves_the_previous_partition_and_its_lease_is_taken_over() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let expiry = 2;
    let pipeline = s3_pipeline_with_expiry(dir.path(), expiry);
    let partition = "education_impact/as_of=2026-11-01/";
    let started = std::time::Instant::now();
    succeed(&server, dir.path(), "run", &pipeline);
    let full = started.elapsed();
    let snapshot = |name: &str| {
        let target = dir.path().join(name);
        server.download("results", partition, &target);
        TABLES
            .iter()
            .map(|t| contents(&target, t))
            .collect::<Vec<String>>()
    };
    let before = snapshot("before");

    for (i, fraction) in [0.2, 0.5, 0.8, 0.95].into_iter().enumerate() {
        let mut child = server
            .process(dir.path())
            .args(["-q", "run", "--wait-lock", "30"])
            .arg(&pipeline)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill(); // SIGKILL: no chance to release the lease
        let _ = child.wait();
        // The partition stays readable with its `_SUCCESS`: every table has
        // the same contents. Verified intact, except for a kill inside the
        // commit's completion window (the uploads completed, then the new
        // `_manifest.json`, before the new `_SUCCESS`), which leaves new
        // tables, and perhaps the new manifest, beside the previous
        // `_SUCCESS`: the documented reader check (each table's run id
        // against `_SUCCESS`) sees it, as `verify` does, and the next run
        // completes the partition.
        assert_eq!(
            before,
            snapshot(&format!("after-{i}")),
            "kill at {fraction}"
        );
        let verified = verify_on(&server, dir.path());
        match verified.status.code() {
            Some(0) => {}
            Some(3) => {
                let message = stderr_of(&verified);
                let window = message.contains("holds rows of run")
                    || message.contains("`_manifest.json` is of run");
                assert!(
                    window && !message.contains("missing"),
                    "kill at {fraction}: {message}"
                );
                eprintln!("kill at {fraction} landed in the completion window");
            }
            _ => panic!("kill at {fraction}: {}", stderr_of(&verified)),
        }
        // A run takes the dead run's lease over (after watching it stay
        // unchanged for the expiry) and publishes, so that the next kill
        // lands in a run that starts at once, as the first did.
        succeed(&server, dir.path(), "run", &pipeline);
        assert!(verify_on(&server, dir.path()).status.success());
    }

    // The next run takes over the last dead run's lease (if it held one),
    // says so, and publishes; the lease is gone at the end.
    let last = server
        .command(dir.path())
        .args(["run", "--wait-lock", "30"])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert!(last.status.success(), "{}", stderr_of(&last));
    assert!(verify_on(&server, dir.path()).status.success());
    assert_eq!(before, snapshot("last"));
    let keys: Vec<String> = server
        .list("results", "education_impact/")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(keys.iter().all(|k| k.starts_with(partition)), "{keys:?}");
}

#[test]
fn a_store_without_conditional_writes_is_an_error_unless_the_lock_is_off() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline(dir.path(), ", max_retries: 0");
    for mode in ["refuse", "ignore"] {
        server.conditional(mode);
        let refused = server
            .command(dir.path())
            .arg("run")
            .arg(&pipeline)
            .output()
            .unwrap();
        assert_eq!(
            refused.status.code(),
            Some(4),
            "{mode}: {}",
            stderr_of(&refused)
        );
        let message = stderr_of(&refused);
        assert!(
            message.contains("does not honour conditional writes")
                && message.contains(&server.endpoint())
                && message.contains("output.lock: none"),
            "{mode}: {message}"
        );
        assert!(
            server.list("results", "education_impact/").is_empty(),
            "{mode}: nothing written"
        );
    }
    // Explicitly without a lock: published, and no lease was written.
    let before = server.requests().len();
    let unlocked = server
        .command(dir.path())
        .args(["run", "--set", "output.lock=none"])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert!(unlocked.status.success(), "{}", stderr_of(&unlocked));
    let lease_requests = server.requests()[before..]
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").ends_with(".lock"))
        .count();
    assert_eq!(lease_requests, 0, "no lease with `output.lock: none`");
    assert!(verify_on(&server, dir.path()).status.success());
}

#[test]
fn events_files_outside_the_days_read_are_skipped_on_s3() {
    // The events split at 2025-10-15: every event of part-old is more than two weeks before the first day read
    // (S = 2025-11-01). Polars reads part-old's footer (its statistics) and none of its data; part-new is read.
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = sample_split_at(dir.path(), "2025-10-15T00:00:00Z", None);
    server.upload_dir(&data, "lake", "sample_data/");
    let pipeline = s3_pipeline(dir.path(), "");
    let before = server.requests().len();
    succeed(&server, dir.path(), "run", &pipeline);
    // Each GET of a file as (first byte, last byte).
    let gets = |file: &str| -> Vec<(u64, u64)> {
        server.requests()[before..]
            .iter()
            .filter(|r| {
                r["method"] == "GET" && r["path"] == format!("/lake/sample_data/events/{file}")
            })
            .map(|r| {
                let range = r["range"].as_str().expect("ranged reads");
                let (a, b) = range.trim_start_matches("bytes=").split_once('-').unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect()
    };
    let size = |file: &str| {
        std::fs::metadata(data.join("events").join(file))
            .unwrap()
            .len()
    };
    // Metadata reads are reads of the file's tail (the footer and a little before it, at most 64 KiB).
    let tail = 64 * 1024;
    let old = gets("part-old.parquet");
    let old_size = size("part-old.parquet");
    assert!(!old.is_empty(), "part-old's statistics are read");
    assert!(
        old_size > 2 * tail
            && old
                .iter()
                .all(|&(a, b)| b + 1 == old_size && a + tail >= old_size),
        "part-old ({old_size} bytes): only its tail may be read, got {old:?}"
    );
    let new = gets("part-new.parquet");
    let new_size = size("part-new.parquet");
    assert!(
        new.iter().any(|&(a, _)| a + tail < new_size),
        "part-new's data is read: {new:?}"
    );
}

#[test]
fn an_activity_store_on_s3_gives_the_tables_of_full_runs() {
    let Some(server) = S3Server::start(&["lake", "results", "state"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let text = std::fs::read_to_string(s3_pipeline(dir.path(), "")).unwrap();
    let pipeline = dir.path().join("store.yaml");
    std::fs::write(
        &pipeline,
        format!("{text}activity:\n  store: s3://state/cohort-activity\n  lookback_days: 2\n"),
    )
    .unwrap();
    for (as_of, computed) in [("2026-10-31", 365), ("2026-11-01", 2)] {
        let local = sample_run_as_of(&dir.path().join("local"), as_of);
        let output = server
            .command(dir.path())
            .arg("run")
            .arg(&pipeline)
            .args(["--as-of", as_of, "--output"])
            .arg(dir.path().join("store"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        let partition = |root: &str| dir.path().join(root).join(format!("as_of={as_of}"));
        assert_same_tables(
            &local,
            &partition("store"),
            &format!("a full run and a run with a store on S3, as of {as_of}"),
        );
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(partition("store").join("_manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            manifest["activity"]["store"]["computed_days"], computed,
            "{as_of}"
        );
    }
    // 365 days, each a manifest and at most one file; the definition; the
    // lease released.
    let keys: Vec<String> = server
        .list("state", "cohort-activity/")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let manifests = keys.iter().filter(|k| k.ends_with("/_day.json")).count();
    let files = keys.iter().filter(|k| k.ends_with(".parquet")).count();
    assert_eq!(manifests, 365, "{keys:?}");
    assert!(files <= 365 && files > 300, "{files}");
    assert!(keys.contains(&"cohort-activity/_store.json".to_string()));
    assert!(
        keys.iter()
            .all(|k| k.starts_with("cohort-activity/day=") || k == "cohort-activity/_store.json"),
        "a lease or stray object is left: {:?}",
        keys.iter()
            .filter(|k| !k.starts_with("cohort-activity/day="))
            .collect::<Vec<_>>()
    );
}
