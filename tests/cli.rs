//! The command line: commands, exit codes, messages and configuration errors.

mod common;

use common::*;
use predicates::prelude::*;

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
    validate_exits(dir.path().join("p.yaml"), 2).stderr(predicate::str::contains(
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
fn catalog_lists_every_metric_and_matches_the_docs() {
    let output = bin().args(["metrics", "--markdown"]).assert().success();
    let catalog = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    for id in cohort_metrics::metrics::MetricConfig::ids() {
        assert!(catalog.contains(&format!("| `{id}` |")), "{id} missing");
    }
    // docs/METRICS.md holds the catalog between two markers, exactly as
    // the command prints it.
    let docs = std::fs::read_to_string(repo().join("docs/METRICS.md")).unwrap();
    let documented = docs
        .split("<!-- catalog:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- catalog:end -->").next())
        .expect("docs/METRICS.md has the catalog markers");
    assert_eq!(
        documented.trim(),
        catalog.trim(),
        "docs/METRICS.md's metric catalog differs from `cohort-metrics metrics --markdown`"
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
fn metric_without_its_column_is_a_config_error_found_before_reading_data() {
    // training.csv has no enrolled_at, which training_completion_rate needs; the data rows are broken too
    // (unparseable date) but validate stops at the configuration, before reading any row.
    let dir = fixture("[training_completion_rate]");
    std::fs::write(
        dir.path().join("training.csv"),
        "account_id,course_id,completed_at\n1,c1,not-a-date\n",
    )
    .unwrap();
    validate_exits(dir.path().join("p.yaml"), 2).stderr(predicate::str::contains(
        "metric `training_completion_rate` needs column `enrolled_at` of source `training`",
    ));
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

#[test]
fn an_s3_output_key_the_client_would_rename_is_a_config_error() {
    let dir = fixture("[logo_retention]");
    for (output, shown) in [
        ("s3://results/run~1", "`~`"),
        ("s3://results/as%20of", "`%`"),
        ("s3://results/out/*", "not allowed in an S3 output path"),
    ] {
        bin()
            .arg("run")
            .arg(dir.path().join("p.yaml"))
            .args(["--output", output])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(shown).and(predicate::str::contains(output)));
    }
}

#[test]
fn a_metric_listed_twice_is_a_config_error_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace(
            "../sample_data",
            repo().join("sample_data").to_str().unwrap(),
        )
        .replace("  - churn_rate\n", "  - churn_rate\n  - nps\n");
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "  - nps")
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 2);
    let path = dir.path().join("twice.yaml");
    std::fs::write(&path, text).unwrap();
    validate_exits(&path, 2).stderr(predicate::str::contains(format!(
        "metric `nps` is listed 2 times in `metrics` (lines {} and {})",
        lines[0], lines[1]
    )));
}

#[test]
fn a_huge_or_deeply_nested_pipeline_file_is_refused_before_it_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("nested.yaml");
    std::fs::write(
        &nested,
        format!("name: x\nsegment_by: {}\n", "[".repeat(200_000)),
    )
    .unwrap();
    validate_exits(&nested, 2).stderr(predicate::str::contains(
        "line 2: nested deeper than 64 levels",
    ));
    let huge = dir.path().join("huge.yaml");
    std::fs::write(
        &huge,
        format!("name: x\n# {}\n", "x".repeat(2 * 1024 * 1024)),
    )
    .unwrap();
    validate_exits(&huge, 2).stderr(predicate::str::contains(
        "a pipeline file is at most 1048576 bytes",
    ));
}

/// Every node of `kind` (`AGGREGATE`, `LEFT JOIN`, …) in the plan of all
/// outputs together that `explain` prints for `pipeline`.
fn plan_nodes(pipeline: &std::path::Path) -> PlanNodes {
    let output = bin().arg("explain").arg(pipeline).output().unwrap();
    assert_success(&output);
    let plan = String::from_utf8(output.stdout).unwrap();
    let together = plan
        .split("== every output together")
        .nth(1)
        .expect("the plan of every output together");
    let mut nodes = std::collections::BTreeMap::new();
    for line in together.lines().map(str::trim_start) {
        let kind = if line.starts_with("AGGREGATE") {
            "AGGREGATE".to_string()
        } else if line.ends_with("JOIN:") && !line.starts_with("END") {
            line.trim_end_matches(':').to_string()
        } else {
            continue;
        };
        *nodes.entry(kind).or_insert(0) += 1;
    }
    nodes
}

