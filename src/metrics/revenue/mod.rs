//! Revenue: MRR per account and month, its movements, and the ratios over
//! the complete months of the period (expansion rate, net and gross revenue
//! retention, upsell rate, customer lifetime value).

pub mod by_account;
pub mod customer_lifetime_value;
pub mod expansion_revenue_rate;
pub mod gross_revenue_retention;
pub mod mrr;
pub mod net_revenue_retention;
pub mod revenue_movements;
pub mod upsell_rate;

use polars::prelude::*;

use crate::error::Result;
use crate::metrics::{MetricPlan, PlanContext, Reference, Sums, Units};
use crate::stats::{Direction, Kind};
use mrr::revenue_per_account;

/// Revenue sums are whole cents; outputs are in the currency unit.
pub(crate) const CENTS_PER_UNIT: f64 = 100.0;

/// No complete month in the period: the revenue metrics have no rows.
pub(crate) const NO_COMPLETE_MONTH: &str = "the period has no complete month; no rows";

/// Builds one aggregate over [`revenue_per_account`], or nothing when the
/// period has no complete month.
pub(crate) fn over_revenue_per_account(
    ctx: &PlanContext,
    kind: Kind,
    filter: Option<Expr>,
    sums: Sums,
) -> Result<MetricPlan> {
    let Some(per_account) = revenue_per_account(ctx)? else {
        return Ok(MetricPlan::skipped(NO_COMPLETE_MONTH));
    };
    let units = match filter {
        Some(f) => per_account.filter(f),
        None => per_account,
    };
    Ok(revenue_plan(ctx, units, kind, sums))
}

