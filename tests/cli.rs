//! The command line: exit codes, messages, idempotent and atomic publishing.

mod common;

use common::*;
use predicates::prelude::*;

const ACCOUNTS: &str = "account_id,signup_date,churn_date,plan\n1,2025-01-01,,a\n2,2025-01-01,2025-11-01,a\n3,2025-06-01,,b\n";
const TRAINING: &str = "account_id,course_id,completed_at\n1,c1,2025-01-10\n";

fn fixture(metrics: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("accounts.csv"), ACCOUNTS).unwrap();
    std::fs::write(dir.path().join("training.csv"), TRAINING).unwrap();
    let pipeline = format!(
        "name: t\nsources:\n  accounts: {{ path: accounts.csv }}\n  training: {{ path: training.csv }}\n\
         cohort: {{ window_days: 30 }}\nperiod: {{ as_of: 2026-01-01, months: 2 }}\nsegment_by: [plan]\n\
         metrics: {metrics}\noutput: {{ path: out }}\n"
    );
    std::fs::write(dir.path().join("p.yaml"), pipeline).unwrap();
    dir
}

#[test]
fn unknown_key_is_exit_2_with_line_and_column() {
    let dir = fixture("[logo_retention]");
    let path = dir.path().join("p.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("months: 2 }", "months: 2, mnths: 3 }");
    std::fs::write(&path, text).unwrap();
    bin().arg("validate").arg(&path).assert().code(2).stderr(
        predicate::str::contains(":6:").and(predicate::str::contains("unknown field `mnths`")),
    );
}

#[test]
fn unknown_metric_is_exit_2_naming_it() {
    let dir = fixture("[logo_retention, nps_typo]");
    bin()
        .arg("run")
        .arg(dir.path().join("p.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown metric `nps_typo`"));
}

#[test]
fn metric_without_its_source_is_a_config_error() {
    let dir = fixture("[nps]");
    bin()
        .arg("validate")
        .arg(dir.path().join("p.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "metric `nps` needs source `nps_responses`",
        ));
}

#[test]
fn broken_rule_is_exit_3_with_examples_and_nothing_written() {
    let dir = fixture("[logo_retention]");
    std::fs::write(dir.path().join("accounts.csv"), "account_id,signup_date,churn_date,plan\n1,2025-01-01,,a\n1,2025-02-01,,a\n2,2025-03-01,2025-01-01,b\n")
        .unwrap();
    bin()
        .arg("run")
        .arg(dir.path().join("p.yaml"))
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("source `accounts`")
                .and(predicate::str::contains(
                    "column `account_id`: must be unique — 2 row(s)",
                ))
                .and(predicate::str::contains(
                    "column `churn_date`: must be on or after signup_date — 1 row(s)",
                ))
                .and(predicate::str::contains(
                    "account_id=2, signup_date=2025-03-01, churn_date=2025-01-01, plan=b",
                )),
        );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn missing_input_file_is_exit_4() {
    let dir = fixture("[logo_retention]");
    std::fs::remove_file(dir.path().join("training.csv")).unwrap();
    bin()
        .arg("run")
        .arg(dir.path().join("p.yaml"))
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("source `training`")
                .and(predicate::str::contains("no such file")),
        );
}

