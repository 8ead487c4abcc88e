//! A metric registered for the tests only (`#[cfg(test)]` in the registry):
//! the catalog and the report must show it with its own title, unit and
//! theme, written nowhere but in its registry line.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Metric, MetricPlan, PlanContext};
use crate::config::SourceName;
use crate::error::Result;

/// Days to a test: no plan, only a presentation.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestOnlyDays {}

impl Metric for TestOnlyDays {
    fn description(&self) -> &'static str {
        "Days to a test (registered by the tests only)."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![(SourceName::Accounts, "account_id")]
    }

    fn plan(&self, _ctx: &PlanContext) -> Result<MetricPlan> {
        Ok(MetricPlan::skipped("registered by the tests only"))
    }
}
