//! Overlapping runs on one output (docs/OUTPUTS.md): one run at a time holds the
//! partition's lock; the other waits (`--wait-lock`) or stops with exit
//! code 5 naming the holder. Whatever the timing, the partition ends
//! complete (every table's run id is the manifest's: `verify` passes) and
//! nothing is left beside it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn spawn(pipeline: &Path, output: &Path, extra: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("cohort-metrics"))
        .args(["-q", "run"])
        .arg(pipeline)
        .arg("--output")
        .arg(output)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn verify(partition: &Path) -> Output {
    bin().arg("verify").arg(partition).output().unwrap()
}

/// Everything in the output directory: only the partition may remain.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

fn sample_pipeline() -> PathBuf {
    repo().join("pipelines/education_impact.yaml")
}

#[test]
fn two_runs_on_one_output_end_with_0_or_5_and_a_complete_partition() {
    let pipeline = sample_pipeline();
    for earlier in [false, true] {
        for offset_ms in [0u64, 150, 400] {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("out");
            if earlier {
                bin()
                    .args(["-q", "run"])
                    .arg(&pipeline)
                    .arg("--output")
                    .arg(&out)
                    .assert()
                    .success();
            }
            let first = spawn(&pipeline, &out, &[]);
            std::thread::sleep(Duration::from_millis(offset_ms));
            let second = spawn(&pipeline, &out, &[]);
            let results = [
                first.wait_with_output().unwrap(),
                second.wait_with_output().unwrap(),
            ];
            let codes: Vec<Option<i32>> = results.iter().map(|o| o.status.code()).collect();
            let case = format!("earlier partition: {earlier}, offset {offset_ms} ms: {codes:?}");
            for result in &results {
                match result.status.code() {
                    Some(0) => {}
                    Some(5) => assert!(
                        stderr_of(result).contains("locked by run `"),
                        "{case}: {}",
                        stderr_of(result)
                    ),
                    _ => panic!("{case}: {}", stderr_of(result)),
                }
            }
            assert!(codes.contains(&Some(0)), "{case}: one run publishes");
            let partition = out.join("as_of=2026-11-01");
            let verified = verify(&partition);
            assert!(
                verified.status.success(),
                "{case}: {}",
                stderr_of(&verified)
            );
            assert_eq!(names_in(&out), ["as_of=2026-11-01"], "{case}: leftovers");
        }
    }
}

#[test]
fn a_run_that_waits_for_the_lock_publishes_after_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let pipeline = sample_pipeline();
    let first = spawn(&pipeline, &out, &[]);
    wait_for_holder(&out);
    let second = spawn(&pipeline, &out, &["--wait-lock", "120"]);
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert!(second.status.success(), "{}", stderr_of(&second));
    let partition = out.join("as_of=2026-11-01");
    assert!(verify(&partition).status.success());
    assert_eq!(names_in(&out), ["as_of=2026-11-01"]);
}

