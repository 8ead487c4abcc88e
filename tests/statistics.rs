//! The statistics of the bundled sample run against references we did not
//! write. The reference numbers were computed once from the sample's raw
//! files with statsmodels 0.15 / scipy 1.17 and are written in, not
//! recomputed:
//! - NPS, responses nested in accounts: `OLS(x, 1).fit(cov_type="cluster",
//!   groups=account_id)` with x = 100·(promoter − detractor) over the
//!   responses in [S, A) of each cohort at S;
//! - NRR, a ratio of sums: `WLS(X/Y, 1, weights=Y).fit(cov_type="HC1")` over
//!   the base accounts' (MRR of Oct 2026, MRR of Oct 2025) in cents, which is
//!   the delta-method variance G/(G−1)·Σ(X − R·Y)²/(ΣY)²;
//! - counts per account (referrals, tickets): the per-account counts in
//!   [S, A) of the customers in the period of each cohort at S (accounts
//!   without any count 0), `CompareMeans(DescrStatsW(trained),
//!   DescrStatsW(untrained)).ztest_ind(usevar="unequal")`;
//! - q-values: `multipletests(p, method="fdr_bh")` within each `family` of
//!   the run's 228 lift rows with a p-value;
//! - survival: lifelines 0.30 `KaplanMeierFitter` over each cohort's days
//!   from the landmark to churn (event) or to A (censored), and
//!   `restricted_mean_survival_time(kmf, t=365)`.

mod common;

use common::*;
use polars::prelude::*;

fn one(df: &DataFrame, filter: Expr, column: &str) -> f64 {
    let values = floats(df, filter, column);
    assert_eq!(values.len(), 1, "{column}: expected one row");
    values[0].unwrap_or(f64::NAN)
}

/// The metric's row without segment or dimension over the whole period
/// (not a month row: those start later or end earlier).
fn overall(metric: &str) -> Expr {
    col("metric")
        .eq(lit(metric))
        .and(col("segment").is_null())
        .and(col("dimension").is_null())
        .and(
            col("period_start")
                .cast(DataType::String)
                .eq(lit("2025-11-01")),
        )
        .and(
            col("period_end")
                .cast(DataType::String)
                .eq(lit("2026-11-01")),
        )
}

fn close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance * expected.abs().max(1e-300),
        "{what}: {actual} is not {expected} (relative {tolerance})"
    );
}

