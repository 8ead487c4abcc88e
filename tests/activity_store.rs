//! `activity.store`: the rollup kept by day between runs. Nightly runs
//! with a store give the tables of full runs; late events within
//! `lookback_days` are recomputed, older ones by the drift check; what a
//! killed run leaves does not spoil the store; a changed definition or
//! `--full-refresh` rebuilds it.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use polars::prelude::*;

/// The sample pipeline over a copy of the sample data under `dir`, with
/// `activity` appended, in `dir/NAME`.
fn pipeline(dir: &Path, name: &str, activity: &str) -> PathBuf {
    let data = dir.join("sample_data");
    if !data.exists() {
        copy_sample_data(dir);
    }
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data/", &format!("{}/", data.display()));
    let path = dir.join(name);
    std::fs::write(&path, format!("{text}{activity}")).unwrap();
    path
}

fn store_block(dir: &Path, extra: &str) -> String {
    format!(
        "activity:\n  store: \"{}\"\n  lookback_days: 3\n{extra}",
        dir.join("store").display()
    )
}

/// `run PIPELINE --as-of AS_OF --output OUT` (and `extra` arguments); the
/// partition and stderr.
fn run(pipeline: &Path, as_of: &str, out: &Path, extra: &[&str]) -> (PathBuf, String) {
    let output = bin()
        .arg("run")
        .arg(pipeline)
        .args(["--as-of", as_of, "--output"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    (out.join(format!("as_of={as_of}")), stderr)
}

fn store_entry(partition: &Path) -> serde_json::Value {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(partition.join("_manifest.json")).unwrap())
            .unwrap();
    manifest["activity"]["store"].clone()
}

/// The stored days (directories with a manifest) and every file under them.
fn stored(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut days = Vec::new();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.join("store")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with("day=") {
            continue;
        }
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let file = file.unwrap().file_name().to_string_lossy().to_string();
            if file == "_day.json" {
                days.push(name.clone());
            }
            files.push(format!("{name}/{file}"));
        }
    }
    days.sort();
    files.sort();
    (days, files)
}