/// Waits until a run holds the lock of `out`'s partition; returns the holder's text.
fn wait_for_holder(out: &Path) -> String {
    let lock = out.join(".as_of=2026-11-01.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&lock) {
            if text.contains("run_id") {
                return text;
            }
        }
        assert!(Instant::now() < deadline, "no run took the lock");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_locked_partition_is_exit_5_naming_the_holder_and_a_killed_holder_frees_it_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let pipeline = sample_pipeline();
    let mut holder = spawn(&pipeline, &out, &[]);
    let text = wait_for_holder(&out);
    let holder_info: serde_json::Value = serde_json::from_str(&text).unwrap();
    let run_id = holder_info["run_id"].as_str().unwrap();

    let refused = bin()
        .arg("run")
        .arg(&pipeline)
        .arg("--output")
        .arg(&out)
        .args(["--wait-lock", "0"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(5), "{}", stderr_of(&refused));
    let message = stderr_of(&refused);
    assert!(
        message.contains(&format!("locked by run `{run_id}`"))
            && message.contains(&format!("pid {}", holder.id()))
            && message.contains("--wait-lock"),
        "{message}"
    );

    // Killed while it holds the lock: the kernel releases the `flock`, the
    // next run takes the partition at once (no wait) and cleans up.
    holder.kill().unwrap();
    holder.wait().unwrap();
    bin()
        .args(["-q", "run"])
        .arg(&pipeline)
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    assert!(verify(&out.join("as_of=2026-11-01")).status.success());
    assert_eq!(names_in(&out), ["as_of=2026-11-01"]);
}

#[test]
fn verify_tells_intact_from_altered_and_incomplete_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &str| {
        bin()
            .args(["-q", "run"])
            .arg(sample_pipeline())
            .arg("--output")
            .arg(dir.path().join(out))
            .assert()
            .success();
        dir.path().join(out).join("as_of=2026-11-01")
    };
    let partition = run("a");
    let other = run("b");
    let intact = verify(&partition);
    assert_eq!(intact.status.code(), Some(0), "{}", stderr_of(&intact));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(partition.join("_manifest.json")).unwrap())
            .unwrap();
    let run_id = manifest["run_id"].as_str().unwrap();
    assert!(String::from_utf8_lossy(&intact.stdout).contains(run_id));
    assert_eq!(manifest["schema_version"], 4);
    for output in manifest["outputs"].as_array().unwrap() {
        let file = partition.join(output["file"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(output["bytes"].as_u64(), Some(bytes.len() as u64));
        assert_eq!(output["sha256"].as_str().unwrap().len(), 64);
    }

    // A table of another run, with the manifest and `_SUCCESS` rewritten to
    // its checksum: the checksums agree, the run id gives it away.
    let swapped = dir.path().join("swapped");
    Command::new("cp")
        .arg("-r")
        .arg(&partition)
        .arg(&swapped)
        .status()
        .unwrap();
    std::fs::copy(other.join("lift.parquet"), swapped.join("lift.parquet")).unwrap();
    let (bytes, sum) = {
        use sha2::Digest;
        let data = std::fs::read(swapped.join("lift.parquet")).unwrap();
        (data.len() as u64, hex(&sha2::Sha256::digest(&data)))
    };
    let mut m = manifest.clone();
    for output in m["outputs"].as_array_mut().unwrap() {
        if output["file"] == "lift.parquet" {
            output["bytes"] = bytes.into();
            output["sha256"] = sum.clone().into();
        }
    }
    let text = serde_json::to_string_pretty(&m).unwrap() + "\n";
    std::fs::write(swapped.join("_manifest.json"), &text).unwrap();
    let mut success: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(swapped.join("_SUCCESS")).unwrap()).unwrap();
    success["files"]["lift.parquet"] = sum.into();
    success["files"]["_manifest.json"] = {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(text.as_bytes())).into()
    };
    std::fs::write(
        swapped.join("_SUCCESS"),
        serde_json::to_string(&success).unwrap(),
    )
    .unwrap();
    let mixed = verify(&swapped);
    assert_eq!(mixed.status.code(), Some(3), "{}", stderr_of(&mixed));
    assert!(
        stderr_of(&mixed).contains("`lift.parquet` holds rows of run"),
        "{}",
        stderr_of(&mixed)
    );

    // One byte changed in a table: exit 3 naming the table.
    let altered = dir.path().join("altered");
    Command::new("cp")
        .arg("-r")
        .arg(&partition)
        .arg(&altered)
        .status()
        .unwrap();
    let path = altered.join("metrics.parquet");
    let mut data = std::fs::read(&path).unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0xff;
    std::fs::write(&path, data).unwrap();
    let changed = verify(&altered);
    assert_eq!(changed.status.code(), Some(3), "{}", stderr_of(&changed));
    assert!(
        stderr_of(&changed).contains("`metrics.parquet`"),
        "{}",
        stderr_of(&changed)
    );

    // No `_SUCCESS`: not a complete partition, exit 4.
    std::fs::remove_file(altered.join("_SUCCESS")).unwrap();
    let incomplete = verify(&altered);
    assert_eq!(
        incomplete.status.code(),
        Some(4),
        "{}",
        stderr_of(&incomplete)
    );
    assert!(stderr_of(&incomplete).contains("no `_SUCCESS`"));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
