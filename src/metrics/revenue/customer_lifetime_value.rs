//! `customer_lifetime_value`: the expected margin of an account over a
//! horizon at the period's monthly churn.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mrr::{requirements, revenue_per_account};
use super::{revenue_plan, NO_COMPLETE_MONTH};
use crate::config::SourceName;
use crate::error::{Error, Result};
use crate::metrics::{Metric, MetricPlan, PlanContext, Sums};
use crate::stats::lifetime::Lifetime;
use crate::stats::Kind;
use crate::time::{customer_at, date_lit, retained_over};

/// docs/METRICS.md#customer_lifetime_value: "expected margin over a horizon
/// of H = `horizon_months` (default 36) months: ARPA × `gross_margin` ×
/// Σ_{m<H} ((1 − c)/(1 + d))^m, where ARPA = Σ MRR / number of account-months
/// with MRR > 0 over M1…Mk, c = 1 − (logo_retention)^(1 / period.months), and
/// d the monthly rate of an optional `discount_rate_annual`".
/// `horizon_months: null` gives the infinite-horizon limit (null when c = d = 0).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerLifetimeValue {
    /// Gross margin applied to revenue (default 1.0, between 0 and 1).
    #[serde(default = "default_margin")]
    pub gross_margin: f64,
    /// Months of margin counted (default 36, from 1 to 1200); null for the
    /// infinite-horizon ARPA × margin / c, which explodes as churn nears 0.
    #[serde(default = "default_horizon")]
    pub horizon_months: Option<u32>,
    /// Annual rate the future months are discounted at (default 0, from 0 to 1).
    #[serde(default)]
    pub discount_rate_annual: f64,
}

impl Default for CustomerLifetimeValue {
    fn default() -> Self {
        CustomerLifetimeValue {
            gross_margin: default_margin(),
            horizon_months: default_horizon(),
            discount_rate_annual: 0.0,
        }
    }
}

fn default_margin() -> f64 {
    1.0
}

fn default_horizon() -> Option<u32> {
    Some(36)
}

impl Metric for CustomerLifetimeValue {
    fn description(&self) -> &'static str {
        "Expected margin per account over `horizon_months` (default 36): ARPA × gross_margin × Σ_{m<H} ((1 − c)/(1 + d))^m, with monthly churn c = 1 − logo_retention^(1/months) and d the monthly discount rate."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn check_config(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(self.gross_margin > 0.0 && self.gross_margin <= 1.0) {
            problems.push(format!(
                "`gross_margin` must be in (0, 1], got {}",
                self.gross_margin
            ));
        }
        if let Some(h) = self.horizon_months {
            if !(1..=1200).contains(&h) {
                problems.push(format!(
                    "`horizon_months` must be from 1 to 1200 (or null for the infinite horizon), got {h}"
                ));
            }
        }
        if !(self.discount_rate_annual >= 0.0 && self.discount_rate_annual <= 1.0) {
            problems.push(format!(
                "`discount_rate_annual` must be from 0 to 1 (0.1 for 10 %), got {}",
                self.discount_rate_annual
            ));
        }
        problems
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
        let kind = Kind::LifetimeValue(Lifetime {
            months: ctx.period.months,
            margin: self.gross_margin,
            horizon: self.horizon_months,
            discount_annual: self.discount_rate_annual,
        });
        Ok(revenue_plan(ctx, units, kind, sums))
    }
}
