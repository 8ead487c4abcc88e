//! The adjusted lift against the generator's truth (GENERATOR.md, "Truth"):
//! on a generated set where customers choose to train by plan and the plan
//! drives churn and tickets, the naive lift misses the true effect on the
//! trained (ATT) and the adjusted one finds it; where nobody on a plan
//! trains, the run says so. The rates over many seeds are measured by
//! `bench/adjust_coverage.py` (docs/BENCHMARKS.md), not here.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;
use polars::prelude::*;
use predicates::prelude::*;

/// Generates `accounts` accounts with `seed` into `dir/data`.
fn generate(dir: &Path, accounts: u32, seed: u32) -> PathBuf {
    let data = dir.join("data");
    bin()
        .args(["-q", "generate", "--accounts", &accounts.to_string()])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&data)
        .assert()
        .success();
    data
}

/// The four metrics the truth is stated for, with `adjust`.
fn pipeline(dir: &Path, adjust: &str) -> PathBuf {
    let text = format!(
        "name: proof
sources:
  accounts:      {{ path: data/accounts.csv }}
  training:      {{ path: data/training.parquet }}
  revenue:       {{ path: data/revenue.parquet }}
  nps_responses: {{ path: data/nps_responses.csv }}
  tickets:       {{ path: data/tickets.parquet }}
cohort: {{ window_days: 90, courses: [onboarding-101, admin-cert], min_courses: 1 }}
period: {{ as_of: 2026-11-01, months: 12 }}
metrics: [churn_rate, net_revenue_retention, support_incident_rate, nps]
adjust: {adjust}
output: {{ path: out }}
"
    );
    let path = dir.join("p.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the pipeline and returns the overall lift rows by metric, and stderr.
fn run(dir: &Path, adjust: &str) -> (HashMap<String, Row>, String) {
    let output = bin()
        .arg("run")
        .arg(pipeline(dir, adjust))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    let lift = read_table(&dir.join("out/as_of=2026-11-01"), "lift");
    let overall = lift
        .lazy()
        .filter(col("segment").is_null().and(col("dimension").is_null()))
        .collect()
        .unwrap();
    let metrics: Vec<String> = overall
        .column("metric")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|m| m.unwrap().to_string())
        .collect();
    let columns: Vec<Vec<Option<f64>>> = Row::COLUMNS
        .iter()
        .map(|c| floats(&overall, lit(true), c))
        .collect();
    let rows = metrics
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let v: Vec<f64> = columns.iter().map(|c| c[i].unwrap_or(f64::NAN)).collect();
            (m, Row(v))
        })
        .collect();
    (rows, stderr)
}

/// One overall lift row, in the order of [`Row::COLUMNS`].
struct Row(Vec<f64>);

impl Row {
    const COLUMNS: [&str; 9] = [
        "trained_value",
        "abs_diff",
        "diff_ci_low",
        "diff_ci_high",
        "adjusted_abs_diff",
        "adjusted_ci_low",
        "adjusted_ci_high",
        "n_untrained",
        "n_untrained_adjusted",
    ];
    fn get(&self, column: &str) -> f64 {
        self.0[Self::COLUMNS.iter().position(|c| *c == column).unwrap()]
    }
    fn naive_covers(&self, x: f64) -> bool {
        self.get("diff_ci_low") <= x && x <= self.get("diff_ci_high")
    }
    fn adjusted_covers(&self, x: f64) -> bool {
        self.get("adjusted_ci_low") <= x && x <= self.get("adjusted_ci_high")
    }
}

/// The trained cohort's value of each metric with and without training,
/// from `truth.csv`, read here as plain text (not by the code under test).
fn truth(data: &Path) -> HashMap<&'static str, (f64, f64)> {
    let text = std::fs::read_to_string(data.join("truth.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut sums: HashMap<&str, [f64; 2]> = HashMap::new();
    let mut add = |key: &'static str, with: f64, without: f64| {
        let s = sums.entry(key).or_default();
        s[0] += with;
        s[1] += without;
    };
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[at("cohort")] != "trained" {
            continue;
        }
        let number = |name: &str| cells[at(name)].parse::<f64>().ok();
        let pair = |what: &str| {
            number(&format!("{what}_if_trained")).zip(number(&format!("{what}_if_untrained")))
        };
        if let Some((with, without)) = pair("churned") {
            add("churned", with, without);
            add("churn population", 1.0, 1.0);
        }
        if let Some((with, without)) = pair("tickets") {
            add("tickets", with, without);
            add("ticket population", 1.0, 1.0);
        }
        let (r, net) = (pair("nps_responses").unwrap(), pair("nps_net").unwrap());
        add("responses", r.0, r.1);
        add("net", net.0, net.1);
        let (m0, mk) = (pair("mrr_m0").unwrap(), pair("mrr_mk").unwrap());
        if m0.0 > 0.0 {
            add("m0", m0.0, m0.1);
            add("mk", mk.0, mk.1);
        }
    }
    let ratio = |a: &str, b: &str, scale: f64| {
        let (a, b) = (sums[a], sums[b]);
        (scale * a[0] / b[0], scale * a[1] / b[1])
    };
    HashMap::from([
        ("churn_rate", ratio("churned", "churn population", 1.0)),
        (
            "support_incident_rate",
            ratio("tickets", "ticket population", 1.0),
        ),
        ("nps", ratio("net", "responses", 100.0)),
        ("net_revenue_retention", ratio("mk", "m0", 1.0)),
    ])
}

