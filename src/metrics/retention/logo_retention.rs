//! `logo_retention`: the share of pop(S) still customers at A.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{account_requirements, over_customers_at_start};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext};
use crate::stats::Direction;
use crate::time::retained_over;

/// docs/METRICS.md#logo_retention: "retained over [S, A) / pop(S)". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoRetention {}

impl Metric for LogoRetention {
    fn description(&self) -> &'static str {
        "Share of the customers at S still customers at A: retained over [S, A) / pop(S)."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        account_requirements()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        Ok(over_customers_at_start(
            ctx,
            Direction::HigherIsBetter,
            retained_over,
        ))
    }
}
