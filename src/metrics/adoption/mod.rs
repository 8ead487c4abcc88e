//! Shared adoption logic (docs/METRICS.md#subjects-and-populations): who the subjects are
//! (accounts or users), their cohorts, and their events.
//!
//! "The account population is the accounts that are customers in the period.
//! The user population is the users table's users with created_at < A (or,
//! without a users table, every user_id seen in events before A) whose
//! account is a customer in the period." Events are read as activity
//! ([`crate::activity`]): "seen in events before A" is seen in the run's
//! activity range (from S, or A − the longest window, to A).

pub mod active_user_rate;
pub mod feature_adoption_rate;
pub mod key_action_correlation;
pub mod key_action_rate;
pub mod return_rate;
pub mod time_to_first_value;

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use crate::activity::reduce::{Subject, SummaryField};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::PlanContext;
use crate::time::{date_lit, Period};

/// Whose adoption is measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Accounts (the default).
    #[default]
    Account,
    /// Users (needs `user_id` in events).
    User,
}

/// The columns an adoption metric reads at `level`.
pub fn requirements(level: Level) -> Vec<(SourceName, &'static str)> {
    let mut needs = vec![
        (SourceName::Events, "account_id"),
        (SourceName::Events, "event_time"),
        (SourceName::Events, "event_name"),
    ];
    if level == Level::User {
        needs.push((SourceName::Events, "user_id"));
    }
    needs
}

/// The population at `level`: `subject_id`, `cohort_at_start`,
/// `cohort_at_as_of` and the segment columns (of the subject's account).
pub fn population(ctx: &PlanContext, level: Level) -> Result<LazyFrame> {
    match level {
        Level::Account => Ok(ctx
            .customers_in_period()
            .with_column(col("account_id").alias("subject_id"))),
        Level::User => ctx.shared("user_population", || user_population(ctx)),
    }
}

fn user_population(ctx: &PlanContext) -> Result<LazyFrame> {
    let a = date_lit(ctx.period.as_of);
    let users = match ctx.inputs.get(SourceName::Users) {
        // The users table as read: the join with the customers below keeps
        // only users of known accounts, as the source's shared frame would
        // (docs/INPUTS.md#the-checks), without a join of its own.
        Some(loaded) => {
            let users = loaded.frame.clone();
            let users = if loaded.has_column("created_at") {
                users
            } else {
                users.with_column(lit(NULL).cast(DataType::Date).alias("created_at"))
            };
            users.filter(col("created_at").is_null().or(col("created_at").lt(a)))
        }
        None => ctx
            .users_seen()?
            .with_column(lit(NULL).cast(DataType::Date).alias("created_at")),
    };
    let user_level_training = ctx.inputs.get(SourceName::Users).is_some()
        && ctx
            .inputs
            .get(SourceName::Training)
            .is_some_and(|t| t.has_column("user_id"));
    // Each user takes what it needs of its account (a customer in the
    // period) in one join: the segments, and the account's cohorts or, for
    // the user's own cohorts, the account's signup and churn dates.
    let mut account_columns: Vec<Expr> = vec![col("account_id")];
    if user_level_training {
        account_columns.extend([col("signup_date"), col("churn_date")]);
        account_columns.extend(ctx.segment_columns());
    } else {
        account_columns.extend(ctx.dimension_columns());
    }
    let users = users
        .select([col("user_id"), col("account_id"), col("created_at")])
        .join(
            ctx.customers_in_period().select(account_columns),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        );
    let with_cohorts = if user_level_training {
        crate::cohort::user_cohorts(
            users,
            ctx.source(SourceName::Training)?,
            ctx.cohort_rule,
            ctx.period,
        )
    } else {
        users
    };
    let mut columns = vec![col("user_id"), col("account_id")];
    columns.extend(ctx.dimension_columns());
    Ok(with_cohorts
        .select(columns)
        .with_column(col("user_id").alias("subject_id")))
}

/// The subject fact table at `level`: the population ([`population`]) with
/// each subject's activity summary attached once (by id once computed,
/// [`crate::metrics::Reduced::attach_to`]; docs/METRICS.md: a subject
/// without events in the activity range has no last day), shared by every
/// metric that reads it; and the column of `field`'s last day (`last_day`,
/// the last active day, when None). "Did X on or after day D" is
/// `column ≥ D` with null read as no ([`on_or_after`]).
pub fn population_with_summary(
    ctx: &PlanContext,
    level: Level,
    field: Option<SummaryField>,
) -> Result<(LazyFrame, String)> {
    let summary = ctx.summary(level.into(), field)?;
    let key = format!("subject_facts:{}", summary.key);
    let facts = ctx.shared(key, || {
        summary
            .rows
            .attach_to(population(ctx, level)?, "subject_id", None)
    })?;
    Ok((facts, summary.column))
}

