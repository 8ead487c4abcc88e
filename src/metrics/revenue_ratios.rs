//! Revenue ratios over the complete months of the period: expansion rate,
//! net and gross revenue retention, upsell rate, customer lifetime value.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::revenue::{account_revenue_summary, requirements};
use super::{
    AggregatePlan, Direction, Kind, Metric, MetricPlan, PlanContext, Reference, Sums, Units,
};
use crate::config::{PipelineFile, SourceName};
use crate::error::{Error, Result};
use crate::time::{customer_at, date_lit, retained_over};

/// Revenue sums are whole cents; outputs are in the currency unit.
const CENTS_PER_UNIT: f64 = 100.0;

/// Builds one aggregate over the per-account revenue summary, or nothing when
/// the period has no complete month.
fn over_revenue_summary(
    ctx: &PlanContext,
    metric: &'static str,
    kind: Kind,
    filter: Option<Expr>,
    sums: Sums,
) -> Result<MetricPlan> {
    let Some(summary) = account_revenue_summary(ctx)? else {
        crate::log::warn(
            "plan",
            &format!("metric `{metric}`: the period has no complete month; no rows"),
        );
        return Ok(MetricPlan::default());
    };
    let summary = match filter {
        Some(f) => summary.filter(f),
        None => summary,
    };
    let plan = Units::new(summary, Reference::PeriodStart, ctx).plan(
        ctx,
        metric,
        kind,
        Direction::HigherIsBetter,
        sums,
    );
    Ok(MetricPlan::one(plan))
}

/// SPEC §5 `expansion_revenue_rate`: "Σ expansion over M1…Mk / Σ MRR over all
/// accounts and M1…Mk". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpansionRevenueRate {}

impl Metric for ExpansionRevenueRate {
    fn summary(&self) -> &'static str {
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
        over_revenue_summary(
            ctx,
            "expansion_revenue_rate",
            Kind::Ratio {
                divisor: CENTS_PER_UNIT,
            },
            None,
            sums,
        )
    }
}

/// SPEC §5 `net_revenue_retention`: "base = accounts with MRR(a, M0) > 0:
/// Σ_base MRR(a, Mk) / Σ_base MRR(a, M0)". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetRevenueRetention {}

impl Metric for NetRevenueRetention {
    fn summary(&self) -> &'static str {
        "MRR in the last complete month of the accounts paying in M0 / their MRR in M0."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let base = col("mrr_m0").gt(lit(0.0));
        over_revenue_summary(
            ctx,
            "net_revenue_retention",
            Kind::Ratio {
                divisor: CENTS_PER_UNIT,
            },
            Some(base),
            Sums::ratio(col("mrr_mk"), col("mrr_m0")),
        )
    }
}

/// SPEC §5 `gross_revenue_retention`: "Σ_base min(MRR(a, Mk), MRR(a, M0)) /
/// Σ_base MRR(a, M0)". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrossRevenueRetention {}

impl Metric for GrossRevenueRetention {
    fn summary(&self) -> &'static str {
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
        over_revenue_summary(
            ctx,
            "gross_revenue_retention",
            Kind::Ratio {
                divisor: CENTS_PER_UNIT,
            },
            Some(base),
            Sums::ratio(capped, col("mrr_m0")),
        )
    }
}

/// SPEC §5 `upsell_rate`: "accounts with ≥ 1 expansion in M1…Mk / accounts
/// with MRR > 0 in at least one of M1…Mk". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsellRate {}

impl Metric for UpsellRate {
    fn summary(&self) -> &'static str {
        "Accounts with at least one expansion in the complete months / accounts paying in at least one of them."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let paying = col("paid_months").gt(lit(0.0));
        over_revenue_summary(
            ctx,
            "upsell_rate",
            Kind::Proportion,
            Some(paying),
            Sums::proportion(col("expanded")),
        )
    }
}

