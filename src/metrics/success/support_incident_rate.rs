//! `support_incident_rate`: tickets per customer, overall, per product area
//! and per complete month.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tickets_by_account;
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{
    grid, AggregatePlan, Metric, MetricPlan, PlanContext, Reference, Sums, Units,
};
use crate::stats::{Direction, Kind};
use crate::time::{date_lit, in_range};

/// docs/METRICS.md#support_incident_rate: "tickets created in [S, A) / customers in
/// period (tickets per account). Also one row per product_area (dimension
/// `product_area=X`) when the column exists, and with `monthly: true` one row
/// per complete month (customers in that month)". Statistics of counts per
/// account (docs/STATISTICS.md#counts-per-account: var = s²/n).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportIncidentRate {
    /// Also emit one row per complete month (default false).
    #[serde(default)]
    pub monthly: bool,
}

/// Tickets per customer: a count per account (or per account and grid
/// value, [`grid`]) and its square.
fn rate(units: Units, ctx: &PlanContext, sums: Sums) -> AggregatePlan {
    units.plan(ctx, Kind::Rate, Direction::LowerIsBetter, sums)
}

impl Metric for SupportIncidentRate {
    fn money(&self) -> Option<crate::stats::impact::MoneyBasis> {
        Some(crate::stats::impact::MoneyBasis::Tickets)
    }

    fn description(&self) -> &'static str {
        "Tickets created in [S, A) per customer in the period; also per product_area and, with `monthly: true`, per complete month."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Tickets, "account_id"),
            (SourceName::Tickets, "created_at"),
        ]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        // The counts per account and month, when the tickets' pass folded them.
        let folded = ctx.inputs.folded(tickets_by_account::FOLDED);
        let customers = match folded {
            Some(counts) => with_counts(ctx.customers_in_period(), counts)?,
            None => ctx.customers_with_counts(SourceName::Tickets, "created_at")?,
        };
        let mut aggregates = vec![rate(
            Units::new(customers, Reference::PeriodStart, ctx),
            ctx,
            Sums::count(col("count")),
        )];
        let (s, a) = (date_lit(ctx.period.start), date_lit(ctx.period.as_of));
        let tickets = ctx.source(SourceName::Tickets)?;

        let has_area = ctx
            .inputs
            .get(SourceName::Tickets)
            .is_some_and(|t| t.has_column("product_area"));
        if has_area {
            let in_period =
                tickets
                    .clone()
                    .filter(in_range(col("created_at"), s.clone(), a.clone()));
            let area = col("product_area").fill_null(lit("(null)"));
            let counts = in_period
                .clone()
                .group_by([col("account_id"), area.clone().alias("product_area")])
                .agg([len().cast(DataType::Float64).alias("count")]);
            let areas = in_period
                .select([area.alias("product_area")])
                .unique_stable(None, UniqueKeepStrategy::First);
            let grid = grid::accounts_by_values(
                &grid::cell(ctx, Reference::PeriodStart),
                ctx.customers_in_period(),
                areas,
                &["product_area"],
                counts,
            )?;
            let dimension = concat_str([lit("product_area="), col("product_area")], "", false);
            aggregates.push(rate(
                Units::new(grid, Reference::PeriodStart, ctx).dimension(dimension),
                ctx,
                grid::count_sums(),
            ));
        }

        if self.monthly {
            let cell = grid::cell(ctx, Reference::PeriodStart);
            let months = ctx.period.complete_months();
            let grid = match folded {
                Some(counts) => grid::counts_by_month(
                    &cell,
                    with_counts(ctx.accounts.clone(), counts)?,
                    &months,
                    tickets_by_account::month_count,
                )?,
                None => {
                    let counts = tickets
                        .filter(in_range(col("created_at"), s, a))
                        .group_by([
                            col("account_id"),
                            col("created_at").dt().month_start().alias("month_start"),
                        ])
                        .agg([len().cast(DataType::Float64).alias("count")]);
                    grid::customers_by_month(&cell, ctx.accounts.clone(), &months, counts)?
                }
            };
            let units = Units::new(grid, Reference::PeriodStart, ctx)
                .period(col("month_start"), col("month_end"));
            aggregates.push(rate(units, ctx, grid::count_sums()));
        }
        Ok(MetricPlan::many(aggregates))
    }
}