#[test]
fn the_sample_runs_statistics_match_statsmodels() {
    let dir = tempfile::tempdir().unwrap();
    let partition = sample_run_as_of(dir.path(), "2026-11-01");
    let metrics = read_table(&partition, "metrics");
    let lift = read_table(&partition, "lift");
    // The standard error behind a cohort's interval: (ci_high − value)/z.
    let se = |metric: &str, cohort: &str| {
        let filter = overall(metric).and(col("cohort").eq(lit(cohort)));
        let value = one(&metrics, filter.clone(), "value");
        (one(&metrics, filter, "ci_high") - value) / 1.959964
    };
    let count = |metric: &str, cohort: &str, column: &str| {
        one(
            &metrics,
            overall(metric).and(col("cohort").eq(lit(cohort))),
            column,
        )
    };

    // NPS: CR1 by account. trained 221 responses from 171 accounts, untrained 344 from 273.
    close(
        se("nps", "trained"),
        5.434943565280644,
        1e-12,
        "nps trained se",
    );
    close(
        se("nps", "untrained"),
        4.248846439602071,
        1e-12,
        "nps untrained se",
    );
    assert_eq!(
        (
            count("nps", "trained", "n"),
            count("nps", "trained", "clusters")
        ),
        (221.0, 171.0)
    );
    assert_eq!(count("nps", "untrained", "clusters"), 273.0);
    // Wald z of the difference with var₁ + var₀ → 2·norm.sf(|z|).
    close(
        one(&lift, overall("nps"), "p_value"),
        8.745248042436709e-18,
        1e-9,
        "nps p",
    );
    // The untrained NPS is negative, so no rel_lift (docs/OUTPUTS.md).
    assert!(one(&lift, overall("nps"), "rel_lift").is_nan());

    // NRR: delta method over the 264 trained and 439 untrained base accounts.
    close(
        se("net_revenue_retention", "trained"),
        0.05474998521349319,
        1e-12,
        "nrr trained se",
    );
    close(
        se("net_revenue_retention", "untrained"),
        0.04911749988755919,
        1e-12,
        "nrr untrained se",
    );

    // Referrals are compared per account (docs/STATISTICS.md), not as raw counts: 38 referrals from
    // 263 trained accounts vs 27 from 434 untrained: 0.1444867 vs 0.0622120, rel_lift 1.32249;
    // with the variance of the accounts' counts, z = 3.0606054 → p = 0.002208899781142213
    // (statsmodels ztest_ind, unequal; the Poisson rule would have given 0.00177).
    let referrals = col("metric")
        .eq(lit("referral_rate"))
        .and(col("segment").is_null())
        .and(col("dimension").eq(lit("referrals")));
    close(
        one(&lift, referrals.clone(), "rel_lift"),
        (38.0 / 263.0) / (27.0 / 434.0) - 1.0,
        1e-12,
        "referrals rel_lift",
    );
    close(
        one(&lift, referrals, "p_value"),
        0.002208899781142213,
        1e-9,
        "referrals p",
    );
    // Tickets: 1151 from 263 trained accounts, 2633 from 434 untrained; the counts' variance is
    // 1.82 and 2.32 times their mean (overdispersed): z = −6.7507657 → p = 1.4706697189984484e-11
    // (statsmodels; the Poisson rule gave 4e-22).
    close(
        one(&lift, overall("support_incident_rate"), "p_value"),
        1.4706697189984484e-11,
        1e-9,
        "tickets p",
    );

    // Benjamini–Hochberg within each family (statsmodels fdr_bh over the family's p-values).
    for (metric, family, q) in [
        ("churn_rate", "primary", 2.7757660431445054e-06),
        ("net_revenue_retention", "primary", 0.004569600006255408),
        ("nps", "guardrail", 2.623574412730979e-17),
        ("support_incident_rate", "guardrail", 2.206004578497652e-11),
        ("gross_revenue_retention", "secondary", 0.10067896453022943),
    ] {
        close(one(&lift, overall(metric), "q_value"), q, 1e-9, metric);
        let families = lift
            .clone()
            .lazy()
            .filter(overall(metric))
            .collect()
            .unwrap();
        let family_of = families.column("family").unwrap().str().unwrap().clone();
        assert_eq!(family_of.get(0), Some(family), "{metric}");
    }
    let count = |filter: Expr| {
        lift.clone()
            .lazy()
            .filter(filter)
            .collect()
            .unwrap()
            .height()
    };
    assert_eq!(count(col("p_value").is_not_null()), 228);
    for (family, rows) in [
        ("primary", 3),
        ("guardrail", 3),
        ("secondary", 17),
        ("exploratory", 205),
    ] {
        assert_eq!(count(col("family").eq(lit(family))), rows, "{family}");
    }
    // Every row with a p-value has a family; none without.
    assert_eq!(
        count(col("p_value").is_not_null().and(col("family").is_null())),
        0
    );
    // Without `adjust` the adjusted columns are null on every row and `balance` is empty.
    assert_eq!(read_table(&partition, "balance").height(), 0);
    for column in [
        "adjusted_abs_diff",
        "adjusted_p_value",
        "adjusted_e_value",
        "adjusted_mde",
    ] {
        assert_eq!(lift.column(column).unwrap().null_count(), lift.height());
    }

    // Survival (lifelines): 552 trained and 1099 untrained accounts assigned at A. Restricted
    // mean survival time up to 365 days: 340.5650410143887 and 309.4000281526969 days; the
    // Kaplan–Meier curve at day 100 (trained) 0.9636512518572079 and at day 365 0.8756422939987428
    // (trained) and 0.703984032089376 (untrained).
    let rmst = |cohort: &str| {
        let filter = col("metric")
            .eq(lit("survival"))
            .and(col("segment").is_null())
            .and(col("dimension").eq(lit("rmst_days=365")))
            .and(col("cohort").eq(lit(cohort)));
        one(&metrics, filter, "value")
    };
    close(rmst("trained"), 340.5650410143887, 1e-12, "rmst trained");
    close(
        rmst("untrained"),
        309.4000281526969,
        1e-12,
        "rmst untrained",
    );
    let curve = read_table(&partition, "survival_curve");
    let at = |cohort: &str, day: i64| {
        let rows = curve
            .clone()
            .lazy()
            .filter(
                col("cohort")
                    .eq(lit(cohort))
                    .and(col("segment").is_null())
                    .and(col("day").lt_eq(lit(day))),
            )
            .sort(["day"], Default::default())
            .collect()
            .unwrap();
        let survival = rows.column("survival").unwrap().f64().unwrap().clone();
        survival.get(survival.len() - 1).unwrap()
    };
    close(
        at("trained", 100),
        0.9636512518572079,
        1e-12,
        "S(100) trained",
    );
    close(
        at("trained", 365),
        0.8756422939987428,
        1e-12,
        "S(365) trained",
    );
    close(
        at("untrained", 365),
        0.703984032089376,
        1e-12,
        "S(365) untrained",
    );
}

