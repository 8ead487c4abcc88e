//! `referral_rate`: share of customers who referred someone, and the count.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::presentation::Unit;
use crate::metrics::{Measure, Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::stats::{Direction, Kind};

/// docs/METRICS.md#referral_rate: "accounts with ≥ 1 referral in [S, A) / customers
/// in period (numerator = referring accounts; dimension `referrals` gives the
/// count of referrals)". The `referrals` row compares referrals per customer
/// (numerator = referrals, denominator = customers in the period), by
/// docs/STATISTICS.md#counts-per-account: "A count compared between cohorts is compared per account (the
/// counts-per-account rule above), never as raw totals of cohorts of
/// different sizes."
/// Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRate {}

impl Metric for ReferralRate {
    /// The share of referring customers and the referrals per customer.
    fn overall_row(&self, dimension: Option<&str>, rows: (i32, i32), period: (i32, i32)) -> bool {
        matches!(dimension, None | Some("referrals")) && rows == period
    }

    /// `referrals` is referrals per customer; the other row is a share.
    fn unit_of_dimension(&self, dimension: &str) -> Option<Unit> {
        (dimension == "referrals").then_some(Unit::Number)
    }

    fn description(&self) -> &'static str {
        "Customers in [S, A) who referred at least once / customers in the period; dimension `referrals`: referrals per customer (numerator = referrals)."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Referrals, "account_id"),
            (SourceName::Referrals, "referred_at"),
        ]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let customers = ctx.customers_with_counts(SourceName::Referrals, "referred_at")?;
        let share = Measure::share(lit(NULL), col("count").gt(lit(0.0)));
        let count = Measure {
            dimension: lit("referrals"),
            period: None,
            kind: Kind::Rate,
            direction: Direction::HigherIsBetter,
            sums: Sums::count(col("count")),
        };
        Ok(MetricPlan::many(
            Units::new(customers, Reference::PeriodStart, ctx).measures(ctx, vec![share, count]),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn referring_customers_and_referral_count() {
        // Customers {1, 3, 4, 5, 8}; referrals in [S, A): 1 (twice), 5; 2 is not a customer in the period.
        // share: {1, 5} = 2/5; trained {1, 4}: 1/2; untrained {3}: 0/1.
        // Referrals per customer: all 3/5, trained 2/2, untrained 0/1.
        let c = Fixture::catalog().compute_catalog("[referral_rate]");
        assert_close(value(&c, "referral_rate", "all"), 0.4);
        assert_close(value(&c, "referral_rate", "trained"), 0.5);
        let all = row(&c, "referral_rate", "all", None, Some("referrals"));
        assert_eq!(all.numerator, Some(3.0));
        assert_close(all.value, 0.6);
        assert_close(
            row(&c, "referral_rate", "trained", None, Some("referrals")).value,
            1.0,
        );
        assert_close(
            row(&c, "referral_rate", "untrained", None, Some("referrals")).value,
            0.0,
        );
        assert_eq!(
            row(&c, "referral_rate", "all", None, Some("referrals")).denominator,
            Some(5.0)
        );
    }
}
