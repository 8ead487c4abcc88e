//! `net_revenue_retention`: MRR kept and grown by the accounts paying in M0.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mrr::requirements;
use super::{over_revenue_per_account, CENTS_PER_UNIT};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Sums};
use crate::stats::Kind;

/// docs/METRICS.md#net_revenue_retention: "base = accounts with MRR(a, M0) > 0:
/// Σ_base MRR(a, Mk) / Σ_base MRR(a, M0)". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetRevenueRetention {}

impl Metric for NetRevenueRetention {
    fn money(&self) -> Option<crate::stats::impact::MoneyBasis> {
        Some(crate::stats::impact::MoneyBasis::RetentionOfRevenue)
    }

    fn description(&self) -> &'static str {
        "MRR in the last complete month of the accounts paying in M0 / their MRR in M0."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let base = col("mrr_m0").gt(lit(0.0));
        over_revenue_per_account(
            ctx,
            Kind::Ratio {
                divisor: CENTS_PER_UNIT,
            },
            Some(base),
            Sums::ratio(col("mrr_mk"), col("mrr_m0")),
        )
    }
}
