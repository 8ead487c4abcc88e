//! `activity.engine: spark`: the rollup computed by a real Spark Connect
//! server (pyspark's, on 127.0.0.1, `local[2]`, its JVM in Asia/Kolkata),
//! written to a staging directory, checked against Spark's count and read
//! as a table rollup. The same tables as the local engine; failures exit 4
//! naming the remote without its token; nothing is left in the staging
//! directory.

mod common;

use std::path::{Path, PathBuf};

use common::boundaries::*;
use common::spark::SparkServer;
use common::*;
use polars::prelude::*;

/// The `activity:` block of a pipeline on `remote` staging into `staging`.
fn spark_block(remote: &str, staging: &Path) -> String {
    format!(
        "activity:\n  engine: spark\n  spark:\n    remote: \"{remote}\"\n    staging: \"{}\"\n",
        staging.display()
    )
}

/// The sample pipeline with `activity` appended, in `dir/pipeline.yaml`.
fn sample_pipeline(dir: &Path, activity: &str) -> PathBuf {
    let sample = format!("{}/", repo().join("sample_data").display());
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data/", &sample);
    let path = dir.join("pipeline.yaml");
    std::fs::write(&path, format!("{text}{activity}")).unwrap();
    path
}

/// `run PIPELINE --output OUT` with the server's token in `SPARK_TOKEN`.
fn run(spark: &SparkServer, pipeline: &Path, out: &Path) -> std::process::Output {
    bin()
        .arg("run")
        .arg(pipeline)
        .arg("--output")
        .arg(out)
        .env("SPARK_TOKEN", &spark.token)
        .output()
        .unwrap()
}

fn succeeded(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    stderr
}

/// What is left under a staging directory.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn the_spark_engine_gives_the_tables_of_the_local_engine() {
    let Some(spark) = SparkServer::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging");
    // What a killed run left behind two days ago: removed by the next run;
    // a run still staging (its file is new) is left alone.
    let dead = staging.join("run=20260101T000000Z-deadbeef");
    std::fs::create_dir_all(&dead).unwrap();
    std::fs::write(dead.join("part-00000.parquet"), b"half").unwrap();
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
    for path in [dead.join("part-00000.parquet"), dead.clone()] {
        std::fs::File::open(&path)
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
    }
    let live = staging.join("run=20261206T000000Z-cafef00d");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::write(live.join("part-00000.parquet"), b"being written").unwrap();
    std::fs::write(staging.join("README"), b"not ours").unwrap();
    let pipeline = sample_pipeline(dir.path(), &spark_block(&spark.remote(), &staging));
    let local = dir.path().join("local");
    let remote = dir.path().join("spark");
    succeeded(&run(
        spark,
        &repo().join("pipelines/education_impact.yaml"),
        &local,
    ));
    let stderr = succeeded(&run(spark, &pipeline, &remote));
    let partition = |root: &Path| root.join("as_of=2026-11-01");
    assert_same_tables(
        &partition(&local),
        &partition(&remote),
        "the local engine against Spark's rollup",
    );
    assert!(
        stderr.contains("removed what killed runs left")
            && stderr.contains("run=20260101T000000Z-deadbeef"),
        "{stderr}"
    );
    assert_eq!(
        entries(&staging),
        ["README", "run=20261206T000000Z-cafef00d"],
        "the staging directory keeps what is not a run's, and a live run's"
    );

    // The manifest: the engine, and Spark's count = the sample's events of
    // the days read, counted here from the file.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(partition(&remote).join("_manifest.json")).unwrap(),
    )
    .unwrap();
    let activity = &manifest["activity"];
    assert_eq!(activity["engine"], "spark");
    assert_eq!(activity["first_day"], "2025-11-01");
    let day = |s: &str| lit(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
    let counted = LazyFrame::scan_parquet(
        PlRefPath::new(
            repo()
                .join("sample_data/events/part-00000.parquet")
                .to_str()
                .unwrap(),
        ),
        Default::default(),
    )
    .unwrap()
    .filter(
        col("event_time")
            .dt()
            .date()
            .gt_eq(day("2025-11-01"))
            .and(col("event_time").dt().date().lt(day("2026-11-01"))),
    )
    .select([len()])
    .collect()
    .unwrap();
    let counted = counted
        .column("len")
        .unwrap()
        .u32()
        .unwrap()
        .get(0)
        .unwrap() as u64;
    assert!(counted > 1000);
    assert_eq!(activity["spark"]["events"].as_u64(), Some(counted));
    assert_eq!(
        activity["spark"]["remote"].as_str(),
        Some(spark.remote_shown().as_str())
    );
    // The token the server required is nowhere.
    let written = std::fs::read_to_string(partition(&remote).join("_manifest.json")).unwrap();
    assert!(!written.contains(&spark.token) && !stderr.contains(&spark.token));
}

