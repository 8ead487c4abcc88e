//! `key_action_rate`: share of subjects who did the key action.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{check_event, on_or_after, population_with_summary, reads_from, requirements, Level};
use crate::activity::reduce::SummaryField;
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Units};

/// docs/METRICS.md#key_action_rate: "`event` required: subjects with ≥ 1 `event` in
/// [S, A) / population".
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyActionRate {
    /// The event_name of the key action (required).
    pub event: String,
    /// `account` (default) or `user`.
    #[serde(default)]
    pub level: Level,
}

/// Subjects of the population flagged `did` when they did `event` in [S, A)
/// (activity ends before A, so the last day with it is on or after S).
pub fn did_key_action(ctx: &PlanContext, event: &str, level: Level) -> Result<LazyFrame> {
    let field = SummaryField::EventLastDay(event.to_string());
    let (subjects, last_day) = population_with_summary(ctx, level, Some(field))?;
    Ok(subjects.with_column(on_or_after(&last_day, ctx.period.start).alias("did")))
}

impl Metric for KeyActionRate {
    fn description(&self) -> &'static str {
        "Subjects with at least one `event` (the key action) in [S, A) / subjects of the period."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements(self.level)
    }

    fn check_config(&self) -> Vec<String> {
        check_event(&self.event)
    }

    fn activity_from(&self, period: &crate::time::Period) -> Option<chrono::NaiveDate> {
        Some(reads_from(period, None))
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let units = did_key_action(ctx, &self.event, self.level)?;
        let plan = Units::new(units, Reference::PeriodStart, ctx)
            .nested_when(self.level == Level::User)
            .share(ctx, col("did"));
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn key_action_in_the_period_for_accounts_and_users() {
        // report_created in [S, A): 1 (11-10), 5 (11-20); 3's is on A in UTC, 4's (01:00+02:00 on S) is before S.
        // accounts: {1, 5} of {1, 3, 4, 5, 8} → 2/5; trained {1, 4}: 1/2; untrained {3}: 0/1.
        let c = Fixture::tiny().compute_events("[{ key_action_rate: { event: report_created } }]");
        assert_close(value(&c, "key_action_rate", "all"), 0.4);
        assert_close(value(&c, "key_action_rate", "trained"), 0.5);
        assert_close(value(&c, "key_action_rate", "untrained"), 0.0);
        // users (no users table: user ids seen in events before A, account a customer in the period):
        // 11, 12 (account 1), 32 (3), 41 (4), 51 (5); 31 has no event before A; 21's account is not a customer.
        // did: 11, 51 → 2/5. Cohort = the account's: trained {11, 12, 41} 1/3; untrained {32} 0/1.
        let c = Fixture::tiny()
            .compute_events("[{ key_action_rate: { event: report_created, level: user } }]");
        assert_close(value(&c, "key_action_rate", "all"), 0.4);
        assert_eq!(row(&c, "key_action_rate", "all", None, None).n, 5);
        assert_close(value(&c, "key_action_rate", "trained"), 1.0 / 3.0);
        assert_close(value(&c, "key_action_rate", "untrained"), 0.0);
    }

    #[test]
    fn event_is_required() {
        let fixture = Fixture::tiny();
        let path = fixture.pipeline("[key_action_rate]", "");
        let err = crate::run::load(&crate::run::RunOptions {
            pipeline: path,
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(err.to_string().contains("missing field `event`"), "{err}");
    }
}
