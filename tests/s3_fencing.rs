//! The S3 lease fences every write that publishes (docs/OPERATING.md,
//! "Locks"): a run that lost its lease writes nothing more, a lease is
//! judged expired on the watching run's own clock, and a store that cannot
//! be written fails at once. Against the S3-compatible test server
//! (`tests/common/s3.rs`), with a request held by the server where a delay
//! is needed and SIGSTOP/SIGCONT for a paused run.

mod common;

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::s3::{s3_pipeline, s3_pipeline_with_expiry, verify_on, S3Server};
use common::*;

const PARTITION: &str = "education_impact/as_of=2026-11-01/";

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn spawn(server: &S3Server, dir: &Path, pipeline: &Path, extra: &[&str]) -> Child {
    server
        .process(dir)
        .arg("run")
        .arg(pipeline)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

/// The run id in the partition's `_SUCCESS`.
fn published_run(server: &S3Server, dir: &Path, name: &str) -> String {
    let target = dir.join(name);
    server.download("results", PARTITION, &target);
    let success: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(target.join("_SUCCESS")).unwrap()).unwrap();
    success["run_id"].as_str().unwrap().to_string()
}

/// The run id a run logs in its `config` line (`…, run RUN_ID (…)`).
fn run_id_of(output: &Output) -> String {
    let text = stderr_of(output);
    let start = text.find(" metric(s), run ").expect("the config line") + " metric(s), run ".len();
    let end = text[start..].find(' ').unwrap() + start;
    text[start..end].to_string()
}

/// With run A stopped (SIGSTOP) inside its held request: run B (`b_args`
/// after `run PIPELINE`) must take the lease over and publish; then A's
/// request is let through and A continued: it must stop with exit 5,
/// having lost its lease. Returns B's output.
fn take_over_from_stopped(
    server: &S3Server,
    dir: &Path,
    pipeline: &Path,
    a: Child,
    b_args: &[&str],
) -> Output {
    assert!(
        server.wait_held(Duration::from_secs(60)),
        "run A never sent the held request"
    );
    signal(&a, libc::SIGSTOP);
    let b = server
        .command(dir)
        .arg("run")
        .arg(pipeline)
        .args(b_args)
        .output()
        .unwrap();
    assert!(b.status.success(), "B: {}", stderr_of(&b));
    assert!(
        stderr_of(&b).contains("took over the lease"),
        "B: {}",
        stderr_of(&b)
    );
    server.release();
    std::thread::sleep(Duration::from_millis(300));
    signal(&a, libc::SIGCONT);
    let a = a.wait_with_output().unwrap();
    assert_eq!(a.status.code(), Some(5), "A: {}", stderr_of(&a));
    assert!(
        stderr_of(&a).contains("lost its lease"),
        "A: {}",
        stderr_of(&a)
    );
    b
}

/// Run A holds the partition's lease and is stopped (SIGSTOP) with one of
/// its requests held by the server: its renewals stop too. Run B watches
/// the unchanged lease for the expiry, takes it over and publishes. Then
/// A's held request is let through and A continues: it must write nothing
/// more and exit 5, and `verify` must pass on B's partition.
fn paused_writer(method: &str, matching: &str) {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline_with_expiry(dir.path(), 2);
    // An earlier partition, so that the manifest and `_SUCCESS` exist.
    let earlier = server
        .command(dir.path())
        .arg("run")
        .arg(&pipeline)
        .output()
        .unwrap();
    assert!(earlier.status.success(), "{}", stderr_of(&earlier));

    server.hold(method, matching);
    let a = spawn(
        &server,
        dir.path(),
        &pipeline,
        &["--set", "stats.alpha=0.01"],
    );
    let b = take_over_from_stopped(&server, dir.path(), &pipeline, a, &[]);
    let verified = verify_on(&server, dir.path());
    assert!(verified.status.success(), "{}", stderr_of(&verified));
    assert_eq!(
        published_run(&server, dir.path(), "published"),
        run_id_of(&b)
    );
    assert!(server.multipart_uploads("results").is_empty());
}

#[test]
fn a_run_paused_before_it_publishes_writes_nothing_after_a_takeover() {
    // Held at the start of its first table upload.
    paused_writer("POST", "uploads");
}

