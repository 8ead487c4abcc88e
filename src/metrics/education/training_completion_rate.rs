//! `training_completion_rate`: share of enrolments in the period completed.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Units};
use crate::time::date_lit;

/// docs/METRICS.md#training_completion_rate: "training rows with enrolled_at in
/// [S, A): rows with completed_at < A / rows (needs enrolled_at)".
/// Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingCompletionRate {}

impl Metric for TrainingCompletionRate {
    fn description(&self) -> &'static str {
        "Training rows enrolled in [S, A) that were completed before A / those rows."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Training, "account_id"),
            (SourceName::Training, "enrolled_at"),
            (SourceName::Training, "completed_at"),
        ]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let enrolments = ctx.rows_in_period(SourceName::Training, "enrolled_at")?;
        let completed = col("completed_at")
            .is_not_null()
            .and(col("completed_at").lt(date_lit(ctx.period.as_of)));
        let plan = Units::new(enrolments, Reference::PeriodStart, ctx)
            .nested()
            .share(ctx, completed);
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn enrolments_in_the_period_completed_before_a() {
        // Enrolled in [S, A): 1/c2 (not completed), 3/c9 (completed 2026-01-02, after A), 4/c2 (enrolled on S,
        // completed), 5/c1 (completed) → 2/4. trained {1, 4}: 1/2; untrained {3}: 0/1; 5 is unassigned at S.
        let c = Fixture::catalog().compute_catalog("[training_completion_rate]");
        assert_close(value(&c, "training_completion_rate", "all"), 0.5);
        assert_close(value(&c, "training_completion_rate", "trained"), 0.5);
        assert_close(value(&c, "training_completion_rate", "untrained"), 0.0);
    }
}
