//! The activity layer reads only the days the metrics look at: events files
//! (and row groups) outside them are skipped, so their rows are neither read
//! nor checked; inside them every row is checked.

mod common;

use std::path::Path;

use common::*;
use polars::prelude::*;

/// The first day the sample pipeline's metrics read (its period start S;
/// the longest window, 30 days, starts later), and the raw predicate's
/// margin of one day before it.
const FIRST_READ: &str = "2025-10-31";

fn run_on(data: &Path, dir: &Path) -> std::process::Output {
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data/", &format!("{}/", data.display()));
    let pipeline = dir.join("pipeline.yaml");
    std::fs::write(&pipeline, text).unwrap();
    bin()
        .arg("run")
        .arg(&pipeline)
        .arg("--output")
        .arg(dir.join("out"))
        .output()
        .unwrap()
}

#[test]
fn events_before_the_days_read_are_not_read_and_not_checked() {
    // Broken rows in a file whose every event is two weeks before the first day read: skipped, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let data = sample_split_at(dir.path(), "2025-10-15T00:00:00Z", Some(true));
    let output = run_on(&data, dir.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The manifest counts the events read: those of the new file only.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/as_of=2026-11-01/_manifest.json")).unwrap(),
    )
    .unwrap();
    let new_rows =
        ParquetReader::new(std::fs::File::open(data.join("events/part-new.parquet")).unwrap())
            .finish()
            .unwrap()
            .height() as u64;
    let read = manifest["inputs"]
        .as_array()
        .and_then(|inputs| inputs.iter().find(|i| i["source"] == "events"))
        .and_then(|events| events["rows_read"].as_u64());
    assert_eq!(manifest["activity"]["first_day"], "2025-11-01");
    assert_eq!(manifest["activity"]["rows_in"].as_u64(), read);
    assert!(
        read.is_some_and(|n| n <= new_rows),
        "events read {read:?}, new file {new_rows} rows: {manifest}"
    );

    // The same broken rows among the days read: exit 3 naming the rule.
    let dir = tempfile::tempdir().unwrap();
    let data = sample_split_at(dir.path(), "2025-10-15T00:00:00Z", Some(false));
    let output = run_on(&data, dir.path());
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("event_name") && stderr.contains("must not be null"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/as_of=2026-11-01").exists());
}

#[test]
fn splitting_the_events_by_time_changes_no_number() {
    // The same events in two time-ordered files, split inside the days read (at FIRST_READ + 10 days) and
    // before them: every table equals the run on the bundled single file.
    let reference = tempfile::tempdir().unwrap();
    let output = run_on(&repo().join("sample_data"), reference.path());
    assert!(output.status.success());
    for split in ["2025-11-10T12:00:00Z", "2025-10-01T00:00:00Z"] {
        let dir = tempfile::tempdir().unwrap();
        let data = sample_split_at(dir.path(), split, None);
        let output = run_on(&data, dir.path());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_same_tables(
            &reference.path().join("out/as_of=2026-11-01"),
            &dir.path().join("out/as_of=2026-11-01"),
            &format!("the events split at {split} (first day read {FIRST_READ})"),
        );
    }
}

#[test]
fn explain_shows_each_reduction_once_with_the_day_bounds_at_the_reader() {
    let output = bin()
        .arg("explain")
        .arg(repo().join("pipelines/education_impact.yaml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan = String::from_utf8(output.stdout).unwrap();
    let headers: Vec<&str> = plan.lines().filter(|l| l.starts_with("== ")).collect();
    let activity: Vec<&&str> = headers
        .iter()
        .filter(|h| h.starts_with("== activity: "))
        .collect();
    for key in [
        "names_used:account:2025-11-01",
        "summary:account",
        "summary:user",
    ] {
        let header = format!("== activity: {key} ==");
        assert_eq!(
            headers.iter().filter(|h| **h == header).count(),
            1,
            "{header} in {headers:?}"
        );
    }
    // The activity first, then the metrics over it.
    assert!(
        headers[..activity.len()]
            .iter()
            .all(|h| h.starts_with("== activity: ")),
        "{headers:?}"
    );
    // Each reduction's events scan carries the day bounds, a day wider, as a predicate of the reader.
    let summary = plan
        .split("== activity: summary:account ==")
        .nth(1)
        .unwrap();
    let summary = summary.split("\n== ").next().unwrap();
    assert!(
        summary.contains(
            "SELECTION: (col(\"event_time\") >= 2025-10-31 00:00:00 UTC) & (col(\"event_time\") < 2026-11-02 00:00:00 UTC)"
        ),
        "{summary}"
    );
}

#[test]
fn generated_events_are_written_by_month_in_time_order() {
    // As time-partitioned exports arrive: each events file covers one UTC month, and the files in
    // name order are in time order.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let output = bin()
        .args([
            "-q",
            "generate",
            "--accounts",
            "300",
            "--format",
            "parquet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut months = Vec::new();
    for file in std::fs::read_dir(out.join("events")).unwrap() {
        let path = file.unwrap().path();
        let span = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap()
            .lazy()
            .select([
                col("event_time")
                    .min()
                    .dt()
                    .strftime("%Y-%m")
                    .alias("first"),
                col("event_time").max().dt().strftime("%Y-%m").alias("last"),
            ])
            .collect()
            .unwrap();
        let month = |c: &str| {
            span.column(c)
                .unwrap()
                .str()
                .unwrap()
                .get(0)
                .unwrap()
                .to_string()
        };
        assert_eq!(
            month("first"),
            month("last"),
            "{} spans months",
            path.display()
        );
        months.push((path.file_name().unwrap().to_owned(), month("first")));
    }
    months.sort();
    let in_name_order: Vec<&String> = months.iter().map(|(_, m)| m).collect();
    assert!(in_name_order.windows(2).all(|w| w[0] <= w[1]), "{months:?}");
    let mut distinct = in_name_order.clone();
    distinct.dedup();
    assert!(distinct.len() > 12, "{months:?}");
}

#[test]
fn events_are_read_once_by_their_data_rules_and_the_activity_fold() {
    // The sample pipeline's event metrics: the fold rides the events' data rules (`-v` says
    // so), and no other pass over events is made.
    let dir = tempfile::tempdir().unwrap();
    let log = stderr_of_success(
        bin()
            .arg("-v")
            .arg("run")
            .arg(repo().join("pipelines/education_impact.yaml"))
            .arg("--output")
            .arg(dir.path().join("out")),
    );
    let count = |text: &str| log.lines().filter(|l| l.contains(text)).count();
    assert_eq!(count("checking source `events`"), 1, "{log}");
    assert_eq!(count("one pass (with the data rules of events"), 1, "{log}");
    assert_eq!(count("computing the activity of events"), 0, "{log}");
}
