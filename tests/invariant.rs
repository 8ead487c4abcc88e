//! docs/STATISTICS.md, "One invariant": where a lift row's interval of the
//! difference and its p-value come from the same variance, the interval
//! excludes 0 exactly when p < 0.05. Every row with both is checked: its
//! p-value must be the Wald p-value of its own interval, or the row must be
//! a documented exception (the pooled two-proportion test of a proportion
//! of independent accounts beside its unpooled interval), whose
//! disagreements are counted and shown, not required to be 0. The adjusted
//! columns have no exception. Over the bundled sample and a generated
//! 100,000-account run, both with `adjust`.

mod common;

use std::path::Path;

use common::*;
use polars::prelude::*;

const Z: f64 = 1.959964;

/// The metrics whose naive p-value is the pooled two-proportion test: the
/// proportions of independent accounts (docs/STATISTICS.md, "Estimators by
/// kind"), with the dimension of the row that is one.
fn pooled(metric: &str, dimension: Option<&str>) -> bool {
    match metric {
        "logo_retention"
        | "churn_rate"
        | "monthly_churn_rate"
        | "upsell_rate"
        | "customer_base_coverage"
        | "return_rate"
        | "feature_adoption_rate"
        | "active_user_rate"
        | "key_action_rate" => true,
        "referral_rate" => dimension.is_none(),
        "time_to_first_value" => dimension == Some("reached_within"),
        _ => false,
    }
}

/// What the check of one table found.
#[derive(Debug, Default)]
struct Found {
    /// Rows with an interval and a p-value, naive and adjusted.
    checked: usize,
    /// Of those, adjusted comparisons.
    adjusted: usize,
    /// Rows (naive or adjusted) whose p-value is the Wald p of their interval.
    wald: usize,
    /// Wald rows where "interval excludes 0" and "p < 0.05" disagree.
    wald_disagreements: Vec<String>,
    /// Rows whose p-value is not the Wald p of their interval, outside the
    /// documented exceptions.
    undocumented: Vec<String>,
    /// Documented exceptions, and those of them that disagree.
    exceptions: usize,
    exception_disagreements: Vec<String>,
}

fn text(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let column = df.column(name).unwrap().str().unwrap().clone();
    (0..column.len())
        .map(|i| column.get(i).map(str::to_string))
        .collect()
}

fn numbers(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    floats(df, lit(true), name)
}

fn check(lift: &DataFrame) -> Found {
    let (metric, segment, dimension) = (
        text(lift, "metric"),
        text(lift, "segment"),
        text(lift, "dimension"),
    );
    let mut found = Found::default();
    for (prefix, diff, low, high, p) in [
        ("", "abs_diff", "diff_ci_low", "diff_ci_high", "p_value"),
        (
            "adjusted ",
            "adjusted_abs_diff",
            "adjusted_ci_low",
            "adjusted_ci_high",
            "adjusted_p_value",
        ),
    ] {
        let (diff, low, high, p) = (
            numbers(lift, diff),
            numbers(lift, low),
            numbers(lift, high),
            numbers(lift, p),
        );
        for i in 0..lift.height() {
            let (Some(d), Some(lo), Some(hi), Some(p)) = (diff[i], low[i], high[i], p[i]) else {
                continue;
            };
            found.checked += 1;
            found.adjusted += usize::from(!prefix.is_empty());
            let name = format!(
                "{prefix}{} {:?} {:?}: diff {d} ({lo}, {hi}), p {p}",
                metric[i].as_deref().unwrap_or(""),
                segment[i],
                dimension[i]
            );
            let excludes = lo > 0.0 || hi < 0.0;
            let significant = p < 0.05;
            // The Wald p-value of the row's own interval: se = (hi − lo)/(2z).
            let se = (hi - lo) / (2.0 * Z);
            let wald_p = libm::erfc((d / se).abs() / std::f64::consts::SQRT_2);
            let same = (p - wald_p).abs() <= 1e-6 * p.max(1e-300) || (p - wald_p).abs() < 1e-12;
            if same {
                found.wald += 1;
                if excludes != significant {
                    found.wald_disagreements.push(name);
                }
            } else if prefix.is_empty()
                && pooled(metric[i].as_deref().unwrap_or(""), dimension[i].as_deref())
            {
                found.exceptions += 1;
                if excludes != significant {
                    found.exception_disagreements.push(name);
                }
            } else {
                found.undocumented.push(format!("{name} (Wald p {wald_p})"));
            }
        }
    }
    found
}

fn assert_invariant(partition: &Path, what: &str) {
    let found = check(&read_table(partition, "lift"));
    eprintln!(
        "{what}: {} rows with an interval and a p-value; {} Wald rows, {} disagree; \
         {} pooled-proportion rows, {} disagree {:?}",
        found.checked,
        found.wald,
        found.wald_disagreements.len(),
        found.exceptions,
        found.exception_disagreements.len(),
        found.exception_disagreements
    );
    assert!(
        found.wald > 0 && found.exceptions > 0 && found.adjusted > 0,
        "{what}: {found:?}"
    );
    assert!(
        found.undocumented.is_empty(),
        "{what}: {:#?}",
        found.undocumented
    );
    assert!(
        found.wald_disagreements.is_empty(),
        "{what}: {:#?}",
        found.wald_disagreements
    );
}

/// Runs the sample pipeline with `adjust` over the sources in `data` and
/// returns the partition.
fn run_over(dir: &Path, data: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", &data.display().to_string())
        + "adjust: { method: stratify, covariates: [plan] }\n";
    let pipeline = dir.join("p.yaml");
    std::fs::write(&pipeline, text).unwrap();
    bin()
        .args(["-q", "run"])
        .arg(&pipeline)
        .arg("--output")
        .arg(dir.join("out"))
        .assert()
        .success();
    dir.join("out/as_of=2026-11-01")
}

#[test]
fn every_wald_row_of_the_sample_agrees_with_its_interval() {
    let dir = tempfile::tempdir().unwrap();
    let partition = run_over(dir.path(), &repo().join("sample_data"));
    assert_invariant(&partition, "sample");
}

#[test]
fn every_wald_row_of_a_generated_100k_account_run_agrees_with_its_interval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    bin()
        .args([
            "-q",
            "generate",
            "--accounts",
            "100000",
            "--seed",
            "7",
            "--out",
        ])
        .arg(&data)
        .assert()
        .success();
    let partition = run_over(dir.path(), &data);
    assert_invariant(&partition, "100k accounts");
}
