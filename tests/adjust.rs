//! `adjust:` end to end (docs/STATISTICS.md#adjustment): the sample run
//! standardized to the trained accounts' plan mix, against numbers computed
//! independently from the sample's raw files with pandas (per plan: churned
//! in [S, A) among the customers at S of each cohort at S; weights = the
//! trained accounts' plan shares), and the pipeline checks.

mod common;

use common::*;
use polars::prelude::*;
use predicates::prelude::*;

/// Runs `pipeline`, asserts success and returns its stderr.
fn run_ok(pipeline: &std::path::Path) -> String {
    let output = bin().arg("run").arg(pipeline).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    stderr
}

fn overall(metric: &str) -> Expr {
    col("metric")
        .eq(lit(metric))
        .and(col("segment").is_null())
        .and(col("dimension").is_null())
}

#[test]
fn the_sample_churn_is_standardized_to_the_trained_plan_mix() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_pipeline_with(dir.path(), "adjust:   { covariates: [plan] }");
    let stderr = run_ok(&pipeline);
    let partition = dir.path().join("out/as_of=2026-11-01");
    let lift = read_table(&partition, "lift");
    let value = |metric: &str, column: &str| {
        let v = floats(&lift, overall(metric), column);
        assert_eq!(v.len(), 1);
        v[0].unwrap_or(f64::NAN)
    };
    // Churn by plan (trained vs untrained): enterprise 1/44 vs 3/35, growth 14/120 vs 28/162,
    // starter 14/99 vs 82/237: differences −0.0630, −0.0562, −0.2046; naive −0.1501 (11.0 % vs 26.0 %).
    // Standardized to the trained plan mix (44, 120, 99 of 263): untrained 0.2234423, difference
    // −0.1131762, se √Σ w²(p₁q₁/n₁ + p₀q₀/n₀) = 0.0273566 (pandas).
    assert!((value("churn_rate", "abs_diff") - (-0.150103)).abs() < 1e-6);
    assert!((value("churn_rate", "adjusted_untrained_value") - 0.22344233410316097).abs() < 1e-12);
    assert!((value("churn_rate", "adjusted_abs_diff") - (-0.11317617440734348)).abs() < 1e-12);
    let se = (value("churn_rate", "adjusted_ci_high") - value("churn_rate", "adjusted_abs_diff"))
        / 1.959964;
    assert!((se - 0.027356563231541908).abs() < 1e-12, "{se}");
    assert_eq!(value("churn_rate", "n_trained_adjusted"), 263.0);
    assert!(value("churn_rate", "adjusted_p_value") < 1e-3);
    assert!(value("churn_rate", "adjusted_e_value") > 1.0);
    // The interval excludes 0, so its nearest limit needs some confounding too, less than the estimate.
    let (e, e_ci) = (
        value("churn_rate", "adjusted_e_value"),
        value("churn_rate", "adjusted_e_value_ci"),
    );
    assert!(e_ci > 1.0 && e_ci < e, "{e} {e_ci}");
    // The adjusted comparison's power: (1.959964 + 0.841621) × its standard error.
    assert!((value("churn_rate", "adjusted_mde") - 2.801585 * 0.027356563231541908).abs() < 1e-6);
    assert!(value("churn_rate", "adjusted_q_value") >= value("churn_rate", "adjusted_p_value"));
    let methods = lift.column("adjust_method").unwrap().str().unwrap().clone();
    assert_eq!(methods.null_count(), 0);
    // A median cannot be standardized: null, with the reason.
    let notes = floats(
        &lift,
        col("metric")
            .eq(lit("time_to_first_value"))
            .and(col("dimension").eq(lit("median_days")))
            .and(col("adjusted_note").str().starts_with(lit("not adjusted"))),
        "adjusted_abs_diff",
    );
    assert!(!notes.is_empty() && notes.iter().all(Option::is_none));
    // Survival: the stratified Kaplan–Meier difference and the stratified log-rank test.
    let survival = floats(
        &lift,
        col("metric")
            .eq(lit("survival"))
            .and(col("segment").is_null())
            .and(col("dimension").eq(lit("days=365"))),
        "adjusted_abs_diff",
    );
    assert!(survival[0].unwrap() > 0.0);
    // Balance of the accounts assigned at S: enterprise is 46 of 301 trained and 41 of 587
    // untrained (pandas): SMD (0.1528239 − 0.0698467)/√((p₁q₁ + p₀q₀)/2) = 0.2661244; after
    // the standardization the untrained have the trained plan mix, SMD 0.
    let balance = read_table(&partition, "balance");
    let enterprise = |column: &str| {
        floats(
            &balance,
            col("covariate")
                .eq(lit("plan"))
                .and(col("level").eq(lit("enterprise"))),
            column,
        )[0]
        .unwrap()
    };
    assert!((enterprise("trained") - 46.0 / 301.0).abs() < 1e-12);
    assert!((enterprise("untrained") - 41.0 / 587.0).abs() < 1e-12);
    assert!((enterprise("smd") - 0.26612437996195804).abs() < 1e-12);
    assert!((enterprise("untrained_adjusted") - 46.0 / 301.0).abs() < 1e-12);
    assert!(enterprise("smd_adjusted").abs() < 1e-12);
    assert_eq!(balance.height(), 3);
    // Save requests are few per plan: the overlap warning names the rows left out.
    assert!(stderr.contains("adjust: in "), "{stderr}");
    let manifest = std::fs::read_to_string(partition.join("_manifest.json")).unwrap();
    assert!(manifest.contains("left out of the adjusted estimate"));
    // The CMH cross-check of the churn rows (statsmodels StratifiedTable of the three plans'
    // 2×2 tables [[1, 43], [3, 32]], [[14, 106], [28, 134]], [[14, 85], [82, 155]],
    // test_null_odds(correction=False): χ² 15.651230, p 7.6163e-5), in the manifest and the log.
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let adjust = &manifest["adjust"];
    assert_eq!(adjust["method"], "stratify");
    assert_eq!(adjust["covariates"][0], "plan");
    let churn = adjust["cmh"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["metric"] == "churn_rate" && e["segment"].is_null())
        .expect("a CMH entry for churn_rate");
    let p = churn["cmh_p_value"].as_f64().unwrap();
    assert!((p / 7.616301266955006e-05 - 1.0).abs() < 1e-9, "{p}");
    assert!(
        stderr.contains("Cochran–Mantel–Haenszel cross-check"),
        "{stderr}"
    );
}

