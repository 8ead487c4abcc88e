//! `churn_rate`: the share of pop(S) that churned before A.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{account_requirements, over_customers_at_start};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext};
use crate::stats::Direction;
use crate::time::churned_during;

/// docs/METRICS.md#churn_rate: "churned during [S, A) / pop(S)". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChurnRate {}

impl Metric for ChurnRate {
    fn money(&self) -> Option<crate::stats::impact::MoneyBasis> {
        Some(crate::stats::impact::MoneyBasis::ChurnOfRevenue)
    }

    fn description(&self) -> &'static str {
        "Share of the customers at S who churned before A: churned during [S, A) / pop(S)."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        account_requirements()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        Ok(over_customers_at_start(
            ctx,
            Direction::LowerIsBetter,
            churned_during,
        ))
    }
}
