//! `save_rate`: share of cancellation requests that were saved.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Units};

/// docs/METRICS.md#save_rate: "cancellation requests in [S, A) with outcome saved /
/// requests" (outcome compared case-insensitively). Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveRate {}

impl Metric for SaveRate {
    fn description(&self) -> &'static str {
        "Cancellation requests in [S, A) with outcome `saved` / requests."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Cancellations, "account_id"),
            (SourceName::Cancellations, "requested_at"),
            (SourceName::Cancellations, "outcome"),
        ]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let requests = ctx.rows_in_period(SourceName::Cancellations, "requested_at")?;
        let saved = col("outcome").str().to_lowercase().eq(lit("saved"));
        let plan = Units::new(requests, Reference::PeriodStart, ctx)
            .nested()
            .share(ctx, saved);
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn saved_requests_any_case() {
        // In [S, A): 1 "Saved", 3 "churned", 4 "SAVED" (2's request is before S) → 2/3.
        // trained {1, 4}: 2/2; untrained {3}: 0/1.
        let c = Fixture::catalog().compute_catalog("[save_rate]");
        assert_close(value(&c, "save_rate", "all"), 2.0 / 3.0);
        assert_close(value(&c, "save_rate", "trained"), 1.0);
        assert_close(value(&c, "save_rate", "untrained"), 0.0);
    }
}
