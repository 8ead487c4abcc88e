//! Helpers for the integration tests: run the real binary, read the Parquet it wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use polars::prelude::*;

pub mod boundaries;
pub mod browser;
pub mod s3;
pub mod spark;
pub mod vendors;

const ACCOUNTS: &str = "account_id,signup_date,churn_date,plan\n1,2025-01-01,,a\n2,2025-01-01,2025-11-01,a\n3,2025-06-01,,b\n";
const TRAINING: &str = "account_id,course_id,completed_at\n1,c1,2025-01-10\n";

/// A temporary directory with `p.yaml`: three accounts, one training row and
/// the metrics of the YAML list `metrics`.
pub fn fixture(metrics: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("accounts.csv"), ACCOUNTS).unwrap();
    std::fs::write(dir.path().join("training.csv"), TRAINING).unwrap();
    let pipeline = format!(
        "name: t\nsources:\n  accounts: {{ path: accounts.csv, freshness: {{}} }}\n  training: {{ path: training.csv, freshness: {{}} }}\n\
         cohort: {{ window_days: 30 }}\nperiod: {{ as_of: 2026-01-01, months: 2 }}\nsegment_by: [plan]\n\
         metrics: {metrics}\noutput: {{ path: out }}\n"
    );
    std::fs::write(dir.path().join("p.yaml"), pipeline).unwrap();
    dir
}

/// Starts a test server (`command`, its stdout piped) and returns it with
/// the JSON of its first line, which says where it listens.
pub fn spawn_server(
    mut command: std::process::Command,
    what: &str,
) -> (std::process::Child, serde_json::Value) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("read the first line of {what}: {e}"));
    let info = serde_json::from_str(&line).unwrap_or_else(|e| {
        let _ = child.kill();
        panic!("{what} did not start ({e}): {line:?}")
    });
    (child, info)
}

pub fn bin() -> Command {
    Command::cargo_bin("cohort-metrics").expect("binary built")
}

/// `validate PIPELINE`, asserted to exit with `code`; chain `.stderr(…)`
/// on the result for the message.
pub fn validate_exits(
    pipeline: impl AsRef<std::ffi::OsStr>,
    code: i32,
) -> assert_cmd::assert::Assert {
    bin().arg("validate").arg(pipeline).assert().code(code)
}