/// `accounts` with the folded counts of their tickets
/// ([`tickets_by_account`]) taken by id, `count` 0 where an account has
/// none (the month columns stay null there).
fn with_counts(accounts: LazyFrame, counts: &DataFrame) -> Result<LazyFrame> {
    let what = |e| crate::error::Error::engine("attaching the tickets' counts", e);
    let attached = crate::frame::attach_by_key(
        accounts.clone(),
        "account_id",
        counts,
        "account_id",
        crate::frame::Unmatched::Kept,
    )
    .map_err(what)?;
    let attached = attached.unwrap_or_else(|| {
        accounts.join(
            counts.clone().lazy(),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
    });
    Ok(attached.with_column(col("count").fill_null(lit(0.0))))
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn tickets_per_customer_overall_by_area_and_month() {
        // Customers in [S, A): {1, 3, 4, 5, 8}. Tickets in the period: 1 → 2 (11-05 billing, 12-31 23:59:59 admin),
        // 3 → 1, 4 → 1 (2025-10-31T23:00-02:00 is 11-01 01:00 UTC). Out: 1's ticket on A; 2 is not a customer.
        // all 4/5; trained {1, 4}: 3/2; untrained {3}: 1/1.
        let c =
            Fixture::catalog().compute_catalog("[{ support_incident_rate: { monthly: true } }]");
        let all = row(&c, "support_incident_rate", "all", None, None);
        assert_close(all.value, 0.8);
        assert_eq!(
            (all.numerator, all.denominator, all.n),
            (Some(4.0), Some(5.0), 5)
        );
        // Counts 2, 1, 1, 0, 0: s² = (6 − 4²/5)/4 = 0.7, var = 0.7/5 = 0.14, CI = 0.8 ± 1.959964·√0.14.
        assert_close(all.ci_low, 0.8 - 1.959964 * 0.14_f64.sqrt());
        assert_close(all.ci_high, 0.8 + 1.959964 * 0.14_f64.sqrt());
        assert_close(value(&c, "support_incident_rate", "trained"), 1.5);
        assert_close(value(&c, "support_incident_rate", "untrained"), 1.0);
        // The untrained cohort is one account: its counts have no variance, so
        // the difference has neither an interval nor a p-value.
        let l = lift(&c, "support_incident_rate", None);
        assert_close(l.abs_diff, 0.5);
        assert_eq!((l.p_value, l.diff_ci_low), (None, None));
        assert_eq!(l.direction.as_str(), "lower_is_better");
        // Per area over the 5 customers: billing 3/5, admin 1/5.
        assert_close(
            dimension_value(&c, "support_incident_rate", "all", "product_area=billing"),
            0.6,
        );
        assert_close(
            dimension_value(&c, "support_incident_rate", "all", "product_area=admin"),
            0.2,
        );
        // Nov: customers {1, 3, 4, 5, 8}, tickets 3 → 0.6. Dec: customers {1, 3, 5, 8} (4 churns on 12-01), 1 ticket → 0.25.
        let nov = c
            .metric_rows
            .iter()
            .find(|r| {
                r.metric == "support_incident_rate"
                    && r.cohort == "all"
                    && r.segment.is_none()
                    && r.dimension.is_none()
                    && r.period_end == day("2025-12-01")
            })
            .unwrap();
        assert_close(nov.value, 0.6);
        let dec = row_at(&c, "support_incident_rate", "all", None, "2025-12-01");
        assert_close(dec.value, 0.25);
        assert_eq!(dec.n, 4);
    }
}