/// The fixture of `dir` with `events` as its events source, run with the
/// local engine and with Spark's: the same tables.
fn boundaries_agree(spark: &SparkServer, dir: &Path, events: &str) {
    let text = std::fs::read_to_string(dir.join("p.yaml"))
        .unwrap()
        .replace("sources:\n", &format!("sources:\n  events: {events}\n"));
    std::fs::write(dir.join("p.yaml"), &text).unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        format!(
            "{text}{}",
            spark_block(&spark.remote(), &dir.join("staging"))
        ),
    )
    .unwrap();
    let (local, remote) = (dir.join("local"), dir.join("spark"));
    succeeded(&run(spark, &dir.join("p.yaml"), &local));
    succeeded(&run(spark, &dir.join("s.yaml"), &remote));
    let partition = |root: &Path| root.join("as_of=2026-01-01");
    for name in ["metrics", "lift", "account_cohorts"] {
        let read = |root: &Path| read_table(&partition(root), name).drop("run_id").unwrap();
        assert!(
            read(&local).equals_missing(&read(&remote)),
            "{name} differs between the local engine and Spark's rollup of {events}:\n{}\n{}",
            read(&local),
            read(&remote)
        );
    }
    assert!(read_table(&partition(&remote), "metrics").height() > 0);
    assert!(entries(&dir.join("staging")).is_empty());
}

#[test]
fn the_spark_statement_keeps_utc_days_offsets_and_formats() {
    let Some(spark) = SparkServer::get() else {
        return;
    };
    for (dir, events) in boundary_fixtures() {
        boundaries_agree(spark, dir.path(), events);
    }
}

#[test]
fn a_spark_failure_exits_4_naming_the_remote_and_the_step_and_publishes_nothing() {
    let Some(spark) = SparkServer::get() else {
        return;
    };
    // A time Spark cannot read: the statement pins ANSI mode, so the query
    // fails on Spark instead of turning the value into a null day.
    let dir = fixture(EVENT_METRICS);
    std::fs::write(
        dir.path().join("events.csv"),
        "account_id,user_id,event_time,event_name\n1,11,2025-12-01T10:00:00Z,login\n1,11,not-a-time,login\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.path().join("p.yaml"))
        .unwrap()
        .replace("sources:\n", "sources:\n  events: { path: events.csv }\n");
    let pipeline = dir.path().join("s.yaml");
    std::fs::write(
        &pipeline,
        format!(
            "{text}{}",
            spark_block(&spark.remote(), &dir.path().join("staging"))
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = run(spark, &pipeline, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Spark at {}: could not write the rollup to",
            spark.remote_shown()
        )) && stderr.contains("not-a-time"),
        "{stderr}"
    );
    assert!(
        entries(&out).iter().all(|e| !e.starts_with("as_of=")),
        "{:?}",
        entries(&out)
    );
    assert!(entries(&dir.path().join("staging")).is_empty());
}

#[test]
fn an_unreachable_remote_exits_4_without_its_token() {
    // No server needed: nothing listens on port 9 of 127.0.0.1.
    let dir = tempfile::tempdir().unwrap();
    let token = "tok-spark-81c2e7a45";
    let pipeline = sample_pipeline(
        dir.path(),
        &spark_block(
            "sc://127.0.0.1:9/;token=${SPARK_CONNECTION}",
            &dir.path().join("staging"),
        ),
    );
    let output = bin()
        .arg("run")
        .arg(&pipeline)
        .arg("--output")
        .arg(dir.path().join("out"))
        .env("SPARK_CONNECTION", token)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("Spark at sc://127.0.0.1:9/;token=***: could not connect"),
        "{stderr}"
    );
    assert!(!stderr.contains(token), "the token leaks:\n{stderr}");
}

#[test]
fn a_refused_token_exits_4_without_the_token() {
    let Some(spark) = SparkServer::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wrong = "tok-wrong-5d1e0c3b9a";
    let pipeline = sample_pipeline(
        dir.path(),
        &spark_block(&spark.remote(), &dir.path().join("staging")),
    );
    let output = bin()
        .arg("run")
        .arg(&pipeline)
        .arg("--output")
        .arg(dir.path().join("out"))
        .env("SPARK_TOKEN", wrong)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Spark at {}: could not connect",
            spark.remote_shown()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(wrong) && !stderr.contains(&spark.token),
        "a token leaks:\n{stderr}"
    );
}