#[test]
fn nightly_runs_with_a_store_give_the_tables_of_full_runs() {
    let dir = tempfile::tempdir().unwrap();
    let full = pipeline(dir.path(), "full.yaml", "");
    let nightly = pipeline(dir.path(), "nightly.yaml", &store_block(dir.path(), ""));
    let mut computed = Vec::new();
    for as_of in ["2026-10-30", "2026-10-31", "2026-11-01"] {
        let (expected, _) = run(&full, as_of, &dir.path().join("full"), &[]);
        let (actual, stderr) = run(&nightly, as_of, &dir.path().join("nightly"), &[]);
        assert_same_tables(
            &expected,
            &actual,
            &format!("a full run and a store run on {as_of}"),
        );
        let entry = store_entry(&actual);
        computed.push((
            entry["computed_days"].as_u64().unwrap(),
            entry["reused_days"].as_u64().unwrap(),
        ));
        assert!(stderr.contains("day(s) of activity computed"), "{stderr}");
    }
    // The first run computes every day it reads (a year), the next ones
    // the new day and the two before it (lookback_days: 3).
    assert_eq!(computed[0], (365, 0));
    assert_eq!(computed[1], (3, 362));
    assert_eq!(computed[2], (3, 362));
    // keep_days defaults to the days the metrics read: the store holds the
    // last run's year (2025-11-01 … 2026-10-31), one file per day with events.
    let (days, files) = stored(dir.path());
    assert_eq!(days.len(), 365);
    assert_eq!(days.first().unwrap(), "day=2025-11-01");
    assert_eq!(days.last().unwrap(), "day=2026-10-31");
    assert!(files.iter().filter(|f| f.ends_with(".parquet")).count() <= 365);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("store/day=2026-10-31/_day.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["engine"], "local");
    assert!(manifest["source_rows"].as_u64().unwrap() > 0);
}

/// Adds `rows` (account, user, UTC time, name) to the copy's events as a
/// file of their own.
fn add_events(dir: &Path, name: &str, rows: &[(i64, i64, &str, &str)]) {
    let original = ParquetReader::new(
        std::fs::File::open(dir.join("sample_data/events/part-00000.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let times: Vec<i64> = rows
        .iter()
        .map(|r| {
            chrono::DateTime::parse_from_rfc3339(r.2)
                .unwrap()
                .timestamp_micros()
        })
        .collect();
    let frame = df!(
        "account_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "user_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "event_time" => times,
        "event_name" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    )
    .unwrap();
    // The sample's own column types, so that the files read as one source.
    let schema = original.schema();
    let mut frame = frame
        .lazy()
        .with_columns(
            schema
                .iter()
                .map(|(name, dtype)| col(name.as_str()).cast(dtype.clone()))
                .collect::<Vec<_>>(),
        )
        .collect()
        .unwrap();
    ParquetWriter::new(
        std::fs::File::create(dir.join(format!("sample_data/events/{name}"))).unwrap(),
    )
    .finish(&mut frame)
    .unwrap();
}

/// The first account and user of the sample's events.
fn someone(dir: &Path) -> (i64, i64) {
    let events = ParquetReader::new(
        std::fs::File::open(dir.join("sample_data/events/part-00000.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let get = |c: &str| {
        events
            .column(c)
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap()
    };
    (get("account_id"), get("user_id"))
}

#[test]
fn late_events_are_picked_up_within_the_lookback_and_by_the_drift_check() {
    let dir = tempfile::tempdir().unwrap();
    let full = pipeline(dir.path(), "full.yaml", "");
    let nightly = pipeline(dir.path(), "nightly.yaml", &store_block(dir.path(), ""));
    run(&nightly, "2026-10-31", &dir.path().join("nightly"), &[]);
    // Events that arrive after that run: one two days back (within the
    // lookback) and two 40 days back (beyond it), for a new event name so
    // that feature adoption changes.
    let (account, user) = someone(dir.path());
    add_events(
        dir.path(),
        "part-late.parquet",
        &[
            (account, user, "2026-10-30T12:00:00Z", "late_feature"),
            (account, user, "2026-09-21T23:59:59Z", "late_feature"),
            (account, user, "2026-09-21T00:00:00Z", "late_feature"),
        ],
    );
    let (expected, _) = run(&full, "2026-11-01", &dir.path().join("full"), &[]);
    let (actual, stderr) = run(&nightly, "2026-11-01", &dir.path().join("nightly"), &[]);
    assert_same_tables(
        &expected,
        &actual,
        "a full run and a store run after late events",
    );
    let entry = store_entry(&actual);
    assert_eq!(entry["computed_days"], 4, "{entry}");
    let drifted: Vec<String> = entry["drifted_days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert_eq!(drifted.len(), 1, "{drifted:?}");
    assert!(drifted[0].starts_with("2026-09-21 (stored "), "{drifted:?}");
    assert!(stderr.contains("differ from the events source"), "{stderr}");

    // Without the drift check, the days beyond the lookback stay as stored:
    // the documented miss. The store's 2026-09-21 was recomputed above, so
    // a fresh store shows it: built before the late file, then run after it.
    let other = tempfile::tempdir().unwrap();
    let without = pipeline(
        other.path(),
        "nightly.yaml",
        &store_block(other.path(), "  drift_check: false\n"),
    );
    run(&without, "2026-10-31", &other.path().join("nightly"), &[]);
    add_events(
        other.path(),
        "part-late.parquet",
        &[(account, user, "2026-09-21T00:00:00Z", "late_feature")],
    );
    let (missed, _) = run(&without, "2026-11-01", &other.path().join("nightly"), &[]);
    assert_eq!(store_entry(&missed)["computed_days"], 3);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(other.path().join("store/day=2026-09-21/_day.json")).unwrap(),
    )
    .unwrap();
    let full_other = pipeline(other.path(), "full.yaml", "");
    let (truth, _) = run(&full_other, "2026-11-01", &other.path().join("full"), &[]);
    let differs = ["metrics", "lift"].iter().any(|t| {
        !read_table(&truth, t)
            .drop("run_id")
            .unwrap()
            .equals_missing(&read_table(&missed, t).drop("run_id").unwrap())
    });
    assert!(
        differs,
        "the late event should be missed without the drift check"
    );
    assert!(manifest["source_rows"].as_u64().is_some());
}

#[test]
fn what_a_killed_run_leaves_does_not_spoil_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let full = pipeline(dir.path(), "full.yaml", "");
    let nightly = pipeline(dir.path(), "nightly.yaml", &store_block(dir.path(), ""));
    run(&nightly, "2026-11-01", &dir.path().join("nightly"), &[]);
    let store = dir.path().join("store");
    // A day whose new file was written but not its manifest (killed between
    // the two), a day whose manifest names a file that is gone, a day with
    // a file and no manifest at all, and a manifest's temporary file.
    std::fs::write(
        store.join("day=2026-06-10/part-killed.parquet"),
        b"half a file",
    )
    .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(store.join("day=2026-06-11/_day.json")).unwrap(),
    )
    .unwrap();
    std::fs::remove_file(
        store
            .join("day=2026-06-11")
            .join(manifest["file"].as_str().unwrap()),
    )
    .unwrap();
    std::fs::remove_file(store.join("day=2026-06-12/_day.json")).unwrap();
    std::fs::write(store.join("day=2026-06-13/_day.tmp"), b"{").unwrap();
    let (expected, _) = run(&full, "2026-11-01", &dir.path().join("full"), &[]);
    let (actual, _) = run(&nightly, "2026-11-01", &dir.path().join("nightly"), &[]);
    assert_same_tables(
        &expected,
        &actual,
        "a full run and a store run after a killed run",
    );
    // The two missing days and the lookback's three were computed.
    assert_eq!(store_entry(&actual)["computed_days"], 5);
    let (days, files) = stored(dir.path());
    assert_eq!(days.len(), 365);
    assert!(
        files
            .iter()
            .all(|f| !f.contains("killed") && !f.ends_with(".tmp")),
        "{files:?}"
    );
    // One file per day with rows: every stored file is named by its manifest.
    let parquet = files.iter().filter(|f| f.ends_with(".parquet")).count();
    let named = days
        .iter()
        .filter(|d| {
            let m: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(store.join(d).join("_day.json")).unwrap(),
            )
            .unwrap();
            !m["file"].is_null()
        })
        .count();
    assert_eq!(parquet, named);
}

#[test]
fn a_changed_definition_or_a_full_refresh_rebuilds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let nightly = pipeline(dir.path(), "nightly.yaml", &store_block(dir.path(), ""));
    run(&nightly, "2026-11-01", &dir.path().join("nightly"), &[]);
    let (refreshed, _) = run(
        &nightly,
        "2026-11-01",
        &dir.path().join("nightly"),
        &["--full-refresh"],
    );
    let entry = store_entry(&refreshed);
    assert_eq!(entry["computed_days"], 365);
    assert_eq!(entry["rebuilt"], "`run --full-refresh`");

    // The same events under a mapping written out: the definition changed.
    let text = std::fs::read_to_string(&nightly).unwrap().replace(
        "format: parquet }",
        "format: parquet, columns: { event_name: event_name } }",
    );
    assert!(text.contains("columns: { event_name: event_name }"));
    std::fs::write(&nightly, text).unwrap();
    let (rebuilt, stderr) = run(&nightly, "2026-11-01", &dir.path().join("nightly"), &[]);
    let entry = store_entry(&rebuilt);
    assert_eq!(entry["computed_days"], 365);
    assert!(
        stderr.contains("rebuilding every stored day")
            && stderr.contains("`sources.events.columns`"),
        "{stderr}"
    );
    let full = pipeline(dir.path(), "full.yaml", "");
    let (expected, _) = run(&full, "2026-11-01", &dir.path().join("full"), &[]);
    assert_same_tables(&expected, &rebuilt, "a full run and a rebuilt store");
}

#[test]
fn the_store_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "activity:\n  lookback_days: 2\n",
            "`activity.lookback_days`: read only with `activity.store`",
        ),
        (
            "activity:\n  engine: table\n  store: /tmp/s\n  table: { path: /tmp/t.parquet }\n",
            "`activity.store`: keeps what `engine: local` or `spark` computes",
        ),
        ("activity:\n  store: \"/tmp/s/*\"\n", "is a pattern"),
        (
            "activity:\n  store: /tmp/s\n  keep_days: 0\n",
            "`activity.keep_days` must be at least 1",
        ),
    ];
    for (block, expected) in cases {
        let path = pipeline(dir.path(), "p.yaml", block);
        let assert = validate_exits(&path, 2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains(expected), "{block}\n→ {stderr}");
    }
}

