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
//! - q-values: `multipletests(p, method="fdr_bh")` over the run's 240 lift
//!   rows with a p-value;
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

fn overall(metric: &str) -> Expr {
    col("metric")
        .eq(lit(metric))
        .and(col("segment").is_null())
        .and(col("dimension").is_null())
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
    // 263 trained accounts vs 27 from 434 untrained: 0.1444867 vs 0.0622120, rel_lift
    // 1.32249; z = 0.0822747/√(38/263² + 27/434²) = 3.125979 → p = 0.00177214 (2·norm.sf).
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
    let z = (38.0 / 263.0 - 27.0 / 434.0)
        / (38.0 / (263.0f64 * 263.0) + 27.0 / (434.0f64 * 434.0)).sqrt();
    assert!((z - 3.125979).abs() < 1e-6, "{z}");
    close(
        one(&lift, referrals, "p_value"),
        0.0017721425117040324,
        1e-9,
        "referrals p",
    );

    // Benjamini–Hochberg over the run's lift rows (statsmodels fdr_bh).
    for (metric, q) in [
        ("churn_rate", 1.1103064172578022e-05),
        ("nps", 2.998370757406833e-16),
        ("gross_revenue_retention", 0.13299182105128346),
    ] {
        close(one(&lift, overall(metric), "q_value"), q, 1e-9, metric);
    }
    let with_p = lift
        .clone()
        .lazy()
        .filter(col("p_value").is_not_null())
        .collect()
        .unwrap();
    assert_eq!(with_p.height(), 240);
    // Without `adjust` the adjusted columns are null on every row and `balance` is empty.
    assert_eq!(read_table(&partition, "balance").height(), 0);
    for column in ["adjusted_abs_diff", "adjusted_p_value", "e_value"] {
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
