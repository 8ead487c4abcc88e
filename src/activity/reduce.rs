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

/// Per subject: each event name it has a row of from `from` on, once:
/// `subject_id`, `event_name` (rows without a name are left out). "Used X
/// in [S, A)" is a row of X here with `from` = S, since activity ends
/// before A.
pub fn names_used(activity: LazyFrame, subject: Subject, from: NaiveDate) -> LazyFrame {
    of_subjects(activity, subject)
        .filter(
            col("day")
                .gt_eq(date_lit(from))
                .and(col("event_name").is_not_null()),
        )
        .select([col("subject_id"), col("event_name")])
        .unique(None, UniqueKeepStrategy::Any)
}

/// The users seen in activity with their account: distinct (`user_id`,
/// `account_id`).
pub fn users_seen(activity: LazyFrame) -> LazyFrame {
    activity
        .filter(col("user_id").is_not_null())
        .select([col("user_id"), col("account_id")])
        .unique_stable(None, UniqueKeepStrategy::First)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Activity rows of the contract (one per event): login on 01-05,
    /// 01-02, 01-03, 01-07; export on 01-09 (no user) and 01-03; a row
    /// without a name on 01-08.
    fn activity(accounts: Column, users: Column) -> LazyFrame {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let days = [
            "2026-01-05",
            "2026-01-02",
            "2026-01-09",
            "2026-01-03",
            "2026-01-03",
            "2026-01-07",
            "2026-01-08",
        ];
        let names = [
            Some("login"),
            Some("login"),
            Some("export"),
            Some("login"),
            Some("export"),
            Some("login"),
            None,
        ];
        DataFrame::new_infer_height(vec![
            accounts.with_name("account_id".into()),
            users.with_name("user_id".into()),
            Column::new("day".into(), days.map(day).to_vec()),
            Column::new("event_name".into(), names.to_vec()),
            Column::new("events".into(), [1u32; 7].to_vec()),
        ])
        .unwrap()
        .lazy()
    }

    /// [`names_used`] of `frame` from `from`, a line per row, sorted.
    fn names_used_of(frame: LazyFrame, subject: Subject, from: &str) -> Vec<String> {
        let from = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
        let frame = names_used(frame, subject, from)
            .sort(["subject_id", "event_name"], Default::default())
            .collect()
            .unwrap();
        (0..frame.height())
            .map(|i| {
                let row = frame.get_row(i).unwrap().0;
                format!("{} {}", row[0], row[1])
            })
            .collect()
    }

    #[test]
    fn names_used_per_subject_from_a_day() {
        // Accounts far apart (negative, above 2^50); user 7 has no user id on the export
        // row, which is not a user's; the unnamed row is no name's.
        let big = 1i64 << 50;
        let frame = activity(
            Column::new("a".into(), [big, big, big, -3, -3, 9, 9].to_vec()),
            Column::new(
                "u".into(),
                [
                    Some(7i64),
                    Some(7),
                    None,
                    Some(8),
                    Some(8),
                    Some(7),
                    Some(7),
                ]
                .to_vec(),
            ),
        );
        assert_eq!(
            names_used_of(frame.clone(), Subject::Account, "2026-01-01"),
            [
                "-3 \"export\"",
                "-3 \"login\"",
                "9 \"login\"",
                format!("{big} \"export\"").as_str(),
                format!("{big} \"login\"").as_str(),
            ]
        );
        // From 01-05 (the day itself counts): -3's rows of 01-03 are before it.
        assert_eq!(
            names_used_of(frame.clone(), Subject::Account, "2026-01-05"),
            [
                "9 \"login\"",
                format!("{big} \"export\"").as_str(),
                format!("{big} \"login\"").as_str(),
            ]
        );
        assert_eq!(
            names_used_of(frame.clone(), Subject::User, "2026-01-01"),
            ["7 \"login\"", "8 \"export\"", "8 \"login\""]
        );
        // From the day after the last named row: none.
        assert!(names_used_of(frame, Subject::Account, "2026-01-10").is_empty());
    }

    #[test]
    fn names_used_with_text_ids() {
        let frame = activity(
            Column::new("a".into(), ["x", "x", "x", "y", "y", "z", "z"].to_vec()),
            Column::new("u".into(), [None::<&str>; 7].to_vec()),
        );
        assert_eq!(
            names_used_of(frame.clone(), Subject::Account, "2026-01-03"),
            [
                "\"x\" \"export\"",
                "\"x\" \"login\"",
                "\"y\" \"export\"",
                "\"y\" \"login\"",
                "\"z\" \"login\"",
            ]
        );
        assert!(names_used_of(frame, Subject::User, "2026-01-01").is_empty());
    }
}