#[test]
fn a_run_waits_for_the_store_lock_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let nightly = pipeline(dir.path(), "nightly.yaml", &store_block(dir.path(), ""));
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    // Another process holds the store's lock (an exclusive flock, as a run
    // takes it) until its stdin closes.
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import fcntl, sys; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
        ])
        .arg(store.join(".store.lock"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "held");
    let output = bin()
        .arg("run")
        .arg(&nightly)
        .arg("--output")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains(".store.lock"), "{stderr}");
    // `output.lock: none` leaves the partition unlocked, not the store.
    let unlocked = bin()
        .arg("run")
        .arg(&nightly)
        .args(["--set", "output.lock=none", "--output"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&unlocked.stderr);
    assert_eq!(unlocked.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains(".store.lock"), "{stderr}");
    drop(holder.stdin.take());
    holder.wait().unwrap();
    // Released: the run goes through.
    run(&nightly, "2026-11-01", &dir.path().join("out"), &[]);
}

#[test]
fn runs_killed_while_filling_the_store_leave_it_usable() {
    let dir = tempfile::tempdir().unwrap();
    let full = pipeline(dir.path(), "full.yaml", "");
    let nightly = pipeline(dir.path(), "nightly.yaml", &store_block(dir.path(), ""));
    // How long the store takes to fill, to spread the kills over it.
    let started = std::time::Instant::now();
    run(&nightly, "2026-10-31", &dir.path().join("timing"), &[]);
    let fill = started.elapsed();
    std::fs::remove_dir_all(dir.path().join("store")).unwrap();
    for (i, fraction) in [0.1, 0.3, 0.5, 0.7, 0.9].into_iter().enumerate() {
        // Each kill lands on the store the previous killed runs left, with
        // another day as of, so that the runs write different days.
        let as_of = [
            "2026-10-27",
            "2026-10-28",
            "2026-10-29",
            "2026-10-30",
            "2026-10-31",
        ][i];
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cohort-metrics"))
            .args(["-q", "run"])
            .arg(&nightly)
            .args(["--as-of", as_of, "--output"])
            .arg(dir.path().join("killed"))
            .spawn()
            .unwrap();
        std::thread::sleep(fill.mul_f64(fraction));
        let _ = child.kill(); // SIGKILL: no cleanup at all
        let _ = child.wait();
    }
    let (expected, _) = run(&full, "2026-11-01", &dir.path().join("full"), &[]);
    let (actual, _) = run(&nightly, "2026-11-01", &dir.path().join("nightly"), &[]);
    assert_same_tables(
        &expected,
        &actual,
        "a full run and a store run after killed runs",
    );
    // Every stored file is named by its day's manifest.
    let (days, files) = stored(dir.path());
    assert_eq!(days.len(), 365);
    assert!(files.iter().all(|f| !f.ends_with(".tmp")), "{files:?}");
    let named = days
        .iter()
        .filter(|d| {
            let m: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.path().join("store").join(d).join("_day.json"))
                    .unwrap(),
            )
            .unwrap();
            !m["file"].is_null()
        })
        .count();
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".parquet")).count(),
        named
    );
}

