//! `active_user_rate`: share of subjects active in the last N days.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{on_or_after, population_with_summary, reads_from, requirements, Level};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Measure, Metric, MetricPlan, PlanContext, Reference, Units};
use crate::time::date_lit;

/// docs/METRICS.md#active_user_rate: "for each window_days in the list (default
/// [1, 7, 30]; dimension `window=Nd`; period_start = A − N days): subjects with
/// ≥ 1 event in [A − N days, A) / subjects in the population".
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveUserRate {
    /// Window lengths in days (default [1, 7, 30]).
    #[serde(default = "default_windows")]
    pub window_days: Vec<u32>,
    /// `account` (default) or `user`.
    #[serde(default)]
    pub level: Level,
}

impl Default for ActiveUserRate {
    fn default() -> Self {
        ActiveUserRate {
            window_days: default_windows(),
            level: Level::Account,
        }
    }
}

fn default_windows() -> Vec<u32> {
    vec![1, 7, 30]
}

impl Metric for ActiveUserRate {
    /// Each window (its own period before A) is an overall row.
    fn overall_row(&self, dimension: Option<&str>, _rows: (i32, i32), _period: (i32, i32)) -> bool {
        dimension.is_some_and(|d| d.starts_with("window="))
    }

    fn description(&self) -> &'static str {
        "Per window N (default 1, 7, 30 days): subjects with an event in [A − N days, A) / subjects (accounts or users) of the period."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements(self.level)
    }

    fn check_config(&self) -> Vec<String> {
        if self.window_days.is_empty() || self.window_days.contains(&0) {
            return vec!["`window_days` must list at least one window of 1 day or more".into()];
        }
        Vec::new()
    }

    fn activity_from(&self, period: &crate::time::Period) -> Option<chrono::NaiveDate> {
        Some(reads_from(period, self.window_days.iter().max().copied()))
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let a = ctx.period.as_of;
        let (subjects, last_day) = population_with_summary(ctx, self.level, None)?;
        let windows = self
            .window_days
            .iter()
            .map(|&days| {
                let start = a - chrono::Days::new(days as u64);
                // Active in [A − N, A): the last active day is on or after A − N.
                Measure::share(
                    lit(format!("window={days}d")),
                    on_or_after(&last_day, start),
                )
                .over(date_lit(start), date_lit(a))
            })
            .collect();
        Ok(MetricPlan::many(
            Units::new(subjects, Reference::PeriodStart, ctx)
                .nested_when(self.level == Level::User)
                .measures(ctx, windows),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn active_in_each_window_before_a() {
        // Population: customers {1, 3, 4, 5, 8}. Events at/after A (3 at 00:00 on A, and 22:30−03:00 on
        // 12-31 = 01:30 UTC on A) do not count; 1's event at 23:59 UTC on the day before A does.
        // 1d [12-31, A): {1} → 1/5. 7d [12-25, A): {1, 4} → 2/5. 30d [12-02, A): {1, 3, 4} → 3/5.
        let c = Fixture::tiny().compute_events("[active_user_rate]");
        let at =
            |cohort: &str, window: &str| row(&c, "active_user_rate", cohort, None, Some(window));
        assert_close(at("all", "window=1d").value, 0.2);
        assert_eq!(at("all", "window=1d").period_start, day("2025-12-31"));
        assert_eq!(at("all", "window=1d").period_end, day("2026-01-01"));
        assert_close(at("all", "window=7d").value, 0.4);
        assert_close(at("all", "window=30d").value, 0.6);
        assert_close(at("trained", "window=1d").value, 0.5);
        assert_close(at("trained", "window=7d").value, 1.0);
        assert_close(at("untrained", "window=7d").value, 0.0);
        assert_close(at("untrained", "window=30d").value, 1.0);
    }
}