/// docs/STATISTICS.md#money: the `impact` rows are the primary and guardrail
/// lift rows carried to money per year, recomputed here from the `lift` and
/// `metrics` tables; `primary:` and `guardrails:` choose the families, and
/// a list that names a metric the pipeline lacks is refused.
#[test]
fn impact_rows_carry_the_primary_and_guardrail_differences_to_money() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_pipeline_with(
        dir.path(),
        "money:    { currency: USD, cost_per_ticket: 30 }\nadjust:   { covariates: [plan] }",
    );
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let partition = dir.path().join("out/as_of=2026-11-01");
    let (lift, metrics, impact) = (
        read_table(&partition, "lift"),
        read_table(&partition, "metrics"),
        read_table(&partition, "impact"),
    );
    let trained_mrr = one(
        &metrics,
        overall("net_revenue_retention").and(col("cohort").eq(lit("trained"))),
        "denominator",
    );
    let row = |metric: &str, estimate: &str, quantity: &str, column: &str| {
        one(
            &impact,
            col("metric")
                .eq(lit(metric))
                .and(col("estimate").eq(lit(estimate)))
                .and(col("quantity").eq(lit(quantity))),
            column,
        )
    };
    for (estimate, diff, low, high) in [
        ("naive", "abs_diff", "diff_ci_low", "diff_ci_high"),
        (
            "adjusted",
            "adjusted_abs_diff",
            "adjusted_ci_low",
            "adjusted_ci_high",
        ),
    ] {
        // Churn: −difference × the trained starting MRR × 12; the interval flips with the sign.
        let churn = |c: &str| one(&lift, overall("churn_rate"), c);
        let kept = "revenue_kept_per_year";
        close(
            row("churn_rate", estimate, kept, "value"),
            -churn(diff) * trained_mrr * 12.0,
            1e-12,
            "churn",
        );
        close(
            row("churn_rate", estimate, kept, "ci_low"),
            -churn(high) * trained_mrr * 12.0,
            1e-12,
            "churn low",
        );
        close(
            row("churn_rate", estimate, kept, "ci_high"),
            -churn(low) * trained_mrr * 12.0,
            1e-12,
            "churn high",
        );
        let nrr = |c: &str| one(&lift, overall("net_revenue_retention"), c);
        close(
            row("net_revenue_retention", estimate, kept, "value"),
            nrr(diff) * trained_mrr * 12.0,
            1e-12,
            "nrr",
        );
        // Tickets: −difference × the trained accounts, and × 30 with `cost_per_ticket`.
        let tickets = |c: &str| one(&lift, overall("support_incident_rate"), c);
        let n = tickets("n_trained");
        close(
            row(
                "support_incident_rate",
                estimate,
                "tickets_avoided_per_year",
                "value",
            ),
            -tickets(diff) * n,
            1e-12,
            "tickets",
        );
        close(
            row(
                "support_incident_rate",
                estimate,
                "ticket_cost_avoided_per_year",
                "ci_high",
            ),
            -tickets(low) * n * 30.0,
            1e-12,
            "ticket cost",
        );
    }
    // Four rows per estimate: churn, NRR, tickets and their cost; nothing for NPS, CSAT or the
    // restricted mean (no money basis), nothing exploratory.
    assert_eq!(impact.height(), 8);
    let currency = impact.column("currency").unwrap().str().unwrap().clone();
    assert_eq!(currency.get(0), Some("USD"));

    // `primary: [survival]` leaves churn and NRR secondary: no revenue rows; tickets stay.
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_pipeline_with(dir.path(), "primary:  [survival]");
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let partition = dir.path().join("out/as_of=2026-11-01");
    let impact = read_table(&partition, "impact");
    assert_eq!(impact.height(), 1, "{impact}");
    let lift = read_table(&partition, "lift");
    let family = |metric: &str| {
        let f = lift
            .clone()
            .lazy()
            .filter(overall(metric))
            .collect()
            .unwrap();
        f.column("family")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .map(str::to_string)
    };
    assert_eq!(family("churn_rate").as_deref(), Some("secondary"));
    assert_eq!(
        family("support_incident_rate").as_deref(),
        Some("guardrail")
    );

    // Ids the pipeline does not compute, descriptive ones and one in both lists are refused.
    let pipeline = sample_pipeline_with(
        dir.path(),
        "primary:  [churn_rate, churn_rate_v2, training_completion_rate]\nguardrails: [churn_rate]",
    );
    let assert = validate_exits(&pipeline, 2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    for expected in [
        "`primary` names `churn_rate_v2`, which is not one of this pipeline's metrics",
        "`primary` names `training_completion_rate`, a descriptive metric",
        "`churn_rate` is in both `primary` and `guardrails`",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
}

/// docs/STATISTICS.md#descriptive-metrics and #power on the sample: the
/// health score's `trained` signal is named by `validate`; every lift row's
/// `mde` is (1.959964 + 0.841621) × the standard error of its interval.
#[test]
fn validate_names_the_trained_signal_and_mde_follows_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_pipeline_with(dir.path(), "");
    let output = bin().arg("validate").arg(&pipeline).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("metric `health_score`: the signals include `trained` (weight 0.1)")
            && stderr.contains("`without_trained`"),
        "{stderr}"
    );
    bin().args(["-q", "run"]).arg(&pipeline).assert().success();
    let lift = read_table(&dir.path().join("out/as_of=2026-11-01"), "lift");
    let (low, high, mde) = (
        floats(&lift, lit(true), "diff_ci_low"),
        floats(&lift, lit(true), "diff_ci_high"),
        floats(&lift, lit(true), "mde"),
    );
    let mut checked = 0;
    for ((low, high), mde) in low.iter().zip(&high).zip(&mde) {
        match (low, high) {
            (Some(low), Some(high)) => {
                let se = (high - low) / (2.0 * 1.959964);
                close(mde.unwrap(), (1.959964 + 0.841621) * se, 1e-6, "mde");
                checked += 1;
            }
            _ => assert_eq!(*mde, None),
        }
    }
    assert!(checked > 200, "{checked}");
}