#[test]
fn set_overrides_and_as_of_flag() {
    let dir = fixture("[logo_retention]");
    let out = dir.path().join("elsewhere");
    bin()
        .args(["-q", "run"])
        .arg(dir.path().join("p.yaml"))
        .args([
            "--as-of",
            "2026-02-01",
            "--set",
            "period.months=1",
            "--output",
        ])
        .arg(&out)
        .assert()
        .success();
    let metrics = read_table(&out.join("as_of=2026-02-01"), "metrics");
    // Period [2026-01-01, 2026-02-01): pop(S) = {1, 3}; both retained.
    assert_eq!(
        overall(&metrics, "logo_retention", "all", "denominator"),
        2.0
    );
    bin()
        .arg("run")
        .arg(dir.path().join("p.yaml"))
        .args(["--set", "period.months=abc"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("period.months=abc"));
}

#[test]
fn reruns_are_identical_and_replace_the_partition_atomically() {
    let dir = fixture("[logo_retention, churn_rate, { retention_curve: { max_months: 6 } }]");
    let pipeline = dir.path().join("p.yaml");
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let partition = dir.path().join("out/as_of=2026-01-01");
    let first: Vec<String> = [
        "metrics",
        "lift",
        "retention_curve",
        "revenue_movements",
        "account_cohorts",
    ]
    .iter()
    .map(|t| contents(&partition, t))
    .collect();
    let manifest1 = std::fs::read_to_string(partition.join("_manifest.json")).unwrap();
    // A leftover staging directory of a killed run is cleaned up.
    std::fs::create_dir(dir.path().join("out/.as_of=2026-01-01.staging-killed")).unwrap();
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let second: Vec<String> = [
        "metrics",
        "lift",
        "retention_curve",
        "revenue_movements",
        "account_cohorts",
    ]
    .iter()
    .map(|t| contents(&partition, t))
    .collect();
    assert_eq!(first, second);
    let manifest2 = std::fs::read_to_string(partition.join("_manifest.json")).unwrap();
    assert_ne!(manifest1, manifest2, "a new run id");
    let entries: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(entries, ["as_of=2026-01-01"]);
    let mut files: Vec<String> = std::fs::read_dir(&partition)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "_SUCCESS",
            "_manifest.json",
            "account_cohorts.parquet",
            "account_health.parquet",
            "lift.parquet",
            "metrics.parquet",
            "retention_curve.parquet",
            "revenue_movements.parquet"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_str(&manifest2).unwrap();
    assert_eq!(manifest["as_of"], "2026-01-01");
    assert_eq!(manifest["period_start"], "2025-11-01");
    assert_eq!(manifest["inputs"][0]["source"], "accounts");
    assert_eq!(manifest["inputs"][0]["rows_read"], 3);
    assert_eq!(manifest["outputs"][4]["table"], "account_cohorts");
    assert_eq!(manifest["outputs"][4]["rows"], 3);
}

#[test]
fn failed_run_leaves_previous_partition_intact() {
    let dir = fixture("[logo_retention]");
    let pipeline = dir.path().join("p.yaml");
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let partition = dir.path().join("out/as_of=2026-01-01");
    let before = contents(&partition, "metrics");
    std::fs::write(
        dir.path().join("accounts.csv"),
        "account_id,signup_date,plan\n1,2025-01-01,a\n1,2025-01-01,a\n",
    )
    .unwrap();
    bin().args(["-q", "run"]).arg(&pipeline).assert().code(3);
    assert_eq!(contents(&partition, "metrics"), before);
    assert!(partition.join("_SUCCESS").exists());
}

#[test]
fn output_table_types_and_column_order() {
    let dir = fixture("[logo_retention]");
    bin()
        .args(["-q", "run"])
        .arg(dir.path().join("p.yaml"))
        .assert()
        .success();
    let partition = dir.path().join("out/as_of=2026-01-01");
    let schema = |table: &str| -> Vec<String> {
        read_table(&partition, table)
            .schema()
            .iter()
            .map(|(n, t)| format!("{n}:{t}"))
            .collect()
    };
    assert_eq!(
        schema("metrics"),
        [
            "run_id:str",
            "as_of:date",
            "metric:str",
            "cohort:str",
            "segment:str",
            "dimension:str",
            "period_start:date",
            "period_end:date",
            "numerator:f64",
            "denominator:f64",
            "value:f64",
            "ci_low:f64",
            "ci_high:f64",
            "n:i64"
        ]
    );
    assert_eq!(
        schema("lift"),
        [
            "run_id:str",
            "as_of:date",
            "metric:str",
            "segment:str",
            "dimension:str",
            "period_start:date",
            "period_end:date",
            "trained_value:f64",
            "untrained_value:f64",
            "abs_diff:f64",
            "rel_lift:f64",
            "p_value:f64",
            "significant:bool",
            "direction:str",
            "n_trained:i64",
            "n_untrained:i64"
        ]
    );
    assert_eq!(
        schema("account_cohorts"),
        [
            "run_id:str",
            "as_of:date",
            "account_id:str",
            "plan:str",
            "signup_date:date",
            "landmark_date:date",
            "cohort:str",
            "first_completed_at:date",
            "courses_by_landmark:i64"
        ]
    );
    assert_eq!(
        schema("retention_curve"),
        [
            "run_id:str",
            "as_of:date",
            "cohort:str",
            "segment:str",
            "signup_month:date",
            "months_since_signup:i64",
            "at_risk:i64",
            "retained:i64",
            "rate:f64"
        ]
    );
    assert_eq!(
        schema("revenue_movements"),
        [
            "run_id:str",
            "as_of:date",
            "month:date",
            "cohort:str",
            "segment:str",
            "movement:str",
            "mrr:f64",
            "accounts:i64"
        ]
    );
}

#[test]
fn json_logs_and_quiet_mode() {
    let dir = fixture("[logo_retention]");
    let output = bin()
        .args(["--log-format", "json", "run"])
        .arg(dir.path().join("p.yaml"))
        .assert()
        .success();
    let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
    for line in stderr.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(value["stage"].is_string());
    }
    assert!(stderr.contains("\"stage\":\"done\""));
    bin()
        .args(["-q", "run"])
        .arg(dir.path().join("p.yaml"))
        .assert()
        .success()
        .stderr("");
}

