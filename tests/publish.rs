//! Publishing: identical reruns, the atomic replacement of a partition, a
//! failed run leaving the previous one intact, and the types of the output tables.

mod common;

use common::*;

#[test]
fn reruns_are_identical_and_replace_the_partition_atomically() {
    let dir = fixture("[logo_retention, churn_rate, { retention_curve: { max_months: 6 } }]");
    let pipeline = dir.path().join("p.yaml");
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let partition = dir.path().join("out/as_of=2026-01-01");
    let tables = || -> Vec<String> {
        [
            "metrics",
            "lift",
            "retention_curve",
            "revenue_movements",
            "account_cohorts",
        ]
        .iter()
        .map(|t| contents(&partition, t))
        .collect()
    };
    let first = tables();
    let manifest1 = std::fs::read_to_string(partition.join("_manifest.json")).unwrap();
    // A leftover staging directory of a killed run is cleaned up.
    std::fs::create_dir(dir.path().join("out/.as_of=2026-01-01.staging-killed")).unwrap();
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let second = tables();
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
            "balance.parquet",
            "impact.parquet",
            "lift.parquet",
            "metrics.parquet",
            "report.html",
            "retention_curve.parquet",
            "revenue_movements.parquet",
            "survival_curve.parquet"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_str(&manifest2).unwrap();
    assert_eq!(manifest["as_of"], "2026-01-01");
    assert_eq!(manifest["period_start"], "2025-11-01");
    assert_eq!(manifest["inputs"][0]["source"], "accounts");
    assert_eq!(manifest["inputs"][0]["rows_read"], 3);
    assert_eq!(manifest["outputs"][6]["table"], "account_cohorts");
    assert_eq!(manifest["outputs"][6]["rows"], 3);
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
            "n:i64",
            "clusters:i64"
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
            "n_untrained:i64",
            "diff_ci_low:f64",
            "diff_ci_high:f64",
            "mde:f64",
            "e_value:f64",
            "e_value_ci:f64",
            "family:str",
            "adjusted_untrained_value:f64",
            "adjusted_abs_diff:f64",
            "adjusted_ci_low:f64",
            "adjusted_ci_high:f64",
            "adjusted_p_value:f64",
            "adjust_method:str",
            "n_trained_adjusted:i64",
            "n_untrained_adjusted:i64",
            "adjusted_note:str",
            "adjusted_mde:f64",
            "adjusted_e_value:f64",
            "adjusted_e_value_ci:f64",
            "q_value:f64",
            "adjusted_q_value:f64"
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
        schema("survival_curve"),
        [
            "run_id:str",
            "as_of:date",
            "cohort:str",
            "segment:str",
            "day:i64",
            "at_risk:i64",
            "events:i64",
            "censored:i64",
            "survival:f64",
            "ci_low:f64",
            "ci_high:f64"
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
fn manifest_hashes_the_file_and_the_resolved_pipeline() {
    let dir = fixture("[logo_retention]");
    let pipeline = dir.path().join("p.yaml");
    let manifest = |sets: &[&str]| -> serde_json::Value {
        let mut command = bin();
        command.args(["-q", "run"]).arg(&pipeline);
        for set in sets {
            command.args(["--set", set]);
        }
        command.assert().success();
        let path = dir.path().join("out/as_of=2026-01-01/_manifest.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let (plain, again, overridden) = (manifest(&[]), manifest(&[]), manifest(&["stats.alpha=0.1"]));
    // The file is the same text every time; `--set` changes only the resolved hash.
    assert_eq!(plain["pipeline_sha256"], overridden["pipeline_sha256"]);
    assert_eq!(
        plain["resolved_pipeline_sha256"],
        again["resolved_pipeline_sha256"]
    );
    assert_ne!(
        plain["resolved_pipeline_sha256"],
        overridden["resolved_pipeline_sha256"]
    );
    assert_eq!(
        plain["resolved_pipeline_sha256"].as_str().map(str::len),
        Some(64)
    );
}

#[test]
fn the_manifest_gives_each_stage_its_cpu_seconds_and_peak_memory() {
    let dir = tempfile::tempdir().unwrap();
    let partition = sample_run_as_of(dir.path(), "2026-11-01");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(partition.join("_manifest.json")).unwrap())
            .unwrap();
    let timed: Vec<&str> = manifest["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t[0].as_str().unwrap())
        .collect();
    let resources = manifest["resources"].as_array().unwrap();
    let stages: Vec<&str> = resources
        .iter()
        .map(|r| r["stage"].as_str().unwrap())
        .collect();
    // One entry per timed stage, in the same order.
    assert_eq!(stages, timed);
    for r in resources {
        assert!(r["cpu_seconds"].as_f64().unwrap() >= 0.0, "{r}");
        // Every stage holds at least the binary and its tables in memory.
        assert!(r["peak_rss_bytes"].as_u64().unwrap() > 1 << 20, "{r}");
        // The process's exact peak is never below a sampled one.
        assert!(
            r["process_peak_rss_bytes"].as_u64().unwrap() >= r["peak_rss_bytes"].as_u64().unwrap(),
            "{r}"
        );
    }
    // Computing the metrics takes CPU and more memory than reading the
    // pipeline file.
    let of = |stage: &str| &resources[stages.iter().position(|s| *s == stage).unwrap()];
    assert!(of("execute")["cpu_seconds"].as_f64().unwrap() > 0.0);
    assert!(
        of("execute")["peak_rss_bytes"].as_u64().unwrap()
            > of("config")["peak_rss_bytes"].as_u64().unwrap()
    );
}