/// Asserts that a run of the binary succeeded, showing its stderr if not.
pub fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `command`, asserts that it succeeded (showing its stderr if not)
/// and gives its stderr, the log.
pub fn stderr_of_success(command: &mut Command) -> String {
    let output = command.output().expect("the binary runs");
    assert_success(&output);
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled sample pipeline run as of `as_of` into `out` (asserted to
/// succeed); its partition.
pub fn sample_run_as_of(out: &Path, as_of: &str) -> PathBuf {
    let output = bin()
        .arg("run")
        .arg(repo().join("pipelines/education_impact.yaml"))
        .args(["--as-of", as_of, "--output"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out.join(format!("as_of={as_of}"))
}

/// The sample pipeline with `extra` top-level YAML, writing into `dir/out`.
pub fn sample_pipeline_with(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let sample = repo().join("sample_data");
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", sample.to_str().unwrap())
        .replace("../out/education_impact", "out")
        .replace(
            "stats:    { alpha: 0.05 }",
            &format!("stats:    {{ alpha: 0.05 }}\n{extra}"),
        );
    let path = dir.join("p.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the sample pipeline adjusted by plan (the widest report: two more
/// forest columns, the balance view) into `dir/out`; returns its partition.
pub fn adjusted_sample_run(dir: &Path) -> PathBuf {
    let path = sample_pipeline_with(dir, "adjust:   { covariates: [plan] }");
    bin().args(["-q", "run"]).arg(&path).assert().success();
    dir.join("out/as_of=2026-11-01")
}

/// Reads `TABLE.parquet` of a partition.
pub fn read_table(partition: &Path, table: &str) -> DataFrame {
    let path = partition.join(format!("{table}.parquet"));
    let file =
        std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    ParquetReader::new(file).finish().expect("read parquet")
}

/// Filters a table and returns one f64 column.
pub fn floats(df: &DataFrame, filter: Expr, column: &str) -> Vec<Option<f64>> {
    let out = df.clone().lazy().filter(filter).collect().expect("filter");
    let values = out
        .column(column)
        .expect("column")
        .cast(&DataType::Float64)
        .expect("cast");
    let values = values.f64().expect("f64");
    (0..values.len()).map(|i| values.get(i)).collect()
}

/// The single value of `column` for a metric's overall row of `cohort`.
pub fn overall(metrics: &DataFrame, metric: &str, cohort: &str, column: &str) -> f64 {
    let filter = col("metric")
        .eq(lit(metric))
        .and(col("cohort").eq(lit(cohort)))
        .and(col("segment").is_null())
        .and(col("dimension").is_null());
    let values = floats(metrics, filter, column);
    assert_eq!(values.len(), 1, "{metric}/{cohort}: expected one row");
    values[0].unwrap_or(f64::NAN)
}

/// The lift row's `column` for a metric without segment or dimension.
pub fn lift_value(lift: &DataFrame, metric: &str, column: &str) -> f64 {
    let filter = col("metric")
        .eq(lit(metric))
        .and(col("segment").is_null())
        .and(col("dimension").is_null());
    let values = floats(lift, filter, column);
    assert_eq!(values.len(), 1, "{metric}: expected one lift row");
    values[0].unwrap_or(f64::NAN)
}

/// Table contents without run_id, as sorted CSV text (for idempotence checks).
pub fn contents(partition: &Path, table: &str) -> String {
    let mut df = read_table(partition, table);
    let _ = df.drop_in_place("run_id");
    let mut buffer = Vec::new();
    CsvWriter::new(&mut buffer).finish(&mut df).expect("csv");
    String::from_utf8(buffer).expect("utf8")
}

/// The tables of a run (docs/OUTPUTS.md), listed here rather than taken from the
/// code under test.
pub const TABLES: [&str; 9] = [
    "metrics",
    "lift",
    "impact",
    "retention_curve",
    "survival_curve",
    "revenue_movements",
    "account_cohorts",
    "account_health",
    "balance",
];

/// A copy of the bundled `sample_data/` under `dir`.
pub fn copy_sample_data(dir: &Path) -> PathBuf {
    let copy = dir.join("sample_data");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(repo().join("sample_data"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success(), "copy sample_data");
    copy
}

/// `sample_data/` with the events in two files: `part-old.parquet` (every
/// event before `split`, UTC) and `part-new.parquet` (the rest), each in
/// row groups of 2,000 rows. `broken` rows (an empty `event_name`, which
/// breaks "must not be null") are added to the old or the new file.
pub fn sample_split_at(dir: &Path, split: &str, broken_in_old: Option<bool>) -> PathBuf {
    let copy = copy_sample_data(dir);
    let original = copy.join("events/part-00000.parquet");
    let events = ParquetReader::new(std::fs::File::open(&original).unwrap())
        .finish()
        .unwrap();
    std::fs::remove_file(&original).unwrap();
    let cut = lit(split).str().to_datetime(
        Some(TimeUnit::Microseconds),
        Some(TimeZone::UTC),
        StrptimeOptions::default(),
        lit("raise"),
    );
    for (name, old) in [("part-old", true), ("part-new", false)] {
        let in_part = if old {
            col("event_time").lt(cut.clone())
        } else {
            col("event_time").gt_eq(cut.clone())
        };
        let mut part = events
            .clone()
            .lazy()
            .filter(in_part)
            .sort(["event_time"], Default::default())
            .collect()
            .unwrap();
        // A wide column no metric reads, so that the files are large enough
        // to be read by ranges on S3 (small files are fetched whole).
        let payload: Vec<String> = (0..part.height())
            .map(|i| {
                let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                format!(
                    "{x:016x}{:016x}{:016x}",
                    x.rotate_left(21),
                    x.rotate_left(42)
                )
            })
            .collect();
        part.with_column(Column::new("payload".into(), payload))
            .unwrap();
        if broken_in_old == Some(old) {
            // The last three events of the part (inside the days read for the new part).
            let mut broken = part.tail(Some(3));
            broken
                .with_column(Column::new("event_name".into(), [None::<&str>; 3]))
                .unwrap();
            part.vstack_mut_owned(broken).unwrap();
        }
        let file = std::fs::File::create(copy.join(format!("events/{name}.parquet"))).unwrap();
        ParquetWriter::new(file)
            .with_row_group_size(Some(2_000))
            .finish(&mut part)
            .unwrap();
    }
    copy
}

/// Asserts that two published partitions (`as_of=…` directories) hold the
/// same rows in every table of [`TABLES`], `run_id` aside.
pub fn assert_same_tables(expected: &Path, actual: &Path, context: &str) {
    for table in TABLES {
        let read = |partition: &Path| read_table(partition, table).drop("run_id").unwrap();
        assert!(
            read(expected).equals_missing(&read(actual)),
            "{table} differs: {context}"
        );
    }
}
