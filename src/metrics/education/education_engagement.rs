//! `education_engagement`: share of customers engaged with training.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Units};
use crate::time::{date_lit, in_range};

/// docs/METRICS.md#education_engagement: "accounts with a training row whose
/// enrolled_at or completed_at falls in [S, A) / customers in period".
/// Without an `enrolled_at` column only completions count. Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EducationEngagement {}

impl Metric for EducationEngagement {
    fn description(&self) -> &'static str {
        "Customers in [S, A) with a training enrolment or completion in the period / customers in the period."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Training, "account_id"),
            (SourceName::Training, "completed_at"),
        ]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let (s, a) = (date_lit(ctx.period.start), date_lit(ctx.period.as_of));
        let mut active = in_range(col("completed_at"), s.clone(), a.clone()).fill_null(lit(false));
        if ctx
            .inputs
            .get(SourceName::Training)
            .is_some_and(|t| t.has_column("enrolled_at"))
        {
            active = active.or(in_range(col("enrolled_at"), s, a).fill_null(lit(false)));
        }
        let engaged = ctx
            .source(SourceName::Training)?
            .filter(active)
            .select([col("account_id")])
            .unique_stable(None, UniqueKeepStrategy::First)
            .with_column(lit(true).alias("engaged"));
        let customers = ctx.customers_in_period().join(
            engaged,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        );
        let plan = Units::new(customers, Reference::PeriodStart, ctx)
            .share(ctx, col("engaged").fill_null(lit(false)));
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn customers_with_training_activity() {
        // Customers {1, 3, 4, 5, 8}: 1 enrolled 11-10, 3 enrolled 12-20, 4 enrolled on S, 5 enrolled and completed;
        // 8's only row is before S → 4/5. trained {1, 4}: 2/2; untrained {3}: 1/1.
        let c = Fixture::catalog().compute_catalog("[education_engagement]");
        assert_close(value(&c, "education_engagement", "all"), 0.8);
        assert_close(value(&c, "education_engagement", "trained"), 1.0);
        assert_close(value(&c, "education_engagement", "untrained"), 1.0);
    }
}
