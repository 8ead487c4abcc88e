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

/// The event names of the rows (`day`, `event_name`) from `from` on, once
/// each and sorted: `event_name`. A dictionary of names: computed before
/// the other reductions, so that plans can name each event ([`summary`]
/// fields) and [`event_days`] can pack its key.
pub fn event_names(rows: LazyFrame, from: NaiveDate) -> LazyFrame {
    rows.filter(col("day").gt_eq(date_lit(from)))
        .select([col("event_name")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["event_name"], Default::default())
}

/// Per subject and event name: `first_day` and `last_day` with that event.
/// ("Did X in [S, A)" is `last_day ≥ S`, since activity ends before A.)
///
/// `subjects` holds every `subject_id` the rows can have (more do no harm);
/// `names` is a dictionary of names from [`event_names`]: rows whose name is
/// not in it are left out. Grouped on one integer key: the subject's
/// position in `subjects` and the event name's position in `names`, packed
/// into a `u64` and unpacked after. A group-by on (subject, name text) goes
/// through polars' row encoding, and its streaming group-by keeps every row
/// whose key is not among the few thousand hot ones until the end: at a
/// billion events that took 10 GiB (docs/BENCHMARKS.md). Both positions are
/// below 2³² (`IdxSize`), so the packing is exact. Common subplans are not
/// merged, so that the read of the rows keeps its day bounds at the reader:
/// pass `names` collected (the activity stage does), or the rows are read
/// once more for each use of it.
pub fn event_days(
    activity: LazyFrame,
    subject: Subject,
    subjects: LazyFrame,
    names: LazyFrame,
) -> LazyFrame {
    const SHIFT: u64 = 1 << 32;
    let rows = of_subjects(activity, subject);
    // Each dictionary is read twice (to pack and to unpack): sorted, so that
    // a position means the same both times.
    let names = names
        .select([col("event_name")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["event_name"], Default::default())
        .with_row_index("name_pos", None);
    let ids = subjects
        .select([col("subject_id")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["subject_id"], Default::default())
        .with_row_index("subject_pos", None);
    let inner = || JoinArgs::new(JoinType::Inner);
    rows.select([col("subject_id"), col("event_name"), col("day")])
        .join(
            ids.clone(),
            [col("subject_id")],
            [col("subject_id")],
            inner(),
        )
        .join(
            names.clone(),
            [col("event_name")],
            [col("event_name")],
            inner(),
        )
        .select([
            (col("subject_pos").cast(DataType::UInt64) * lit(SHIFT)
                + col("name_pos").cast(DataType::UInt64))
            .alias("key"),
            col("subject_pos"),
            col("name_pos"),
            col("day"),
        ])
        .group_by([col("key")])
        .agg([
            // One value per key (the packing is exact): min recovers it.
            col("subject_pos").min(),
            col("name_pos").min(),
            col("day").min().alias("first_day"),
            col("day").max().alias("last_day"),
        ])
        .join(ids, [col("subject_pos")], [col("subject_pos")], inner())
        .join(names, [col("name_pos")], [col("name_pos")], inner())
        .select([
            col("subject_id"),
            col("event_name"),
            col("first_day"),
            col("last_day"),
        ])
        .with_comm_subplan_elim(false)
}

/// Every subject of the rows, once: `subject_id`.
pub fn subjects_seen(activity: LazyFrame, subject: Subject) -> LazyFrame {
    of_subjects(activity, subject)
        .select([col("subject_id")])
        .unique(None, UniqueKeepStrategy::Any)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Activity rows of the contract (one per event) for `event_days`.
    fn activity(accounts: Column, users: Column) -> LazyFrame {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let days = [
            "2026-01-05",
            "2026-01-02",
            "2026-01-09",
            "2026-01-03",
            "2026-01-03",
            "2026-01-07",
        ];
        let names = ["login", "login", "export", "login", "export", "login"];
        DataFrame::new_infer_height(vec![
            accounts.with_name("account_id".into()),
            users.with_name("user_id".into()),
            Column::new("day".into(), days.map(day).to_vec()),
            Column::new("event_name".into(), names.to_vec()),
            Column::new("events".into(), [1u32; 6].to_vec()),
        ])
        .unwrap()
        .lazy()
    }

    /// [`event_days`] of `frame`, a line per row, by subject and event.
    fn event_days_of(frame: LazyFrame, subject: Subject, subjects: LazyFrame) -> Vec<String> {
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let names = event_names(frame.clone(), first);
        let frame = event_days(frame, subject, subjects, names)
            .sort(["subject_id", "event_name"], Default::default())
            .collect()
            .unwrap();
        (0..frame.height())
            .map(|i| {
                let row = frame.get_row(i).unwrap().0;
                format!("{} {} {} {}", row[0], row[1], row[2], row[3])
            })
            .collect()
    }

    #[test]
    fn event_days_per_subject_and_event() {
        // Accounts far apart (negative, above 2^50) and an extra known account without events;
        // user 7 has no user id on one row, which is not a user's.
        let big = 1i64 << 50;
        let frame = activity(
            Column::new("a".into(), [big, big, big, -3, -3, 9].to_vec()),
            Column::new(
                "u".into(),
                [Some(7i64), Some(7), None, Some(8), Some(8), Some(7)].to_vec(),
            ),
        );
        let accounts = DataFrame::new_infer_height(vec![Column::new(
            "subject_id".into(),
            [9i64, -3, 4, big, 9].to_vec(),
        )])
        .unwrap()
        .lazy();
        assert_eq!(
            event_days_of(frame.clone(), Subject::Account, accounts),
            [
                "-3 \"export\" 2026-01-03 2026-01-03",
                "-3 \"login\" 2026-01-03 2026-01-03",
                "9 \"login\" 2026-01-07 2026-01-07",
                format!("{big} \"export\" 2026-01-09 2026-01-09").as_str(),
                format!("{big} \"login\" 2026-01-02 2026-01-05").as_str(),
            ]
        );
        let users = subjects_seen(frame.clone(), Subject::User);
        assert_eq!(
            event_days_of(frame, Subject::User, users),
            [
                "7 \"login\" 2026-01-02 2026-01-07",
                "8 \"export\" 2026-01-03 2026-01-03",
                "8 \"login\" 2026-01-03 2026-01-03",
            ]
        );
    }

    /// [`event_names`] of `frame` from `from`.
    fn names_of(frame: LazyFrame, from: &str) -> Vec<String> {
        let from = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
        let names = event_names(frame, from).collect().unwrap();
        let names = names.column("event_name").unwrap().str().unwrap();
        names.iter().map(|n| n.unwrap().to_string()).collect()
    }

    #[test]
    fn event_names_from_a_day() {
        // login on 01-05, 01-02, 01-03, 01-07; export on 01-09 (no user) and 01-03.
        let frame = activity(
            Column::new("a".into(), [1i64, 1, 1, 2, 2, 3].to_vec()),
            Column::new(
                "u".into(),
                [Some(7i64), Some(7), None, Some(8), Some(8), Some(7)].to_vec(),
            ),
        );
        assert_eq!(names_of(frame.clone(), "2026-01-03"), ["export", "login"]);
        assert_eq!(names_of(frame.clone(), "2026-01-08"), ["export"]);
        // The first day counts; the day after the last row has none.
        assert_eq!(names_of(frame.clone(), "2026-01-09"), ["export"]);
        assert!(names_of(frame.clone(), "2026-01-10").is_empty());
        // event_days leaves out the rows whose name is not in the dictionary.
        let login =
            DataFrame::new_infer_height(vec![Column::new("event_name".into(), ["login"].to_vec())])
                .unwrap()
                .lazy();
        let subjects = subjects_seen(frame.clone(), Subject::Account);
        let days = event_days(frame, Subject::Account, subjects, login)
            .sort(["subject_id"], Default::default())
            .collect()
            .unwrap();
        assert_eq!(
            days.column("event_name")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            [Some("login"); 3]
        );
        assert_eq!(
            days.column("subject_id")
                .unwrap()
                .i64()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            [Some(1), Some(2), Some(3)]
        );
    }

    #[test]
    fn event_days_with_text_ids() {
        let frame = activity(
            Column::new("a".into(), ["x", "x", "x", "y", "y", "z"].to_vec()),
            Column::new("u".into(), [None::<&str>; 6].to_vec()),
        );
        let subjects = subjects_seen(frame.clone(), Subject::Account);
        assert_eq!(
            event_days_of(frame, Subject::Account, subjects),
            [
                "\"x\" \"export\" 2026-01-09 2026-01-09",
                "\"x\" \"login\" 2026-01-02 2026-01-05",
                "\"y\" \"export\" 2026-01-03 2026-01-03",
                "\"y\" \"login\" 2026-01-03 2026-01-03",
                "\"z\" \"login\" 2026-01-07 2026-01-07",
            ]
        );
    }
}
