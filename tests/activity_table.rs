//! `activity.engine: table`: the event metrics read a daily rollup someone
//! else computed instead of the events. The same rollup gives the same
//! tables as the local engine; a rollup that is stale, counts no event in
//! a row, or is configured beside `sources.events` is refused.

mod common;

use std::path::{Path, PathBuf};

use common::boundaries::*;
use common::*;
use polars::prelude::*;

/// The sample's events rolled up by (account, user, UTC day, event name),
/// written to `dir/rollup.parquet` after `edit`.
fn rollup(dir: &Path, edit: impl FnOnce(LazyFrame) -> LazyFrame) -> PathBuf {
    let events = ParquetReader::new(
        std::fs::File::open(repo().join("sample_data/events/part-00000.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let mut frame = edit(
        events
            .lazy()
            .group_by([
                col("account_id"),
                col("user_id"),
                col("event_time").dt().date().alias("day"),
                col("event_name"),
            ])
            .agg([len().alias("events")]),
    )
    .sort(
        ["day", "account_id", "user_id", "event_name"],
        Default::default(),
    )
    .collect()
    .unwrap();
    let path = dir.join("rollup.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    path
}

/// The sample pipeline with `sources.events` replaced by `activity`
/// (`events_too`: kept beside it), written to `dir/pipeline.yaml`.
fn pipeline(dir: &Path, activity: &str, events_too: bool) -> PathBuf {
    let original = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml")).unwrap();
    let sample = format!("{}/", repo().join("sample_data").display());
    let mut text: String = original
        .lines()
        .filter(|line| events_too || !line.trim_start().starts_with("events:"))
        .map(|line| format!("{line}\n"))
        .collect();
    text = text.replace("../sample_data/", &sample);
    text.push_str(activity);
    let path = dir.join("pipeline.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(pipeline: &Path, out: &Path) -> std::process::Output {
    bin()
        .arg("run")
        .arg(pipeline)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap()
}

/// Runs the sample pipeline with the local engine and with `table` as the
/// rollup, asserts that every table is the same, and returns both
/// manifests (local, table).
fn same_as_local(dir: &Path, table: &Path, context: &str) -> [serde_json::Value; 2] {
    let runs = [
        (
            repo().join("pipelines/education_impact.yaml"),
            dir.join("local"),
        ),
        (pipeline(dir, &table_block(table), false), dir.join("table")),
    ];
    for (path, out) in &runs {
        let output = run(path, out);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let partition = |i: usize| runs[i].1.join("as_of=2026-11-01");
    assert_same_tables(&partition(0), &partition(1), context);
    [0, 1].map(|i| {
        serde_json::from_str(&std::fs::read_to_string(partition(i).join("_manifest.json")).unwrap())
            .unwrap()
    })
}

#[test]
fn a_rollup_table_gives_the_tables_of_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let table = rollup(dir.path(), |f| f);
    let [local, manifest] = same_as_local(
        dir.path(),
        &table,
        "the local engine against the rollup table",
    );
    assert_eq!(manifest["activity"]["engine"], "table");
    // Fewer rows than events: the rollup folds the events of a day.
    let rows_in = |m: &serde_json::Value| m["activity"]["rows_in"].as_u64().unwrap();
    assert!(rows_in(&manifest) < rows_in(&local), "{manifest}");
}

/// `day` as days since 1970-01-01, to compare with a date.
fn day(text: &str) -> Expr {
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    lit((date - epoch).num_days() as i32)
}

/// A run over `table`, asserted to fail with `code` and to publish nothing;
/// its error output.
fn refused(dir: &Path, activity: &str, events_too: bool, code: i32) -> String {
    let path = pipeline(dir, activity, events_too);
    let out = dir.join("out");
    let output = run(&path, &out);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(!out.join("as_of=2026-11-01").exists());
    stderr
}

fn table_block(table: &Path) -> String {
    format!(
        "activity:\n  engine: table\n  table: {{ path: {} }}\n",
        table.display()
    )
}

#[test]
fn a_rollup_row_without_events_is_refused() {
    // Rows of 2026-10-15 count 0 events: they would make their subjects active.
    let dir = tempfile::tempdir().unwrap();
    let table = rollup(dir.path(), |f| {
        let zero = col("day").cast(DataType::Int32).eq(day("2026-10-15"));
        f.with_column(
            when(zero)
                .then(lit(0u32))
                .otherwise(col("events"))
                .alias("events"),
        )
    });
    let stderr = refused(dir.path(), &table_block(&table), false, 3);
    assert!(
        stderr.contains("`events`")
            && stderr.contains("whole number ≥ 1")
            && stderr.contains("2026-10-15"),
        "{stderr}"
    );
}

#[test]
fn a_rollup_with_a_key_written_twice_is_refused() {
    // The rows of 2026-10-20 written twice (a producer that appended a day again).
    let dir = tempfile::tempdir().unwrap();
    let table = rollup(dir.path(), |f| {
        let again = f
            .clone()
            .filter(col("day").cast(DataType::Int32).eq(day("2026-10-20")));
        concat([f, again], UnionArgs::default()).unwrap()
    });
    let stderr = refused(dir.path(), &table_block(&table), false, 3);
    assert!(
        stderr.contains("account_id, user_id, event_time, event_name")
            && stderr.contains("must be unique together")
            && stderr.contains("2026-10-20"),
        "{stderr}"
    );
    // A null user is a key value like any other: user ids dropped on 2026-10-21 without grouping again
    // leave one row per former user under (account, no user, day, event).
    let table = rollup(dir.path(), |f| {
        let that_day = col("day").cast(DataType::Int32).eq(day("2026-10-21"));
        f.with_column(
            when(that_day)
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(col("user_id"))
                .alias("user_id"),
        )
    });
    let stderr = refused(dir.path(), &table_block(&table), false, 3);
    assert!(
        stderr.contains("must be unique together") && stderr.contains("2026-10-21"),
        "{stderr}"
    );
}

#[test]
fn a_rollup_that_stops_before_as_of_is_refused() {
    // The job stopped three days early: the days up to 2026-10-31 are needed.
    let dir = tempfile::tempdir().unwrap();
    let table = rollup(dir.path(), |f| {
        f.filter(col("day").cast(DataType::Int32).lt(day("2026-10-29")))
    });
    let stderr = refused(dir.path(), &table_block(&table), false, 3);
    assert!(
        stderr.contains("ends on 2026-10-28") && stderr.contains("up to 2026-10-31"),
        "{stderr}"
    );
}

#[test]
fn a_rollup_needs_its_columns_and_a_clear_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let table = rollup(dir.path(), |f| f.drop(cols(["events"])));
    let stderr = refused(dir.path(), &table_block(&table), false, 3);
    assert!(
        stderr.contains("events") && stderr.contains("rollup.parquet"),
        "{stderr}"
    );

    let table = rollup(dir.path(), |f| f);
    let stderr = refused(dir.path(), &table_block(&table), true, 2);
    assert!(stderr.contains("instead of `sources.events`"), "{stderr}");
    let stderr = refused(dir.path(), "activity:\n  engine: table\n", false, 2);
    assert!(stderr.contains("needs `activity.table`"), "{stderr}");
    let stderr = refused(
        dir.path(),
        &format!("activity:\n  table: {{ path: {} }}\n", table.display()),
        true,
        2,
    );
    assert!(
        stderr.contains("only with `activity.engine: table`"),
        "{stderr}"
    );
}

/// `activity-sql --dialect DIALECT PIPELINE`'s statement (with
/// `--table analytics.events` for the dialects that read tables).
fn sql_for(pipeline: &Path, dialect: &str) -> String {
    let table: &[&str] = match dialect {
        "duckdb" | "spark" => &[],
        _ => &["--table", "analytics.events"],
    };
    let output = bin()
        .args(["activity-sql", "--dialect", dialect])
        .args(table)
        .arg(pipeline)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `activity-sql` of the sample pipeline in `dialect`, with the sample's
/// absolute directory written as `SAMPLE` (so that the text does not depend
/// on where the repository is).
fn activity_sql(dialect: &str) -> String {
    let sample = std::path::absolute(repo().join("sample_data")).unwrap();
    sql_for(&repo().join("pipelines/education_impact.yaml"), dialect)
        .replace(&sample.display().to_string(), "SAMPLE")
}

#[test]
fn activity_sql_matches_its_golden_files() {
    // A change to a statement shows here; rewrite the files with UPDATE_GOLDEN=1 after checking it.
    for dialect in ["duckdb", "spark", "trino", "bigquery", "snowflake"] {
        let path = repo().join(format!("tests/golden/activity_sql.{dialect}.sql"));
        let sql = activity_sql(dialect);
        if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &sql).unwrap();
        }
        let golden = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            sql,
            golden,
            "activity-sql --dialect {dialect} differs from {}",
            path.display()
        );
    }
}

/// Whether DuckDB's Python package is here; a loud skip otherwise (an error on CI).
fn duckdb_available() -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let message = "DuckDB is not installed: `pip install duckdb` (the README's test set-up) to run the activity-sql test";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}; CI must run it");
        }
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
    }
    found
}