#[test]
fn catalog_lists_every_metric_and_matches_the_readme() {
    let output = bin().args(["metrics", "--markdown"]).assert().success();
    let catalog = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    for id in cohort_metrics::metrics::MetricConfig::IDS {
        assert!(catalog.contains(&format!("| `{id}` |")), "{id} missing");
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(catalog.trim()),
        "README's metric catalog differs from `cohort-metrics metrics --markdown`"
    );
}

#[test]
fn schema_is_json_and_names_the_metrics() {
    let output = bin().arg("schema").assert().success();
    let schema: serde_json::Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    let text = schema.to_string();
    assert!(text.contains("\"retention_curve\"") && text.contains("max_months"));
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn sample_pipeline_validates() {
    bin()
        .args(["-q", "validate"])
        .arg(repo().join("pipelines/education_impact.yaml"))
        .assert()
        .success();
}

#[test]
fn orphans_are_dropped_and_counted_or_fatal() {
    let dir = fixture("[logo_retention]");
    std::fs::write(
        dir.path().join("training.csv"),
        "account_id,course_id,completed_at\n1,c1,2025-01-10\n42,c1,2025-01-10\n",
    )
    .unwrap();
    let pipeline = dir.path().join("p.yaml");
    bin()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "source `training`: dropped 1 row(s) whose account_id is not in `accounts`",
        ));
    let manifest =
        std::fs::read_to_string(dir.path().join("out/as_of=2026-01-01/_manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let training = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "training")
        .unwrap()
        .clone();
    assert_eq!(
        (
            training["rows_read"].as_u64(),
            training["rows_dropped"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(manifest["warnings"].as_array().unwrap().len(), 1);

    let text = std::fs::read_to_string(&pipeline)
        .unwrap()
        .replace("output:", "quality: { orphans: error }\noutput:");
    std::fs::write(&pipeline, text).unwrap();
    bin()
        .arg("validate")
        .arg(&pipeline)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("must be an account_id of `accounts`")
                .and(predicate::str::contains("account_id=42")),
        );
}

#[test]
fn metric_without_its_column_is_a_config_error_found_before_reading_data() {
    // training.csv has no enrolled_at, which training_completion_rate needs; the data rows are broken too
    // (unparseable date) but validate stops at the configuration, before reading any row.
    let dir = fixture("[training_completion_rate]");
    std::fs::write(
        dir.path().join("training.csv"),
        "account_id,course_id,completed_at\n1,c1,not-a-date\n",
    )
    .unwrap();
    bin()
        .arg("validate")
        .arg(dir.path().join("p.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "metric `training_completion_rate` needs column `enrolled_at` of source `training`",
        ));
}

/// A pipeline over `accounts.csv` and a revenue directory of Parquet files.
fn revenue_fixture() -> tempfile::TempDir {
    let dir = fixture("[logo_retention, net_revenue_retention]");
    let path = dir.path().join("p.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "  training: { path: training.csv }\n",
        "  training: { path: training.csv }\n  revenue: { path: \"rev/*.parquet\" }\n",
    );
    std::fs::write(&path, text).unwrap();
    std::fs::create_dir(dir.path().join("rev")).unwrap();
    dir
}

fn write_revenue(path: &std::path::Path, ids: polars::prelude::Column) {
    use polars::prelude::*;
    let months = Column::new("month".into(), [19631i32, 19631])
        .cast(&DataType::Date)
        .unwrap();
    let mut df =
        DataFrame::new_infer_height(vec![ids, months, Column::new("mrr".into(), [10.0, 20.0])])
            .unwrap();
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn file_level_faults_have_their_own_messages() {
    use polars::prelude::Column;
    let dir = revenue_fixture();
    let pipeline = dir.path().join("p.yaml");
    let run = || bin().args(["-q", "validate"]).arg(&pipeline).assert();

    // Empty glob → exit 4 naming the pattern.
    run().code(4).stderr(
        predicate::str::contains("source `revenue`: no data files found at")
            .and(predicate::str::contains("rev/*.parquet")),
    );

    // Two files whose account_id types differ → exit 3 naming both files.
    write_revenue(
        &dir.path().join("rev/a.parquet"),
        Column::new("account_id".into(), [1i64, 2]),
    );
    write_revenue(
        &dir.path().join("rev/b.parquet"),
        Column::new("account_id".into(), ["1", "2"]),
    );
    run().code(3).stderr(
        predicate::str::contains("column `account_id` is Int64 in")
            .and(predicate::str::contains("b.parquet")),
    );
    std::fs::remove_file(dir.path().join("rev/b.parquet")).unwrap();
    run().success();

    // A truncated Parquet file → exit 4 naming it.
    let bytes = std::fs::read(dir.path().join("rev/a.parquet")).unwrap();
    std::fs::write(dir.path().join("rev/c.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    run().code(4).stderr(predicate::str::contains(
        "c.parquet` is not a readable Parquet file",
    ));
    std::fs::remove_file(dir.path().join("rev/c.parquet")).unwrap();

    // A malformed CSV line → exit 3 with the line number.
    let accounts = dir.path().join("accounts.csv");
    std::fs::write(
        &accounts,
        "account_id,signup_date,churn_date,plan\n1,2025-01-01,,a\n2,2025-01-01,,b,extra\n",
    )
    .unwrap();
    run().code(3).stderr(predicate::str::contains(
        "line 3: malformed CSV line: 5 field(s) where the header has 4",
    ));

    // The wrong delimiter → exit 3 with a hint.
    std::fs::write(
        &accounts,
        "account_id;signup_date;churn_date;plan\n1;2025-01-01;;a\n",
    )
    .unwrap();
    run().code(3).stderr(predicate::str::contains(
        "hint: the header reads as one column containing `;`",
    ));

    // An empty file → exit 3 naming it.
    std::fs::write(&accounts, "").unwrap();
    run()
        .code(3)
        .stderr(predicate::str::contains("accounts.csv` is empty"));
}

#[test]
fn yaml_alias_bombs_and_deep_nesting_are_rejected_quickly() {
    let dir = fixture("[logo_retention]");
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let path = dir.path().join("bomb.yaml");
    std::fs::write(&path, bomb).unwrap();
    let started = std::time::Instant::now();
    bin().arg("validate").arg(&path).assert().code(2);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    // Deep nesting, also through `--set` (which reads the document as a generic value).
    let deep = format!("name: t\nx: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    std::fs::write(&path, deep).unwrap();
    let started = std::time::Instant::now();
    bin().arg("validate").arg(&path).assert().code(2);
    bin()
        .arg("validate")
        .arg(&path)
        .args(["--set", "period.months=3"])
        .assert()
        .code(2);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn as_of_cannot_be_used_to_escape_the_output_directory() {
    let dir = fixture("[logo_retention]");
    bin()
        .arg("run")
        .arg(dir.path().join("p.yaml"))
        .args(["--set", "period.as_of=../../../tmp/x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid date"));
    bin()
        .arg("run")
        .arg(dir.path().join("p.yaml"))
        .args(["--as-of", "../x"])
        .assert()
        .code(2);
    assert!(!dir.path().join("out").exists());
}

#[test]
fn every_config_problem_is_listed_with_its_line() {
    let dir = fixture("[logo_retention, { retention_curve: { max_months: 700 } }]");
    let path = dir.path().join("p.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("window_days: 30", "window_days: 0");
    std::fs::write(&path, text).unwrap();
    bin().arg("validate").arg(&path).assert().code(2).stderr(
        predicate::str::contains("2 problem(s)")
            .and(predicate::str::contains(
                ":5:11: `cohort.window_days` must be at least 1",
            ))
            .and(predicate::str::contains(
                "metric `retention_curve`: `max_months` must be at most 600",
            )),
    );
}
