//! Per-subject reductions of activity: what the event metrics read.
//!
//! Each is a minimum, a maximum, a distinct set or a count of distinct days,
//! so it gives the same result on the rollup proper (one row per key) and on
//! a producer's one row per event (see the contract in [`super`]). A subject
//! is an account (`account_id`) or a user (`user_id`); rows without one
//! (no user) are not a subject's.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::time::{date_lit, in_range};

/// Whose activity a reduction follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Account,
    User,
}

impl Subject {
    /// The activity column that names the subject.
    pub fn column(self) -> &'static str {
        match self {
            Subject::Account => "account_id",
            Subject::User => "user_id",
        }
    }

    /// A name for shared-frame keys and logs.
    pub fn name(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::User => "user",
        }
    }
}

/// The activity rows of subjects, with the subject as `subject_id`.
fn of_subjects(activity: LazyFrame, subject: Subject) -> LazyFrame {
    let key = subject.column();
    activity
        .filter(col(key).is_not_null())
        .with_column(col(key).alias("subject_id"))
}

/// Per subject and event name: `first_day` and `last_day` with that event.
/// ("Did X in [S, A)" is `last_day ≥ S`, since activity ends before A.)
pub fn event_days(activity: LazyFrame, subject: Subject) -> LazyFrame {
    of_subjects(activity, subject)
        .group_by([col("subject_id"), col("event_name")])
        .agg([
            col("day").min().alias("first_day"),
            col("day").max().alias("last_day"),
        ])
}

/// What a [`summary`] holds per subject, besides `last_day`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SummaryField {
    /// The last day of one event: column `last_day:EVENT`.
    EventLastDay(String),
}

impl SummaryField {
    /// The summary's column for this field.
    pub fn column(&self) -> String {
        match self {
            SummaryField::EventLastDay(event) => format!("last_day:{event}"),
        }
    }
}

/// Per subject, in one pass: `last_day` (latest day with any event; "active
/// in [A − N, A)" is `last_day ≥ A − N`) and the last day of each event of
/// `fields` (null where none), grouped once (maxima only, which the
/// streaming group-by computes natively).
pub fn summary(activity: LazyFrame, subject: Subject, fields: &[SummaryField]) -> LazyFrame {
    let mut aggs = vec![col("day").max().alias("last_day")];
    for field in fields {
        let name = field.column();
        aggs.push(match field {
            SummaryField::EventLastDay(event) => when(col("event_name").eq(lit(event.as_str())))
                .then(col("day"))
                .otherwise(lit(NULL).cast(DataType::Date))
                .max()
                .alias(name.as_str()),
        });
    }
    of_subjects(activity, subject)
        .group_by([col("subject_id")])
        .agg(aggs)
}

/// Per subject: `active_days`, the distinct days with an event in
/// `[from, end)` (subjects with none are absent).
pub fn active_days(
    activity: LazyFrame,
    subject: Subject,
    from: NaiveDate,
    end: NaiveDate,
) -> LazyFrame {
    of_subjects(activity, subject)
        .filter(in_range(col("day"), date_lit(from), date_lit(end)))
        .group_by([col("subject_id")])
        .agg([col("day").n_unique().alias("active_days")])
}

/// Per account of `starts` (`account_id`, `from`): `first_day`, the first
/// day of `event` on or after `from` (accounts that have none are absent).
pub fn first_event_from(activity: LazyFrame, event: &str, starts: LazyFrame) -> LazyFrame {
    activity
        .filter(col("event_name").eq(lit(event)))
        .select([col("account_id"), col("day")])
        .join(
            starts,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("day").gt_eq(col("from")))
        .group_by([col("account_id")])
        .agg([col("day").min().alias("first_day")])
}

/// The users seen in activity with their account: distinct (`user_id`,
/// `account_id`).
pub fn users_seen(activity: LazyFrame) -> LazyFrame {
    activity
        .filter(col("user_id").is_not_null())
        .select([col("user_id"), col("account_id")])
        .unique_stable(None, UniqueKeepStrategy::First)
}
