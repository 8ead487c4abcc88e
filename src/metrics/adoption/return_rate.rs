//! `return_rate`: share of subjects who came back on several days.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{population, requirements, Level};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Units};
use crate::time::date_lit;

/// docs/METRICS.md#return_rate: "subjects with at least `min_active_days` (default 4)
/// distinct event days in [A − window_days, A) (default 28) / population".
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRate {
    /// Distinct active days needed (default 4).
    #[serde(default = "default_min_active_days")]
    pub min_active_days: u32,
    /// Window length in days before A (default 28).
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// `account` (default) or `user`.
    #[serde(default)]
    pub level: Level,
}

impl Default for ReturnRate {
    fn default() -> Self {
        ReturnRate {
            min_active_days: default_min_active_days(),
            window_days: default_window_days(),
            level: Level::Account,
        }
    }
}

fn default_min_active_days() -> u32 {
    4
}
fn default_window_days() -> u32 {
    28
}

impl Metric for ReturnRate {
    /// Its one row covers the window before A, not [S, A).
    fn overall_row(&self, dimension: Option<&str>, _rows: (i32, i32), _period: (i32, i32)) -> bool {
        dimension.is_none()
    }

    fn description(&self) -> &'static str {
        "Subjects with at least min_active_days distinct event days in [A − window_days, A) / subjects of the period."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements(self.level)
    }

    fn check_config(&self) -> Vec<String> {
        if self.window_days == 0 || self.min_active_days == 0 {
            return vec!["`window_days` and `min_active_days` must be at least 1".into()];
        }
        Vec::new()
    }

    fn activity_from(&self, period: &crate::time::Period) -> Option<chrono::NaiveDate> {
        Some(super::reads_from(period, Some(self.window_days)))
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let a = ctx.period.as_of;
        let start = a - chrono::Days::new(self.window_days as u64);
        let units = ctx
            .active_days(self.level.into(), self.window_days)?
            .attach_to(
                population(ctx, self.level)?,
                "subject_id",
                Some(&["active_days".to_string()]),
            )?
            .with_column(
                col("active_days")
                    .gt_eq(lit(self.min_active_days))
                    .fill_null(lit(false))
                    .alias("returned"),
            );
        let plan = Units::new(units, Reference::PeriodStart, ctx)
            .nested_when(self.level == Level::User)
            .period(date_lit(start), date_lit(a))
            .share(ctx, col("returned"));
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn returning_subjects_in_the_window() {
        // [A − 28 = 12-04, A): 1 has 5 distinct days (12-05, 12-06, 12-07, 12-20, 12-31); 3 has 1; 4 has 1.
        // min 4 days: {1} of 5 → 0.2; trained {1, 4}: 1/2; untrained {3}: 0/1. min 5: still {1}; min 6: none.
        let c = Fixture::tiny().compute_events("[return_rate]");
        assert_close(value(&c, "return_rate", "all"), 0.2);
        assert_close(value(&c, "return_rate", "trained"), 0.5);
        assert_eq!(
            row(&c, "return_rate", "all", None, None).period_start,
            day("2025-12-04")
        );
        let c = Fixture::tiny().compute_events("[{ return_rate: { min_active_days: 6 } }]");
        assert_close(value(&c, "return_rate", "all"), 0.0);
    }
}
