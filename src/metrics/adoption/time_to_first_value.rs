//! `time_to_first_value`: how fast new accounts reach the key action.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{check_event, requirements, Level};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::aggregate::median_by_cohort_and_segment;
use crate::metrics::presentation::Unit;
use crate::metrics::{AggregatePlan, Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::stats::{Direction, Kind};
use crate::time::{date_lit, in_range};

/// docs/METRICS.md#time_to_first_value: "R = A; accounts with signup_date in
/// [S, A − W). Dimension `median_days`: median days from signup_date to the
/// first `event` (among those who reached it). Dimension `reached_within`:
/// share that reached it within `within_days` (default 30) of signup".
/// Events before signup do not count: the first `event` on or after the
/// signup day is the one measured. "Within" includes day `within_days`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeToFirstValue {
    /// The event_name that marks first value (required).
    pub event: String,
    /// Days after signup that count as "reached within" (default 30).
    #[serde(default = "default_within_days")]
    pub within_days: u32,
}

impl Default for TimeToFirstValue {
    fn default() -> Self {
        TimeToFirstValue {
            event: String::new(),
            within_days: default_within_days(),
        }
    }
}

fn default_within_days() -> u32 {
    30
}

impl Metric for TimeToFirstValue {
    /// Both readings (the median and the share within the days) are overall rows.
    fn overall_row(&self, dimension: Option<&str>, _rows: (i32, i32), _period: (i32, i32)) -> bool {
        matches!(dimension, Some("reached_within" | "median_days"))
    }

    /// `reached_within` is a share; the other rows are days.
    fn unit_of_dimension(&self, dimension: &str) -> Option<Unit> {
        (dimension == "reached_within").then_some(Unit::Share)
    }

    fn compares_at(&self) -> Reference {
        Reference::AsOf
    }

    fn description(&self) -> &'static str {
        "Accounts signed up in [S, A − W): median days from signup to the first `event` (`median_days`) and share reaching it within within_days (`reached_within`)."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements(Level::Account)
    }

    fn check_config(&self) -> Vec<String> {
        check_event(&self.event)
    }

    /// Signups are on or after S, and events before signup do not count.
    fn activity_from(&self, period: &crate::time::Period) -> Option<chrono::NaiveDate> {
        Some(super::reads_from(period, None))
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let window = ctx.cohort_rule.window_days as u64;
        let end = ctx.period.as_of - chrono::Days::new(window);
        let followed = ctx.accounts.clone().filter(in_range(
            col("signup_date"),
            date_lit(ctx.period.start),
            date_lit(end),
        ));
        let first = ctx.first_event_after_signup(&self.event)?;
        let days = (col("first_day").cast(DataType::Int64)
            - col("signup_date").cast(DataType::Int64))
        .alias("days");
        let accounts = first
            .attach_to(followed, "account_id", None)?
            .with_column(days);
        let reached = Units::new(accounts.clone(), Reference::AsOf, ctx)
            .dimension(lit("reached_within"))
            .plan(
                ctx,
                Kind::Proportion,
                Direction::HigherIsBetter,
                Sums::proportion(
                    col("days")
                        .is_not_null()
                        .and(col("days").lt_eq(lit(self.within_days as i64))),
                ),
            );
        let mut columns = ctx.unit_columns(Reference::AsOf);
        columns.push(col("days").cast(DataType::Float64));
        let reached_accounts = accounts.filter(col("days").is_not_null()).select(columns);
        let median = AggregatePlan {
            kind: Kind::Median,
            nested: false,
            direction: Direction::LowerIsBetter,
            units: median_by_cohort_and_segment(reached_accounts, ctx, "days", "median_days"),
        };
        Ok(MetricPlan::many(vec![median, reached]))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn median_days_and_reached_within() {
        // Accounts with signup in [S, A − W) = [11-01, 12-02): only 5 (signup 11-01, trained at A).
        // Its first report_created is 11-20 → 19 days. median 19; reached within 30 → 1/1; within 10 → 0/1.
        let c =
            Fixture::tiny().compute_events("[{ time_to_first_value: { event: report_created } }]");
        let median = row(&c, "time_to_first_value", "all", None, Some("median_days"));
        assert_close(median.value, 19.0);
        assert_eq!(median.n, 1);
        assert_close(
            dimension_value(&c, "time_to_first_value", "trained", "median_days"),
            19.0,
        );
        assert_eq!(
            dimension_value(&c, "time_to_first_value", "untrained", "median_days"),
            None
        );
        assert_close(
            dimension_value(&c, "time_to_first_value", "all", "reached_within"),
            1.0,
        );
        let c = Fixture::tiny().compute_events(
            "[{ time_to_first_value: { event: report_created, within_days: 10 } }]",
        );
        assert_close(
            dimension_value(&c, "time_to_first_value", "all", "reached_within"),
            0.0,
        );
    }

    #[test]
    fn events_before_signup_do_not_count() {
        // Account 5 (signup 11-01 = S, the only account followed) has a report_created on 10-25, before its
        // signup, then on 11-25 and 11-30. The first on or after signup is 11-25: 24 days, reached within 30.
        let fixture = Fixture::tiny();
        fixture.file(
            "events.csv",
            "account_id,user_id,event_time,event_name\n5,51,2025-10-25T10:00:00Z,report_created\n5,51,2025-11-30T10:00:00Z,report_created\n5,51,2025-11-25T23:00:00-02:00,report_created\n1,11,2025-10-20T10:00:00Z,report_created\n",
        );
        let c = fixture.compute_with_sources(
            "[{ time_to_first_value: { event: report_created } }]",
            "training.csv",
            "  events: { path: events.csv, freshness: {} }\n",
        );
        let median = row(&c, "time_to_first_value", "all", None, Some("median_days"));
        assert_close(median.value, 25.0);
        assert_eq!(median.n, 1);
        assert_close(
            dimension_value(&c, "time_to_first_value", "all", "reached_within"),
            1.0,
        );
    }
}
