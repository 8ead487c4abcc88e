//! `upsell_rate`: the share of paying accounts with an expansion.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mrr::requirements;
use super::over_revenue_per_account;
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Sums};
use crate::stats::Kind;

/// docs/METRICS.md#upsell_rate: "accounts with ≥ 1 expansion in M1…Mk / accounts
/// with MRR > 0 in at least one of M1…Mk". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsellRate {}

impl Metric for UpsellRate {
    fn description(&self) -> &'static str {
        "Accounts with at least one expansion in the complete months / accounts paying in at least one of them."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let paying = col("paid_months").gt(lit(0.0));
        over_revenue_per_account(
            ctx,
            Kind::Proportion,
            Some(paying),
            Sums::proportion(col("expanded")),
        )
    }
}