/// `run PIPELINE --as-of 2026-11-01 --output OUT`, asserted to exit 3; its
/// stderr.
fn run_exits_3(pipeline: &Path, out: &Path) -> String {
    let output = bin()
        .arg("run")
        .arg(pipeline)
        .args(["--as-of", "2026-11-01", "--output"])
        .arg(out)
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(3), "{message}");
    message
}

/// The Parquet file of a stored day.
fn day_file(dir: &Path, day: &str) -> PathBuf {
    std::fs::read_dir(dir.join(format!("store/day={day}")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap()
}

#[test]
fn a_day_file_copied_over_another_is_exit_3_naming_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), "p.yaml", &store_block(dir.path(), ""));
    run(&pipeline, "2026-11-01", &dir.path().join("out"), &[]);
    // One day's file copied over another's, under the other's name.
    std::fs::copy(
        day_file(dir.path(), "2026-06-11"),
        day_file(dir.path(), "2026-06-10"),
    )
    .unwrap();
    let message = run_exits_3(&pipeline, &dir.path().join("again"));
    assert!(
        message.contains("activity store: day 2026-06-10")
            && message.contains("is not the file its manifest describes")
            && message.contains("--full-refresh"),
        "{message}"
    );
    assert!(!dir.path().join("again/as_of=2026-11-01").exists());
    // `--full-refresh` recomputes it: the tables of a full run.
    let (partition, _) = run(
        &pipeline,
        "2026-11-01",
        &dir.path().join("refreshed"),
        &["--full-refresh"],
    );
    let full = sample_run_as_of(&dir.path().join("full"), "2026-11-01");
    assert_same_tables(&full, &partition, "after --full-refresh");
}