/// SPEC §5 `customer_lifetime_value`: "ARPA × gross_margin (default 1.0) / c,
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
    fn summary(&self) -> &'static str {
        "ARPA × gross_margin / monthly churn, with monthly churn c = 1 − logo_retention^(1/months)."
    }
    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }
    fn check_config(&self, _file: &PipelineFile) -> Vec<String> {
        if !(self.gross_margin > 0.0 && self.gross_margin <= 1.0) {
            return vec![format!(
                "`gross_margin` must be in (0, 1], got {}",
                self.gross_margin
            )];
        }
        Vec::new()
    }
    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let Some(summary) = account_revenue_summary(ctx)? else {
            crate::log::warn(
                "plan",
                "metric `customer_lifetime_value`: the period has no complete month; no rows",
            );
            return Ok(MetricPlan::default());
        };
        let (s, a) = (date_lit(ctx.period.start), date_lit(ctx.period.as_of));
        let mut dims = vec![col("cohort_at_start"), col("cohort_at_as_of")];
        dims.extend(ctx.segment_by.iter().map(|c| col(c.as_str())));
        let revenue_part = summary.select(
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
            .map_err(|e| Error::Other(format!("customer_lifetime_value plan: {e}")))?;
        let sums = Sums {
            num: col("retained"),
            den: col("at_start"),
            a1: col("revenue"),
            a2: col("paid_months"),
            n: col("at_start"),
            ..Sums::zero()
        };
        let kind = Kind::LifetimeValue {
            months: ctx.period.months,
            margin: self.gross_margin,
        };
        let plan: AggregatePlan = Units::new(units, Reference::PeriodStart, ctx).plan(
            ctx,
            "customer_lifetime_value",
            kind,
            Direction::HigherIsBetter,
            sums,
        );
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    const ALL: &str = "[expansion_revenue_rate, net_revenue_retention, gross_revenue_retention, upsell_rate, customer_lifetime_value]";

    #[test]
    fn revenue_retention_ratios() {
        // Base = MRR(Oct) > 0: {1: 100, 2: 50, 4: 200, 8: 30}, Σ = 380. Dec: 1: 120, 2: 0, 4: 0, 8: 45 → Σ 165.
        // NRR = 165/380; GRR = (min(120,100) + 0 + 0 + min(45,30))/380 = 130/380.
        // trained {1, 4}: NRR 120/300, GRR 100/300. untrained {2}: 0/50.
        let c = Fixture::tiny().compute(ALL);
        assert_close(value(&c, "net_revenue_retention", "all"), 165.0 / 380.0);
        assert_close(value(&c, "gross_revenue_retention", "all"), 130.0 / 380.0);
        assert_close(value(&c, "net_revenue_retention", "trained"), 0.4);
        assert_close(
            value(&c, "gross_revenue_retention", "trained"),
            100.0 / 300.0,
        );
        assert_close(value(&c, "net_revenue_retention", "untrained"), 0.0);
        let nrr = row(&c, "net_revenue_retention", "all", None, None);
        assert_eq!(
            (nrr.numerator, nrr.denominator, nrr.n),
            (Some(165.0), Some(380.0), 4)
        );
        assert_eq!((nrr.ci_low, nrr.ci_high), (None, None));
        assert_eq!(lift(&c, "net_revenue_retention", None).p_value, None);
    }

    #[test]
    fn expansion_rate_and_upsell() {
        // Σ expansion over Nov–Dec = 20 (1) + 15 (8) = 35; Σ MRR Nov = 120 + 90 + 200 + 40 + 30 = 480, Dec = 275 → 755.
        // trained {1, 4}: 20/(240 + 200); untrained {2, 3}: 0/160.
        // upsell: paying in Nov or Dec = {1, 3, 4, 5, 8}; expanded {1, 8} → 2/5; trained 1/2; untrained {3} 0/1.
        let c = Fixture::tiny().compute(ALL);
        assert_close(value(&c, "expansion_revenue_rate", "all"), 35.0 / 755.0);
        assert_close(value(&c, "expansion_revenue_rate", "trained"), 20.0 / 440.0);
        assert_close(value(&c, "expansion_revenue_rate", "untrained"), 0.0);
        assert_close(value(&c, "upsell_rate", "all"), 0.4);
        assert_close(value(&c, "upsell_rate", "trained"), 0.5);
        assert_close(value(&c, "upsell_rate", "untrained"), 0.0);
        assert_eq!(row(&c, "upsell_rate", "all", None, None).n, 5);
    }

    #[test]
    fn customer_lifetime_value() {
        // ARPA = 755 / 9 paid account-months (Nov: 1, 3, 4, 5, 8; Dec: 1, 3, 5, 8); logo retention 3/5;
        // c = 1 − 0.6^(1/2) → CLV = 83.889/0.225403 = 372.172357.
        // trained: 440/3 account-months, retention 1/2 → 500.751322; untrained: 160/2, retention 1/2 → 273.137085.
        let c = Fixture::tiny().compute(ALL);
        assert!((value(&c, "customer_lifetime_value", "all").unwrap() - 372.1723570).abs() < 1e-6);
        assert!(
            (value(&c, "customer_lifetime_value", "trained").unwrap() - 500.7513225).abs() < 1e-6
        );
        assert!(
            (value(&c, "customer_lifetime_value", "untrained").unwrap() - 273.1370850).abs() < 1e-6
        );
        // gross_margin 0.8 scales it.
        let c = Fixture::tiny().compute("[{ customer_lifetime_value: { gross_margin: 0.8 } }]");
        assert!(
            (value(&c, "customer_lifetime_value", "all").unwrap() - 0.8 * 372.1723570).abs() < 1e-6
        );
    }
}
