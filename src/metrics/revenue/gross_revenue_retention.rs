//! `gross_revenue_retention`: MRR kept by the accounts paying in M0, expansion excluded.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mrr::requirements;
use super::{over_revenue_per_account, CENTS_PER_UNIT};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Sums};
use crate::stats::Kind;

/// docs/METRICS.md#gross_revenue_retention: "Σ_base min(MRR(a, Mk), MRR(a, M0)) /
/// Σ_base MRR(a, M0)". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrossRevenueRetention {}

impl Metric for GrossRevenueRetention {
    fn money(&self) -> Option<crate::stats::impact::MoneyBasis> {
        Some(crate::stats::impact::MoneyBasis::RetentionOfRevenue)
    }

    fn description(&self) -> &'static str {
        "Like net revenue retention, with each account's MRR capped at its M0 value (no expansion credit)."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let base = col("mrr_m0").gt(lit(0.0));
        let capped = when(col("mrr_mk").lt(col("mrr_m0")))
            .then(col("mrr_mk"))
            .otherwise(col("mrr_m0"));
        over_revenue_per_account(
            ctx,
            Kind::Ratio {
                divisor: CENTS_PER_UNIT,
            },
            Some(base),
            Sums::ratio(capped, col("mrr_m0")),
        )
    }
}
