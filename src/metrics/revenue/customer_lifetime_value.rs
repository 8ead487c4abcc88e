//! `customer_lifetime_value`: ARPA × gross margin / monthly churn.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mrr::{requirements, revenue_per_account};
use super::{revenue_plan, NO_COMPLETE_MONTH};
use crate::config::SourceName;
use crate::error::{Error, Result};
use crate::metrics::{Metric, MetricPlan, PlanContext, Sums};
use crate::stats::Kind;
use crate::time::{customer_at, date_lit, retained_over};

/// docs/METRICS.md#customer_lifetime_value: "ARPA × gross_margin (default 1.0) / c,
/// where ARPA = Σ MRR / number of account-months with MRR > 0 over M1…Mk, and
/// c = 1 − (logo_retention)^(1 / period.months); null when c = 0".
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerLifetimeValue {
    /// Gross margin applied to revenue (default 1.0, between 0 and 1).
    #[serde(default = "default_margin")]
    pub gross_margin: f64,
}

impl Default for CustomerLifetimeValue {
    fn default() -> Self {
        CustomerLifetimeValue {
            gross_margin: default_margin(),
        }
    }
}

fn default_margin() -> f64 {
    1.0
}

impl Metric for CustomerLifetimeValue {
    fn description(&self) -> &'static str {
        "ARPA × gross_margin / monthly churn, with monthly churn c = 1 − logo_retention^(1/months)."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn check_config(&self) -> Vec<String> {
        if !(self.gross_margin > 0.0 && self.gross_margin <= 1.0) {
            return vec![format!(
                "`gross_margin` must be in (0, 1], got {}",
                self.gross_margin
            )];
        }
        Vec::new()
    }
    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let Some(per_account) = revenue_per_account(ctx)? else {
            return Ok(MetricPlan::skipped(NO_COMPLETE_MONTH));
        };
        let (s, a) = (date_lit(ctx.period.start), date_lit(ctx.period.as_of));
        let mut dims = ctx.dimension_columns();
        dims.push(col("account_id"));
        let revenue_part = per_account.select(
            dims.iter()
                .cloned()
                .chain([
                    col("mrr_sum").alias("revenue"),
                    col("paid_months"),
                    lit(0.0).alias("retained"),
                    lit(0.0).alias("at_start"),
                ])
                .collect::<Vec<_>>(),
        );
        let retention_part = ctx.accounts.clone().filter(customer_at(s.clone())).select(
            dims.iter()
                .cloned()
                .chain([
                    lit(0.0).alias("revenue"),
                    lit(0.0).alias("paid_months"),
                    retained_over(s, a)
                        .cast(DataType::Float64)
                        .alias("retained"),
                    lit(1.0).alias("at_start"),
                ])
                .collect::<Vec<_>>(),
        );
        let units = concat([revenue_part, retention_part], UnionArgs::default())
            .map_err(|e| Error::other(format!("lifetime value plan: {e}")))?;
        let sums = Sums {
            num: col("retained"),
            den: col("at_start"),
            a1: col("revenue"),
            a2: col("paid_months"),
            n: col("at_start"),
            cluster: Some((col("revenue"), col("paid_months"))),
            ..Sums::zero()
        };
        let kind = Kind::LifetimeValue {
            months: ctx.period.months,
            margin: self.gross_margin,
        };
        Ok(revenue_plan(ctx, units, kind, sums))
    }
}