#[test]
fn a_manifest_write_delayed_past_a_takeover_fails_instead_of_landing() {
    // Held as it writes its manifest, after its uploads were completed: the
    // write arrives after B's manifest and must not replace it.
    paused_writer("PUT", "_manifest.json");
}

#[test]
fn a_success_marker_delayed_past_a_takeover_fails_instead_of_landing() {
    paused_writer("PUT", "_SUCCESS");
}

/// `faketime`'s preload library, where Debian installs it.
fn faketime_library() -> Option<&'static str> {
    [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
}

#[test]
fn a_holder_whose_clock_is_behind_keeps_its_lease_while_it_renews_it() {
    let Some(library) = faketime_library() else {
        let message =
            "libfaketime is not installed (Debian package `faketime`, installed by .ci/run)";
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{message}; CI must run this test"
        );
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
        return;
    };
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline_with_expiry(dir.path(), 3);
    // Run A's clock is 120 s behind B's; A is slowed by a held request
    // (its first table upload) for 8 s, renewing its lease every second.
    server.hold("POST", "uploads");
    let a = server
        .process(dir.path())
        .env("LD_PRELOAD", library)
        .env("FAKETIME", "-120s")
        // The wall clock is what two hosts disagree on; libfaketime's faked
        // monotonic clock would also break the run's timed waits.
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .arg("run")
        .arg(&pipeline)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(server.wait_held(Duration::from_secs(60)));
    let watched = Instant::now();
    let b = server
        .command(dir.path())
        .arg("run")
        .arg(&pipeline)
        .output()
        .unwrap();
    let b_took = watched.elapsed();
    std::thread::sleep(Duration::from_secs(8).saturating_sub(watched.elapsed()));
    server.release();
    let a = a.wait_with_output().unwrap();
    let shown = format!("A: {}\nB: {}", stderr_of(&a), stderr_of(&b));
    // B sees the lease change (A renews it) and stops: a live holder is
    // never taken over, whatever its clock says.
    assert_eq!(b.status.code(), Some(5), "{shown}");
    assert!(!stderr_of(&b).contains("took over"), "{shown}");
    assert!(b_took < Duration::from_secs(8), "{shown}");
    assert!(a.status.success(), "{shown}");
    let verified = verify_on(&server, dir.path());
    assert!(verified.status.success(), "{}", stderr_of(&verified));
}