#[test]
fn propensity_strata_come_from_a_logit_that_matches_statsmodels() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_pipeline_with(
        dir.path(),
        "adjust:   { method: propensity, covariates: [plan, region] }",
    );
    let stderr = run_ok(&pipeline);
    // statsmodels Logit(trained, [1, plan=growth, plan=starter, region=emea, region=na]) over
    // the accounts assigned at A: 0.06004335, −0.44359236, −1.12063430, −0.10055086, 0.00864281.
    assert!(
        stderr.contains(
            "(intercept) +0.060, plan=growth -0.444, plan=starter -1.121, region=emea -0.101, \
             region=na +0.009"
        ),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("propensity model fitted").count(),
        1,
        "fitted once"
    );
    let partition = dir.path().join("out/as_of=2026-11-01");
    let lift = read_table(&partition, "lift");
    let churn = |column: &str| floats(&lift, overall("churn_rate"), column)[0];
    let adjusted = churn("adjusted_abs_diff").unwrap();
    // Between the naive −0.150 and zero, like the plan standardization (−0.113).
    assert!(adjusted > -0.150 && adjusted < -0.05, "{adjusted}");
    let methods = lift.column("adjust_method").unwrap().str().unwrap().clone();
    assert_eq!(methods.get(0), Some("propensity"));
    // Five quantile strata of the trained accounts' scores, with 9 covariate patterns: the
    // balance after adjustment is imperfect and the run says so.
    assert!(stderr.contains("standardized mean differences"), "{stderr}");
}

#[test]
fn propensity_with_no_more_patterns_than_strata_gives_one_stratum_per_pattern() {
    // docs/STATISTICS.md#strata: plan alone has 3 covariate patterns, fewer than 5 strata, so each
    // plan is a stratum of its own and the result is exactly the standardization on plan (the
    // numbers of the first test), not quantile strata that mix plans.
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_pipeline_with(
        dir.path(),
        "adjust:   { method: propensity, covariates: [plan], strata: 5 }",
    );
    run_ok(&pipeline);
    let lift = read_table(&dir.path().join("out/as_of=2026-11-01"), "lift");
    let churn = |column: &str| floats(&lift, overall("churn_rate"), column)[0].unwrap();
    assert!((churn("adjusted_untrained_value") - 0.22344233410316097).abs() < 1e-12);
    assert!((churn("adjusted_abs_diff") - (-0.11317617440734348)).abs() < 1e-12);
    let balance = read_table(&dir.path().join("out/as_of=2026-11-01"), "balance");
    // Every plan balanced exactly after the adjustment.
    for smd in floats(&balance, col("covariate").eq(lit("plan")), "smd_adjusted") {
        assert!(smd.unwrap().abs() < 1e-9, "{smd:?}");
    }
}

#[test]
fn adjust_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    // A covariate that is not an accounts column (a mediator such as courses completed, or
    // a typo) is refused, naming the key and the columns there are.
    let pipeline = sample_pipeline_with(
        dir.path(),
        "adjust:   { covariates: [plan, courses_completed] }",
    );
    validate_exits(&pipeline, 2).stderr(
        predicate::str::contains("`adjust.covariates` names `courses_completed`")
            .and(predicate::str::contains("region")),
    );
    let pipeline = sample_pipeline_with(
        dir.path(),
        "adjust:   { covariates: [plan], buckets: { plan: [1, 5] } }",
    );
    validate_exits(&pipeline, 2).stderr(
        predicate::str::contains("`adjust.buckets.plan`")
            .and(predicate::str::contains("not a number")),
    );
    for (extra, message) in [
        (
            "adjust:   { covariates: [] }",
            "`adjust.covariates` is empty",
        ),
        (
            "adjust:   { covariates: [plan, plan] }",
            "lists `plan` twice",
        ),
        (
            "adjust:   { covariates: [plan], buckets: { seats: [1, 5] } }",
            "`seats` is not one of `adjust.covariates`",
        ),
        (
            "adjust:   { covariates: [plan], buckets: { plan: [5, 1] } }",
            "strictly ascending",
        ),
        (
            "adjust:   { covariates: [plan], min_per_arm: 0 }",
            "`adjust.min_per_arm`",
        ),
        (
            "adjust:   { covariates: [plan], strata: 1 }",
            "`adjust.strata`",
        ),
        (
            "adjust:   { covariates: [plan], metod: stratify }",
            "unknown field `metod`",
        ),
    ] {
        let pipeline = sample_pipeline_with(dir.path(), extra);
        validate_exits(&pipeline, 2).stderr(predicate::str::contains(message));
    }
}