/// Whether the day in `column` is on or after `day` (false when null).
pub fn on_or_after(column: &str, day: NaiveDate) -> Expr {
    col(column).gt_eq(date_lit(day)).fill_null(lit(false))
}

impl From<Level> for Subject {
    fn from(level: Level) -> Subject {
        match level {
            Level::Account => Subject::Account,
            Level::User => Subject::User,
        }
    }
}

/// The first activity day an adoption metric reads: the period start S,
/// or A − `window` days when that is earlier (docs/METRICS.md: windows before A).
pub fn reads_from(period: &Period, window: Option<u32>) -> NaiveDate {
    let from_window = window.map(|days| period.as_of - chrono::Days::new(days as u64));
    from_window.map_or(period.start, |day| day.min(period.start))
}

/// Checks an `event` parameter that the metric requires.
pub fn check_event(event: &str) -> Vec<String> {
    if event.trim().is_empty() {
        vec!["`event` is required: the event_name of the key action".to_string()]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    /// Once the activity stage has computed the users' summary, each user
    /// takes its row by id (`crate::frame::attach_by_key`), without a join
    /// of the population with the summary (docs/ARCHITECTURE.md,
    /// "Activity"); the tables are the join's (the tests of each metric).
    #[test]
    fn the_computed_summary_is_attached_to_its_subjects_not_joined() {
        // The fixture's directory lives as long as `fixture`.
        let fixture = Fixture::tiny();
        let (job, inputs) = fixture
            .scan_users_and_events("[{ active_user_rate: { window_days: [30], level: user } }]");
        let activity = crate::plan::activity::compute_activity(&job, &inputs, None).unwrap();
        let plans = crate::plan::build_plans(
            &job,
            &inputs,
            activity.as_ref(),
            crate::plan::AccountFrame::Computed,
        )
        .unwrap();
        let shown: String = plans
            .aggregates
            .iter()
            .map(|a| a.plan.units.describe_plan().unwrap())
            .collect();
        assert!(shown.contains("__attached_row"), "{shown}");
        assert!(!shown.contains("DF [\"subject_id\""), "{shown}");
    }

    #[test]
    fn user_level_cohorts_follow_each_users_own_landmark() {
        // With a users table and user_id in training, each user gets the landmark rule from its own created_at
        // (W = 30) and completions: 11 (created 01-01, c1 on 01-20 < L 01-31) trained; 12 (created 06-01, c1 on
        // 07-15 ≥ L 07-01) untrained; 32 (c2 on 01-10) trained; 41 (06-01, c1 on 08-15) untrained;
        // 51 (created on S, L 12-01 > S) unassigned at S; 99 created on A is not in the population.
        // report_created in [S, A): 11, 51 → all 2/5; trained {11, 32} 1/2; untrained {12, 41} 0/2.
        let fixture = Fixture::tiny();
        fixture.file("users.csv", "user_id,account_id,created_at\n11,1,2025-01-01\n12,1,2025-06-01\n32,3,2025-01-01\n41,4,2025-06-01\n51,5,2025-11-01\n99,8,2026-01-01\n");
        fixture.file(
            "training_users.csv",
            "account_id,user_id,course_id,completed_at\n1,11,c1,2025-01-20\n1,12,c1,2025-07-15\n3,32,c2,2025-01-10\n4,41,c1,2025-08-15\n5,51,c1,2025-11-15\n",
        );
        fixture.file("events.csv", EVENTS);
        let c = fixture.compute_with_sources(
            "[{ key_action_rate: { event: report_created, level: user } }]",
            "training_users.csv",
            "  users: { path: users.csv }\n  events: { path: events.csv }\n",
        );
        assert_eq!(row(&c, "key_action_rate", "all", None, None).n, 5);
        assert_close(value(&c, "key_action_rate", "all"), 0.4);
        assert_close(value(&c, "key_action_rate", "trained"), 0.5);
        assert_eq!(row(&c, "key_action_rate", "trained", None, None).n, 2);
        assert_close(value(&c, "key_action_rate", "untrained"), 0.0);
        assert_eq!(row(&c, "key_action_rate", "untrained", None, None).n, 2);
    }
}