/// Revenue metrics count accounts with their cohort at S; more is better.
pub(crate) fn revenue_plan(
    ctx: &PlanContext,
    units: LazyFrame,
    kind: Kind,
    sums: Sums,
) -> MetricPlan {
    MetricPlan::one(Units::new(units, Reference::PeriodStart, ctx).plan(
        ctx,
        kind,
        Direction::HigherIsBetter,
        sums,
    ))
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    const ALL: &str = "[expansion_revenue_rate, net_revenue_retention, gross_revenue_retention, upsell_rate, customer_lifetime_value]";

    #[test]
    fn revenue_retention_ratios() {
        // Base = MRR(Oct) > 0: {1: 100, 2: 50, 4: 200, 8: 30}, Σ = 380. Dec: 1: 120, 2: 0, 4: 0, 8: 45 → Σ 165.
        // NRR = 165/380; GRR = (min(120,100) + 0 + 0 + min(45,30))/380 = 130/380.
        // trained {1, 4}: NRR 120/300, GRR 100/300. untrained {2}: 0/50.
        let c = Fixture::tiny().compute(ALL);
        assert_close(value(&c, "net_revenue_retention", "all"), 165.0 / 380.0);
        assert_close(value(&c, "gross_revenue_retention", "all"), 130.0 / 380.0);
        assert_close(value(&c, "net_revenue_retention", "trained"), 0.4);
        assert_close(
            value(&c, "gross_revenue_retention", "trained"),
            100.0 / 300.0,
        );
        assert_close(value(&c, "net_revenue_retention", "untrained"), 0.0);
        let nrr = row(&c, "net_revenue_retention", "all", None, None);
        assert_eq!(
            (nrr.numerator, nrr.denominator, nrr.n),
            (Some(165.0), Some(380.0), 4)
        );
        // Delta method on the accounts' (Dec, Oct) MRR (docs/STATISTICS.md): Σ(X − R·Y)² = (120 − 43.42)² +
        // 21.71² + 86.84² + (45 − 13.03)² = 15.70·10³; var = 4/3 · that/380² = 0.1375766,
        // se 0.3709132 (statsmodels WLS of X/Y with weights Y, HC1: 0.3709132481955076).
        assert!(
            (nrr.ci_high.unwrap() - (165.0 / 380.0 + 1.959964 * 0.3709132481955076)).abs() < 1e-12
        );
        assert_eq!(nrr.clusters, Some(4));
        // trained {1, 4}: 2 · ((120 − 40)² + 80²)/300² = 0.284444, se 0.5333333 (statsmodels).
        let trained = row(&c, "net_revenue_retention", "trained", None, None);
        assert!((trained.ci_low.unwrap() - (0.4 - 1.959964 * 0.5333333333333334)).abs() < 1e-12);
        // untrained is one account: no variance, so no p-value and no difference interval.
        let l = lift(&c, "net_revenue_retention", None);
        assert_eq!((l.p_value, l.diff_ci_low), (None, None));
    }

    #[test]
    fn expansion_rate_and_upsell() {
        // Σ expansion over Nov–Dec = 20 (1) + 15 (8) = 35; Σ MRR Nov = 120 + 90 + 200 + 40 + 30 = 480, Dec = 275 → 755.
        // trained {1, 4}: 20/(240 + 200); untrained {2, 3}: 0/160.
        // upsell: paying in Nov or Dec = {1, 3, 4, 5, 8}; expanded {1, 8} → 2/5; trained 1/2; untrained {3} 0/1.
        let c = Fixture::tiny().compute(ALL);
        assert_close(value(&c, "expansion_revenue_rate", "all"), 35.0 / 755.0);
        assert_close(value(&c, "expansion_revenue_rate", "trained"), 20.0 / 440.0);
        assert_close(value(&c, "expansion_revenue_rate", "untrained"), 0.0);
        assert_close(value(&c, "upsell_rate", "all"), 0.4);
        assert_close(value(&c, "upsell_rate", "trained"), 0.5);
        assert_close(value(&c, "upsell_rate", "untrained"), 0.0);
        assert_eq!(row(&c, "upsell_rate", "all", None, None).n, 5);
    }

    #[test]
    fn customer_lifetime_value() {
        // ARPA = 755 / 9 paid account-months (Nov: 1, 3, 4, 5, 8; Dec: 1, 3, 5, 8) = 83.888889; logo
        // retention 3/5 over the 2-month period, so q = 1 − c = 0.6^(1/2) and q^36 = 0.6^18:
        // Σ_{m<36} q^m = (1 − 0.6^18)/(1 − √0.6) = 4.436041 → CLV = 372.134559 (the infinite horizon:
        // 83.888889/0.225403 = 372.172357, nearly reached at this churn).
        // trained: 440/3 account-months, retention 1/2: (1 − 0.5^18)/(1 − √0.5) = 3.414200 → 500.749412;
        // untrained: 160/2, retention 1/2 → 273.136043.
        let c = Fixture::tiny().compute(ALL);
        let clv = |cohort: &str| value(&c, "customer_lifetime_value", cohort).unwrap();
        let sum = |q: f64| (0..36).map(|m| q.powi(m)).sum::<f64>();
        assert!((clv("all") - 755.0 / 9.0 * sum(0.6f64.sqrt())).abs() < 1e-9);
        assert!((clv("all") - 372.134559).abs() < 1e-6, "{}", clv("all"));
        assert!((clv("trained") - 440.0 / 3.0 * sum(0.5f64.sqrt())).abs() < 1e-9);
        assert!((clv("untrained") - 80.0 * sum(0.5f64.sqrt())).abs() < 1e-9);
        // gross_margin 0.8 scales it; `horizon_months: null` is the infinite-horizon formula.
        let c = Fixture::tiny()
            .compute("[{ customer_lifetime_value: { gross_margin: 0.8, horizon_months: null } }]");
        assert!(
            (value(&c, "customer_lifetime_value", "all").unwrap() - 0.8 * 372.1723570).abs() < 1e-6
        );
        // A 12-month horizon: Σ_{m<12} √0.6^m = (1 − 0.6⁶)/(1 − √0.6) = 4.229503.
        let c = Fixture::tiny().compute("[{ customer_lifetime_value: { horizon_months: 12 } }]");
        assert!(
            (value(&c, "customer_lifetime_value", "all").unwrap() - 755.0 / 9.0 * 4.229503).abs()
                < 1e-4
        );
    }
}
