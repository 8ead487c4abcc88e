//! `monthly_churn_rate`: churn per complete month of the period.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Direction, Kind, Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::config::SourceName;
use crate::error::Result;
use crate::time::{churned_during, customer_at, months_frame};

/// SPEC §5 `monthly_churn_rate`: "one row per complete month M (period_start/end
/// = the month's bounds): churned during M / pop(first_day(M)); cohorts at R = S".
/// Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonthlyChurnRate {}

impl Metric for MonthlyChurnRate {
    fn summary(&self) -> &'static str {
        "Per complete month M of the period: churned during M / customers at the first day of M."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![(SourceName::Accounts, "account_id"), (SourceName::Accounts, "signup_date")]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let grid = ctx
            .accounts
            .clone()
            .cross_join(months_frame(&ctx.period.complete_months()), None)
            .filter(customer_at(col("month_start")));
        let plan = Units::new(grid, Reference::PeriodStart, ctx).period(col("month_start"), col("month_end")).plan(
            ctx,
            "monthly_churn_rate",
            Kind::Proportion,
            Direction::LowerIsBetter,
            Sums::proportion(churned_during(col("month_start"), col("month_end"))),
        );
        Ok(MetricPlan { aggregates: vec![plan], tables: vec![] })
    }
}
