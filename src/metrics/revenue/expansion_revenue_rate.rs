//! `expansion_revenue_rate`: expansion MRR over total MRR of the complete months.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mrr::requirements;
use super::{over_revenue_per_account, CENTS_PER_UNIT};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Sums};
use crate::stats::Kind;

/// docs/METRICS.md#expansion_revenue_rate: "Σ expansion over M1…Mk / Σ MRR over all
/// accounts and M1…Mk". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpansionRevenueRate {}

impl Metric for ExpansionRevenueRate {
    fn description(&self) -> &'static str {
        "Expansion MRR over the complete months / total MRR over the same months."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let sums = Sums {
            n: col("mrr_sum").gt(lit(0.0)),
            ..Sums::ratio(col("expansion_sum"), col("mrr_sum"))
        };
        over_revenue_per_account(
            ctx,
            Kind::Ratio {
                divisor: CENTS_PER_UNIT,
            },
            None,
            sums,
        )
    }
}