#[test]
fn the_adjusted_lift_covers_the_true_effect_where_the_naive_one_misses_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = generate(dir.path(), 20_000, 1);
    let truth = truth(&data);
    let att = |metric: &str| truth[metric].0 - truth[metric].1;
    let (stratified, _) = run(dir.path(), "{ method: stratify, covariates: [plan] }");

    // The truth's own bookkeeping: its "with training" side is what the
    // pipeline measures for the trained cohort.
    for (metric, (with, _)) in &truth {
        let measured = stratified[*metric].get("trained_value");
        assert!(
            (measured - with).abs() < 1e-9 * with.abs().max(1.0),
            "{metric}: truth {with} vs pipeline {measured}"
        );
    }

    // Churn: the plan confounds it (those who train are on plans that churn
    // less), so the naive difference overstates the effect and its interval
    // misses the truth; standardized to the trained plan mix, it covers it.
    let churn = &stratified["churn_rate"];
    assert!(
        churn.get("diff_ci_high") < att("churn_rate"),
        "naive {} .. {} vs true {}",
        churn.get("diff_ci_low"),
        churn.get("diff_ci_high"),
        att("churn_rate")
    );
    assert!(churn.adjusted_covers(att("churn_rate")));
    // Tickets: biased the other way (enterprise trains more and files more).
    let tickets = &stratified["support_incident_rate"];
    assert!(tickets.get("diff_ci_low") > att("support_incident_rate"));
    assert!(tickets.adjusted_covers(att("support_incident_rate")));
    // NRR: covered by both.
    assert!(stratified["net_revenue_retention"].adjusted_covers(att("net_revenue_retention")));
    // NPS is not confounded: the adjustment barely moves it (a fifth of the
    // interval's half-width at most) and both intervals cover the truth.
    let nps = &stratified["nps"];
    let half_width = (nps.get("diff_ci_high") - nps.get("diff_ci_low")) / 2.0;
    assert!(
        (nps.get("adjusted_abs_diff") - nps.get("abs_diff")).abs() < 0.2 * half_width,
        "nps naive {} vs adjusted {}",
        nps.get("abs_diff"),
        nps.get("adjusted_abs_diff")
    );
    assert!(nps.naive_covers(att("nps")) && nps.adjusted_covers(att("nps")));

    // Propensity strata (plan and region in the model, five strata) cover
    // the true churn and NPS effects. Tickets show the method's known
    // limit: nine covariate patterns share five quantile strata, so some
    // strata mix plans and part of the bias stays (Cochran: five strata
    // remove about 90 % of it); here more than 60 %, with the interval
    // short of the truth. docs/STATISTICS.md says so and points to `stratify`.
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    let (propensity, _) = run(
        dir.path(),
        "{ method: propensity, covariates: [plan, region], strata: 5 }",
    );
    for metric in ["churn_rate", "nps"] {
        let row = &propensity[metric];
        assert!(
            row.adjusted_covers(att(metric)),
            "{metric}: propensity {} .. {} vs true {}",
            row.get("adjusted_ci_low"),
            row.get("adjusted_ci_high"),
            att(metric)
        );
    }
    let tickets = &propensity["support_incident_rate"];
    let naive_bias = tickets.get("abs_diff") - att("support_incident_rate");
    let adjusted_bias = tickets.get("adjusted_abs_diff") - att("support_incident_rate");
    assert!(
        adjusted_bias.abs() < 0.4 * naive_bias.abs(),
        "tickets: naive bias {naive_bias}, adjusted bias {adjusted_bias}"
    );
}

/// Drops every training row of the accounts on `plan`.
fn nobody_trains_on(data: &Path, plan: &str) {
    let accounts = std::fs::read_to_string(data.join("accounts.csv")).unwrap();
    let mut lines = accounts.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (id, plan_at) = (
        header.iter().position(|h| *h == "account_id").unwrap(),
        header.iter().position(|h| *h == "plan").unwrap(),
    );
    let on_plan: Vec<i64> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[plan_at] == plan)
        .map(|c| c[id].parse().unwrap())
        .collect();
    let path = data.join("training.parquet");
    let mut training = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap()
        .lazy()
        .filter(
            col("account_id")
                .is_in(
                    lit(Series::new("ids".into(), on_plan)).implode(false),
                    false,
                )
                .not(),
        )
        .collect()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut training)
        .unwrap();
}

#[test]
fn a_plan_where_nobody_trains_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let data = generate(dir.path(), 4_000, 3);
    nobody_trains_on(&data, "enterprise");
    // Stratified: the effect on the trained weighs enterprise by zero; the
    // run warns that the enterprise untrained are outside the comparison.
    let (rows, stderr) = run(dir.path(), "{ method: stratify, covariates: [plan] }");
    assert!(
        stderr.contains("some untrained units are in strata with fewer than 5 trained units"),
        "{stderr}"
    );
    let churn = &rows["churn_rate"];
    assert!(churn.get("n_untrained_adjusted") < churn.get("n_untrained"));
    assert!(churn.get("adjusted_abs_diff").is_finite());
    // Propensity: `plan=enterprise` predicts "untrained" perfectly, so the
    // model has no finite estimate: the run stops and names the level.
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    bin()
        .arg("run")
        .arg(pipeline(
            dir.path(),
            "{ method: propensity, covariates: [plan] }",
        ))
        .assert()
        .code(3)
        .stderr(
            predicates::str::contains("separates trained from untrained accounts")
                .and(predicates::str::contains("`plan=enterprise` (0 of"))
                .and(predicates::str::contains("`plan=growth`").not()),
        );
    assert!(!dir.path().join("out/as_of=2026-11-01/_SUCCESS").exists());
}