/// Runs `sql` (statements separated by `;`) with DuckDB and copies the
/// last one's result to `dir/rollup.parquet`, which it returns.
fn duckdb_rollup(dir: &Path, sql: &str) -> PathBuf {
    let statement = dir.join("rollup.sql");
    std::fs::write(&statement, sql).unwrap();
    let table = dir.join("rollup.parquet");
    let script = "import duckdb, sys\n\
        text = open(sys.argv[1]).read().strip().rstrip(';')\n\
        *setup, select = [s for s in text.split(';') if s.strip()]\n\
        con = duckdb.connect()\n\
        [con.execute(s) for s in setup]\n\
        con.execute(\"COPY (\" + select + \") TO '\" + sys.argv[2] + \"' (FORMAT parquet)\")\n";
    // In a time zone far from UTC, as a warehouse session may be: the
    // statement must pin UTC itself.
    let output = std::process::Command::new("python3")
        .env("TZ", "Asia/Kolkata")
        .args(["-c", script])
        .arg(&statement)
        .arg(&table)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "DuckDB refused the statement:\n{sql}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    table
}

#[test]
fn the_duckdb_statement_gives_the_tables_of_the_local_engine() {
    if !duckdb_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sample = std::path::absolute(repo().join("sample_data")).unwrap();
    let sql = activity_sql("duckdb").replace("SAMPLE", &sample.display().to_string());
    let table = duckdb_rollup(dir.path(), &sql);
    same_as_local(
        dir.path(),
        &table,
        "the local engine against DuckDB's rollup",
    );
}

