//! `monthly_churn_rate`: churn per complete month of the period.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{grid, Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::stats::{Direction, Kind};
use crate::time::{churned_during, customer_at};

/// docs/METRICS.md#monthly_churn_rate: "one row per complete month M (period_start/end
/// = the month's bounds): churned during M / pop(first_day(M)); cohorts at R = S".
/// Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonthlyChurnRate {}

impl Metric for MonthlyChurnRate {
    fn description(&self) -> &'static str {
        "Per complete month M of the period: churned during M / customers at the first day of M."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Accounts, "account_id"),
            (SourceName::Accounts, "signup_date"),
        ]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        // Per cell and month: the customers at its first day (den) and those
        // of them who churned during it (num), as the grid of accounts ×
        // months would sum them (metrics/grid.rs).
        let parts: [(&str, fn(Expr, Expr) -> Expr); 2] = [
            ("den", |start, _| customer_at(start)),
            ("num", churned_during),
        ];
        let rows = grid::flags_by_month(
            &grid::cell(ctx, Reference::PeriodStart),
            ctx.accounts.clone(),
            &ctx.period.complete_months(),
            &parts,
        )?;
        let plan = Units::new(rows, Reference::PeriodStart, ctx)
            .period(col("month_start"), col("month_end"))
            .plan(
                ctx,
                Kind::Proportion,
                Direction::LowerIsBetter,
                Sums {
                    num: col("num"),
                    den: col("den"),
                    n: col("den"),
                    ..Sums::zero()
                },
            );
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn one_row_per_complete_month() {
        // Nov 2025: pop(11-01) = {1, 2, 3, 4, 8}; churned before 12-01: {2} → 1/5.
        //   trained {1, 4}: 0/2; untrained {2, 3}: 1/2.
        // Dec 2025: pop(12-01) = {1, 3, 4, 5, 8} (4 churns on 12-01: still a customer at 12-01; 5 signed up on S);
        //   churned before 2026-01-01: {4} (3 churns on A) → 1/5. trained {1, 4}: 1/2; untrained {3}: 0/1.
        let c = Fixture::tiny().compute("[monthly_churn_rate]");
        let month = |cohort: &str, start: &str| {
            c.metric_rows
                .iter()
                .find(|r| {
                    r.metric == "monthly_churn_rate"
                        && r.cohort == cohort
                        && r.segment.is_none()
                        && r.period_start == day(start)
                })
                .unwrap_or_else(|| panic!("no row for {cohort} {start}"))
        };
        assert_close(month("all", "2025-11-01").value, 0.2);
        assert_eq!(month("all", "2025-11-01").period_end, day("2025-12-01"));
        assert_close(month("trained", "2025-11-01").value, 0.0);
        assert_close(month("untrained", "2025-11-01").value, 0.5);
        assert_close(month("all", "2025-12-01").value, 0.2);
        assert_eq!(month("all", "2025-12-01").period_end, day("2026-01-01"));
        assert_close(month("trained", "2025-12-01").value, 0.5);
        assert_close(month("untrained", "2025-12-01").value, 0.0);
        assert_eq!(
            c.metric_rows.iter().filter(|r| r.segment.is_none()).count(),
            6
        );
    }
}
