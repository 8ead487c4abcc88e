//! `customer_base_coverage`: share of customers the success team reached.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Units};

/// docs/METRICS.md#customer_base_coverage: "accounts with ≥ 1 touchpoint in [S, A)
/// / customers in period". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBaseCoverage {}

impl Metric for CustomerBaseCoverage {
    fn description(&self) -> &'static str {
        "Customers in [S, A) with at least one touchpoint in the period / customers in the period."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Touchpoints, "account_id"),
            (SourceName::Touchpoints, "contacted_at"),
        ]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let customers = ctx.customers_with_counts(SourceName::Touchpoints, "contacted_at")?;
        let plan = Units::new(customers, Reference::PeriodStart, ctx)
            .share(ctx, col("count").gt(lit(0.0)));
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn customers_reached_in_the_period() {
        // Customers {1, 3, 4, 5, 8}; touchpoints in [S, A): 1 (twice), 8; 3's is before S → 2/5.
        // trained {1, 4}: 1/2; untrained {3}: 0/1.
        let c = Fixture::catalog().compute_catalog("[customer_base_coverage]");
        let all = row(&c, "customer_base_coverage", "all", None, None);
        assert_close(all.value, 0.4);
        assert_eq!((all.numerator, all.denominator), (Some(2.0), Some(5.0)));
        assert_close(value(&c, "customer_base_coverage", "trained"), 0.5);
        assert_close(value(&c, "customer_base_coverage", "untrained"), 0.0);
    }
}