#[test]
fn the_spark_block_is_checked_with_the_rest_of_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging");
    let cases = [
        (
            "activity:\n  engine: spark\n".to_string(),
            "`spark` needs `activity.spark`",
        ),
        (
            format!("activity:\n  spark: {{ remote: \"sc://h:1/\", staging: \"{}\" }}\n", staging.display()),
            "read only with `activity.engine: spark`",
        ),
        (
            format!("activity:\n  engine: spark\n  spark: {{ remote: \"http://h:1/\", staging: \"{}\" }}\n", staging.display()),
            "is not a Spark Connect URL",
        ),
        (
            "activity:\n  engine: spark\n  spark: { remote: \"sc://h:1/\", staging: \"/tmp/x/*\" }\n".to_string(),
            "is a pattern",
        ),
        (
            "activity:\n  engine: spark\n  spark: { remote: \"sc://h:1/\", stage: \"/tmp/x\" }\n".to_string(),
            "unknown field `stage`",
        ),
    ];
    for (block, expected) in cases {
        let pipeline = sample_pipeline(dir.path(), &block);
        let assert = validate_exits(&pipeline, 2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains(expected), "{block}\n→ {stderr}");
    }
}

#[test]
fn a_signal_interrupts_the_running_spark_query_and_publishes_nothing() {
    let Some(spark) = SparkServer::get() else {
        return;
    };
    use std::io::{BufRead, BufReader};
    // About 11 million events: several seconds of work for Spark on 2 cores,
    // so that the signal 1 s after the rollup's write starts finds it still running
    // (with half of them a warm Spark sometimes finished first).
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    bin()
        .args([
            "-q",
            "generate",
            "--accounts",
            "5000",
            "--event-factor",
            "20",
            "--format",
            "parquet",
            "--out",
        ])
        .arg(&data)
        .assert()
        .success();
    let pipeline = dir.path().join("p.yaml");
    std::fs::write(
        &pipeline,
        format!(
            "name: signal\nsources:\n  accounts: {{ path: {d}/accounts.parquet }}\n  training: {{ path: {d}/training.parquet }}\n  \
             events: {{ path: {d}/events/ }}\ncohort: {{ window_days: 90 }}\nperiod: {{ as_of: 2026-11-01, months: 12 }}\n\
             metrics: [feature_adoption_rate]\noutput: {{ path: {o} }}\n{}",
            spark_block(&spark.remote(), &dir.path().join("staging")),
            d = data.display(),
            o = dir.path().join("out").display(),
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cohort-metrics"))
        .args(["-v", "run"])
        .arg(&pipeline)
        .env("SPARK_TOKEN", &spark.token)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    // Wait until the rollup's write has been sent to Spark (the session's
    // set-up statements before it are short operations of their own, and a
    // signal between two of them finds none running), then stop the run.
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("write the rollup to") && line.contains("started") {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(1000));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    seen.extend(lines.map(|l| l.unwrap()));
    let status = child.wait().unwrap();
    let stderr = seen.join("\n");
    assert_eq!(status.code(), Some(143), "{stderr}");
    let interrupted = seen
        .iter()
        .find(|l| l.contains("interrupted the Spark operation(s)"))
        .unwrap_or_else(|| panic!("no interruption logged:\n{stderr}"));
    assert!(!interrupted.contains("none was running"), "{stderr}");
    assert!(stderr.contains("stopped by signal 15"), "{stderr}");
    assert!(
        entries(&dir.path().join("staging")).is_empty(),
        "{:?}",
        entries(&dir.path().join("staging"))
    );
    assert!(entries(&dir.path().join("out"))
        .iter()
        .all(|e| !e.starts_with("as_of=")));
}

#[test]
fn a_store_filled_by_spark_gives_the_tables_of_full_runs() {
    let Some(spark) = SparkServer::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging");
    let block = format!(
        "{}  store: \"{}\"\n  lookback_days: 2\n",
        spark_block(&spark.remote(), &staging),
        dir.path().join("store").display()
    );
    let pipeline = sample_pipeline(dir.path(), &block);
    for as_of in ["2026-10-31", "2026-11-01"] {
        let local = sample_run_as_of(&dir.path().join("local"), as_of);
        let output = bin()
            .arg("run")
            .arg(&pipeline)
            .args(["--as-of", as_of, "--output"])
            .arg(dir.path().join("spark"))
            .env("SPARK_TOKEN", &spark.token)
            .output()
            .unwrap();
        succeeded(&output);
        let partition = |root: &Path| root.join(format!("as_of={as_of}"));
        assert_same_tables(
            &local,
            &partition(&dir.path().join("spark")),
            &format!("the local engine against a store filled by Spark, as of {as_of}"),
        );
    }
    // The second run computed on Spark only the new day and the one before.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("spark/as_of=2026-11-01/_manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["activity"]["store"]["computed_days"], 2);
    let day: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("store/day=2026-10-31/_day.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(day["engine"], "spark");
    assert!(entries(&staging).is_empty());
}