type PlanNodes = std::collections::BTreeMap<String, usize>;

/// The plan nodes of the sample pipeline and of the same pipeline with
/// `from` (which it must hold) replaced by `to`.
fn plan_nodes_of_sample_and_variant(from: &str, to: &str) -> (PlanNodes, PlanNodes) {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_pipeline_with(dir.path(), "");
    let text = std::fs::read_to_string(&sample).unwrap();
    assert!(text.contains(from), "{from}");
    let variant = dir.path().join("variant.yaml");
    std::fs::write(&variant, text.replace(from, to)).unwrap();
    (plan_nodes(&sample), plan_nodes(&variant))
}

/// The join nodes of a plan and their counts.
fn joins(nodes: &PlanNodes) -> Vec<(String, usize)> {
    nodes
        .iter()
        .filter(|(k, _)| k.ends_with("JOIN"))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

#[test]
fn the_windows_of_a_metric_are_summed_in_one_aggregation() {
    // `active_user_rate`'s windows are measures over the same units
    // (`Units::measures`): three windows give the plan of one window, the
    // same aggregations and joins. One plan per window added, with the
    // sample's segment, six aggregations per window.
    let (three, one) = plan_nodes_of_sample_and_variant(
        "active_user_rate: { window_days: [1, 7, 30], level: user }",
        "active_user_rate: { window_days: [30], level: user }",
    );
    assert_eq!(three, one);
    assert!(three["AGGREGATE"] > 0, "{three:?}");
}

#[test]
fn the_health_scores_signals_are_joined_once_for_the_table_and_every_score() {
    // The signals frame (the customers with their activity, tickets and
    // latest responses joined) is read by the `account_health` table, the
    // score's rows and, with `trained`, the rows without it: built once and
    // shared, so the third reader adds no join. Built per reader, the
    // sample's `trained` added the frame's joins a third time (6 left joins,
    // 2 sorts of the responses).
    let (with_trained, without) =
        plan_nodes_of_sample_and_variant("        trained: { weight: 0.1 }\n", "");
    assert_eq!(
        joins(&with_trained),
        joins(&without),
        "{with_trained:?} / {without:?}"
    );
    // The score without `trained` is rolled up on its own: more aggregations.
    assert!(with_trained["AGGREGATE"] > without["AGGREGATE"]);
}

#[test]
fn a_segment_adds_roll_ups_to_the_plan_but_no_join_and_no_unit_frame() {
    // Each metric's units are built and summed at the finest grain once;
    // its variants (own cohort or `all`, each segment or none) are roll-ups
    // of that one aggregation (docs/ARCHITECTURE.md). When the variants
    // were filtered below it, every unit frame and its joins were planned
    // once per variant: 258 left joins with `segment_by: [plan]` against 142
    // without, 32 nested-loop joins against 16.
    let (segmented, plain) =
        plan_nodes_of_sample_and_variant("segment_by: [plan]", "segment_by: []");
    assert_eq!(
        joins(&segmented),
        joins(&plain),
        "{segmented:?} / {plain:?}"
    );
    assert!(!segmented.contains_key("NESTED LOOP JOIN"), "{segmented:?}");
    // The segment's roll-ups are the only aggregations it adds: fewer than
    // the plan without it holds (it doubled them before).
    let (a, b) = (segmented["AGGREGATE"], plain["AGGREGATE"]);
    assert!(
        a > b && a - b < b,
        "{a} aggregations with the segment, {b} without"
    );
}

/// docs/OPERATING.md "Memory": the binary's allocator returns freed pages
/// after a second, and `_RJEM_MALLOC_CONF` in the environment overrides it
/// (jemalloc prints its options at exit with `stats_print`).
#[test]
fn the_allocator_returns_freed_pages_after_a_second_unless_the_environment_says_otherwise() {
    let decay = |conf: &str| {
        let output = bin()
            .arg("--version")
            .env("_RJEM_MALLOC_CONF", conf)
            .assert()
            .success();
        let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
        stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("opt.dirty_decay_ms: "))
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no opt.dirty_decay_ms in jemalloc's statistics:\n{stderr}"))
    };
    assert_eq!(decay("stats_print:true"), "1000");
    assert_eq!(decay("stats_print:true,dirty_decay_ms:10000"), "10000");
}