#[test]
fn a_missing_bucket_is_exit_4_at_once_naming_the_bucket() {
    let Some(server) = S3Server::start(&["lake"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline(dir.path(), ", max_retries: 2, backoff_ms: 10");
    let before = server.requests().len();
    let started = Instant::now();
    let output = server
        .command(dir.path())
        .args([
            "run",
            "--wait-lock",
            "0",
            "--output",
            "s3://no-such-bucket/x",
        ])
        .arg(&pipeline)
        .output()
        .unwrap();
    let message = stderr_of(&output);
    assert_eq!(output.status.code(), Some(4), "{message}");
    assert!(
        message.contains("`no-such-bucket` does not exist") && message.contains("NoSuchBucket"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let sent = server.requests().len() - before;
    assert!(sent <= 3, "{sent} requests for a missing bucket");
}

/// Two writers on one partition, each paused (SIGSTOP) at a random moment
/// for a random time, 50 times: every outcome is one run publishing and the
/// other exiting 5 with a message, and `verify` passes after each.
#[test]
fn two_writers_under_random_pauses_leave_one_publisher_and_a_verified_partition() {
    let Some(server) = S3Server::start(&["lake", "results"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    let pipeline = s3_pipeline_with_expiry(dir.path(), 2);
    let mut seed: u64 = 0x5eed_f00d;
    let mut next = |below: u64| {
        // xorshift64: a fixed sequence, so a failure can be replayed.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let (mut takeovers, mut sequential) = (0, 0);
    for round in 0..50 {
        let lease = "education_impact/.as_of=2026-11-01.lock".to_string();
        let a = spawn(&server, dir.path(), &pipeline, &[]);
        // B starts once A holds the lease, so that the two overlap.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server
            .list("results", &lease)
            .iter()
            .any(|(k, _)| *k == lease)
        {
            assert!(
                Instant::now() < deadline,
                "round {round}: A never took the lease"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let b = spawn(
            &server,
            dir.path(),
            &pipeline,
            &["--set", "stats.alpha=0.01"],
        );
        let victim = if next(2) == 0 { &a } else { &b };
        std::thread::sleep(Duration::from_millis(300 + next(1500)));
        signal(victim, libc::SIGSTOP);
        std::thread::sleep(Duration::from_millis(next(5000)));
        signal(victim, libc::SIGCONT);
        let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        let shown = format!(
            "round {round}: {codes:?}\nA: {}\nB: {}",
            stderr_of(&outputs[0]),
            stderr_of(&outputs[1])
        );
        if sorted == vec![Some(0), Some(0)] {
            // One legitimate order only: A published in full, was paused
            // before it deleted its lease, and B took it over and published
            // after it; A says so.
            assert!(
                stderr_of(&outputs[0]).contains("after this run's last write")
                    && stderr_of(&outputs[1]).contains("took over the lease"),
                "{shown}"
            );
            sequential += 1;
        } else {
            assert_eq!(sorted, vec![Some(0), Some(5)], "{shown}");
            let loser = &outputs[codes.iter().position(|c| *c == Some(5)).unwrap()];
            assert!(
                stderr_of(loser).contains("locked by run")
                    || stderr_of(loser).contains("lost its lease"),
                "{shown}"
            );
        }
        takeovers += outputs
            .iter()
            .filter(|o| stderr_of(o).contains("took over the lease"))
            .count();
        let verified = verify_on(&server, dir.path());
        assert!(
            verified.status.success(),
            "round {round}: {}",
            stderr_of(&verified)
        );
        assert!(
            server.multipart_uploads("results").is_empty(),
            "round {round}"
        );
    }
    eprintln!("50 rounds, {takeovers} takeovers, {sequential} publishing one after the other");
    assert!(takeovers > 0, "no round paused a holder past its expiry");
}

#[test]
fn a_store_writer_paused_past_a_takeover_writes_no_more_days() {
    let Some(server) = S3Server::start(&["lake", "results", "state"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    server.upload_dir(&repo().join("sample_data"), "lake", "sample_data/");
    // The store's lease has the output's expiry (2 s); each run writes its
    // partition to its own local directory, so only the store is shared.
    let text = std::fs::read_to_string(s3_pipeline_with_expiry(dir.path(), 2)).unwrap();
    let pipeline = dir.path().join("store.yaml");
    std::fs::write(
        &pipeline,
        format!("{text}activity:\n  store: s3://state/cohort-activity\n"),
    )
    .unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    // A is stopped as it writes its first day's manifest.
    server.hold("PUT", "_day.json");
    let a = spawn(&server, dir.path(), &pipeline, &["--output", &out("a")]);
    take_over_from_stopped(&server, dir.path(), &pipeline, a, &["--output", &out("b")]);

    // B's tables, and those of a later run reading every day from the
    // store, are a full run's.
    let full = sample_run_as_of(&dir.path().join("full"), "2026-11-01");
    let partition = |name: &str| dir.path().join(name).join("as_of=2026-11-01");
    assert_same_tables(&full, &partition("b"), "the run that took the store over");
    let c = server
        .command(dir.path())
        .arg("run")
        .arg(&pipeline)
        .args(["--output", &out("c")])
        .output()
        .unwrap();
    assert!(c.status.success(), "C: {}", stderr_of(&c));
    assert_same_tables(&full, &partition("c"), "a run reading the store after both");
    // Every day's manifest names a file that is there.
    let keys: Vec<String> = server
        .list("state", "cohort-activity/")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let downloaded = dir.path().join("store");
    server.download("state", "cohort-activity/", &downloaded);
    for key in keys.iter().filter(|k| k.ends_with("/_day.json")) {
        let local = downloaded.join(key.trim_start_matches("cohort-activity/"));
        let day: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(local).unwrap()).unwrap();
        if let Some(file) = day["file"].as_str() {
            let named = format!("{}{file}", key.trim_end_matches("_day.json"));
            assert!(
                keys.contains(&named),
                "{key} names {file}, which is missing"
            );
        }
    }
}