/// `p.yaml` of `dir` with `events` as its events source, run with the
/// local engine and with DuckDB's rollup of it: the same tables.
fn boundaries_agree(dir: &Path, events: &str) {
    let text = std::fs::read_to_string(dir.join("p.yaml"))
        .unwrap()
        .replace("sources:\n", &format!("sources:\n  events: {events}\n"));
    std::fs::write(dir.join("p.yaml"), &text).unwrap();
    let table = duckdb_rollup(dir, &sql_for(&dir.join("p.yaml"), "duckdb"));
    let local = dir.join("local");
    let output = run(&dir.join("p.yaml"), &local);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let without_events: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("events:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        dir.join("t.yaml"),
        format!("{without_events}{}", table_block(&table)),
    )
    .unwrap();
    let out = dir.join("table");
    let output = run(&dir.join("t.yaml"), &out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let partition = |root: &Path| root.join("as_of=2026-01-01");
    // The metrics and lift tables (the fixture writes no health or curve tables).
    for name in ["metrics", "lift", "account_cohorts"] {
        let read = |root: &Path| read_table(&partition(root), name).drop("run_id").unwrap();
        assert!(
            read(&local).equals_missing(&read(&out)),
            "{name} differs between the local engine and DuckDB's rollup of {events}"
        );
    }
    let metrics = read_table(&partition(&out), "metrics");
    assert!(metrics.height() > 0);
}

#[test]
fn the_duckdb_statement_keeps_utc_days_offsets_and_formats() {
    if !duckdb_available() {
        return;
    }
    for (dir, events) in boundary_fixtures() {
        boundaries_agree(dir.path(), events);
    }
}

#[test]
fn activity_sql_refuses_what_it_cannot_write() {
    let sample = repo().join("pipelines/education_impact.yaml");
    // A warehouse dialect needs the table to read.
    let output = bin()
        .args(["activity-sql", "--dialect", "snowflake"])
        .arg(&sample)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("reads tables, not files: give `--table NAME`"),
        "{stderr}"
    );
    // A strftime format Spark cannot parse, named with the option.
    let dir = fixture("[feature_adoption_rate]");
    std::fs::write(
        dir.path().join("events.csv"),
        "account_id,event_time,event_name\n1,20/11/2025 10:00,login\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.path().join("p.yaml"))
        .unwrap()
        .replace(
            "sources:\n",
            "sources:\n  events: { path: events.csv, types: { event_time: \"%d/%m/%Y %H:%M\" } }\n",
        );
    std::fs::write(dir.path().join("p.yaml"), text).unwrap();
    let output = bin()
        .args(["activity-sql", "--dialect", "spark"])
        .arg(dir.path().join("p.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`sources.events.types.event_time`") && stderr.contains("dialect spark"),
        "{stderr}"
    );
    // DuckDB takes the same format.
    assert!(sql_for(&dir.path().join("p.yaml"), "duckdb")
        .contains("strptime(\"event_time\", '%d/%m/%Y %H:%M')"));
    // A pipeline whose rollup comes from a table has none to write.
    let table_dir = tempfile::tempdir().unwrap();
    let table = rollup(table_dir.path(), |f| f);
    let path = pipeline(table_dir.path(), &table_block(&table), false);
    let output = bin()
        .args(["activity-sql", "--dialect", "duckdb"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already computed elsewhere"));
}
