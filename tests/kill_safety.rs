//! A run killed with SIGKILL at any moment leaves the previous partition
//! intact and readable, nothing half-written visible to readers, and the
//! next run succeeds (docs/OUTPUTS.md, §9).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn sigkill_at_any_point_leaves_the_previous_partition_intact() {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args([
            "-q",
            "generate",
            "--accounts",
            "20000",
            "--seed",
            "3",
            "--out",
        ])
        .arg(dir.path().join("data"))
        .assert()
        .success();
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data/", "data/")
        .replace("../out/education_impact", "out");
    let pipeline = dir.path().join("pipeline.yaml");
    std::fs::write(&pipeline, text).unwrap();
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let partition = dir.path().join("out/as_of=2026-11-01");
    let tables = TABLES;
    let before: Vec<String> = tables.iter().map(|t| contents(&partition, t)).collect();
    let manifest = std::fs::read_to_string(partition.join("_manifest.json")).unwrap();

    // How long a full run takes, to spread the kills over scan, compute and write.
    let started = Instant::now();
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let full = started.elapsed();
    let after_rerun: Vec<String> = tables.iter().map(|t| contents(&partition, t)).collect();
    assert_eq!(before, after_rerun, "a rerun gives the same contents");

    for fraction in [0.05, 0.3, 0.6, 0.85, 0.95, 0.99] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("cohort-metrics"))
            .args(["-q", "run"])
            .arg(&pipeline)
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // The partition is complete: every table readable, _SUCCESS present.
        assert!(
            partition.join("_SUCCESS").exists(),
            "kill at {fraction}: _SUCCESS missing"
        );
        let now: Vec<String> = tables.iter().map(|t| contents(&partition, t)).collect();
        assert_eq!(before, now, "kill at {fraction}: contents changed");
        // Only the partition (and possibly a hidden staging directory) is in the output directory.
        for entry in std::fs::read_dir(dir.path().join("out")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                name == "as_of=2026-11-01" || name.starts_with('.'),
                "visible leftover `{name}`"
            );
        }
    }
    // The next run succeeds and cleans up any leftover staging directory.
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["as_of=2026-11-01"]);
    let after: Vec<String> = tables.iter().map(|t| contents(&partition, t)).collect();
    assert_eq!(before, after);
    assert_ne!(
        manifest,
        std::fs::read_to_string(partition.join("_manifest.json")).unwrap()
    );
    let _ = Duration::from_secs(0);
}