/// The rows of a stored day.
fn day_rows(dir: &Path, day: &str) -> DataFrame {
    ParquetReader::new(std::fs::File::open(day_file(dir, day)).unwrap())
        .finish()
        .unwrap()
}

/// Writes `rows` as a stored day's file and records that file in the day's
/// manifest (rows, size, sha256), as a run that wrote it would have.
fn rewrite_day(dir: &Path, day: &str, mut rows: DataFrame) {
    let file = day_file(dir, day);
    ParquetWriter::new(std::fs::File::create(&file).unwrap())
        .finish(&mut rows)
        .unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let manifest_path = file.parent().unwrap().join("_day.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["rows"] = (rows.height() as u64).into();
    manifest["bytes"] = (bytes.len() as u64).into();
    manifest["sha256"] = cohort_metrics::storage::checksum::sha256_hex(&bytes).into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
}

/// docs/INPUTS.md "The activity store's rollup": a stored day is one
/// group-by of its rows, read only as its manifest recorded it, so its key
/// is not checked for copies again (the largest part of a nightly run's
/// check); a day changed behind its manifest is still exit 3 (above).
/// Here a day holds a key twice with a manifest that records the file as
/// it is (as a build that wrote copies would have left it): the store
/// reads it, where the same rows from `activity.table` break the rule
/// (tests/activity_table.rs). A row of another day in a day's file is
/// still exit 3, its manifest notwithstanding.
#[test]
fn the_stores_own_days_are_not_checked_for_copies_of_a_key_again() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), "p.yaml", &store_block(dir.path(), ""));
    run(&pipeline, "2026-11-01", &dir.path().join("out"), &[]);
    let rows = day_rows(dir.path(), "2026-06-10");
    rewrite_day(
        dir.path(),
        "2026-06-10",
        rows.vstack(&rows.slice(0, 1)).unwrap(),
    );
    let (partition, stderr) = run(&pipeline, "2026-11-01", &dir.path().join("again"), &[]);
    assert!(!stderr.contains("must be unique together"), "{stderr}");
    assert_eq!(
        store_entry(&partition)["reused_days"]
            .as_u64()
            .map(|d| d > 0),
        Some(true)
    );
    // A row of 2026-06-11 in 2026-06-10's file.
    let other = day_rows(dir.path(), "2026-06-11").slice(0, 1);
    rewrite_day(dir.path(), "2026-06-10", rows.vstack(&other).unwrap());
    let message = run_exits_3(&pipeline, &dir.path().join("third"));
    assert!(
        message.contains("activity store: day 2026-06-10")
            && message.contains("1 rows of another day than 2026-06-10"),
        "{message}"
    );
}
