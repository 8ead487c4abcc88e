//! Files a run must never touch outside what it owns (docs/OPERATING.md,
//! "Locks"): a lock file or a store lock planted as a symbolic link is
//! refused, and the file it points to is left as it was.

mod common;

use std::path::Path;

use common::*;

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// `victim.txt` beside `dir`, and a link to it at `dir/name`.
fn plant_link(dir: &Path, name: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let victim = dir.parent().unwrap().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink("../victim.txt", dir.join(name)).unwrap();
    victim
}

#[test]
fn a_partition_lock_planted_as_a_symlink_is_refused_and_its_target_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let victim = plant_link(&out, ".as_of=2026-11-01.lock");
    let output = bin()
        .arg("run")
        .arg(repo().join("pipelines/education_impact.yaml"))
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    let message = stderr_of(&output);
    assert_eq!(output.status.code(), Some(4), "{message}");
    assert!(
        message.contains(".as_of=2026-11-01.lock") && message.contains("symbolic link"),
        "{message}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!out.join("as_of=2026-11-01").exists());
}

#[test]
fn a_store_lock_planted_as_a_symlink_is_refused_and_its_target_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let victim = plant_link(&store, ".store.lock");
    let pipeline = sample_pipeline_with(
        dir.path(),
        &format!("activity: {{ store: {} }}", store.display()),
    );
    let output = bin().arg("run").arg(&pipeline).output().unwrap();
    let message = stderr_of(&output);
    assert_eq!(output.status.code(), Some(4), "{message}");
    assert!(
        message.contains(".store.lock") && message.contains("symbolic link"),
        "{message}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

/// The sample run into `dir/name`; its partition.
fn published(dir: &Path, name: &str) -> std::path::PathBuf {
    sample_run_as_of(&dir.join(name), "2026-11-01")
}

fn verify(partition: &Path) -> std::process::Output {
    bin().arg("verify").arg(partition).output().unwrap()
}

#[test]
fn report_out_as_a_link_to_a_published_page_replaces_the_link_not_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let partition = published(dir.path(), "out");
    let page = partition.join("report.html");
    let before = std::fs::read(&page).unwrap();
    let soft = dir.path().join("soft.html");
    std::os::unix::fs::symlink(&page, &soft).unwrap();
    let hard = dir.path().join("hard.html");
    std::fs::hard_link(&page, &hard).unwrap();
    for out in [&soft, &hard] {
        let output = bin()
            .arg("report")
            .arg(&partition)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert!(!std::fs::symlink_metadata(out)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(out).unwrap(), before, "the same page");
    }
    assert_eq!(std::fs::read(&page).unwrap(), before);
    assert!(verify(&partition).status.success());
    // A page into another partition is refused.
    let other = published(dir.path(), "other");
    let output = bin()
        .arg("report")
        .arg(&partition)
        .arg("--out")
        .arg(other.join("page.html"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("in a partition directory"));
    assert!(verify(&other).status.success());
}

#[test]
fn a_run_into_a_partition_is_refused_and_verify_sees_what_the_manifest_does_not_list() {
    let dir = tempfile::tempdir().unwrap();
    let partition = published(dir.path(), "out");
    let output = bin()
        .arg("run")
        .arg(repo().join("pipelines/education_impact.yaml"))
        .arg("--output")
        .arg(&partition)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("is inside a partition"));
    assert!(verify(&partition).status.success());
    // A directory put into the partition by another program.
    std::fs::create_dir(partition.join("as_of=2026-11-01")).unwrap();
    std::fs::write(partition.join("as_of=2026-11-01/x.parquet"), "x").unwrap();
    let verified = verify(&partition);
    assert_eq!(verified.status.code(), Some(3), "{}", stderr_of(&verified));
    assert!(
        stderr_of(&verified)
            .contains("`as_of=2026-11-01` is in the partition but not in its manifest"),
        "{}",
        stderr_of(&verified)
    );
}

#[test]
fn report_refuses_a_partition_that_mixes_two_runs() {
    let dir = tempfile::tempdir().unwrap();
    let partition = published(dir.path(), "out");
    let other = published(dir.path(), "other");
    // As a run killed between its uploads and its `_SUCCESS` leaves it: a
    // table of another run beside this run's `_SUCCESS`.
    std::fs::copy(other.join("lift.parquet"), partition.join("lift.parquet")).unwrap();
    let output = bin()
        .arg("report")
        .arg(&partition)
        .arg("--out")
        .arg(dir.path().join("page.html"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("lift.parquet"),
        "{}",
        stderr_of(&output)
    );
    assert!(!dir.path().join("page.html").exists());
}
