//! `activity`: the one layer that reads product events.
//!
//! Every event metric (docs/METRICS.md#subjects-and-populations, the event signals of
//! `health_score`) depends on events only through their UTC day: docs/METRICS.md#time
//! compares dates, never times. So the events of a run are reduced to a
//! daily rollup, and nothing above this module touches raw events.
//!
//! # The contract
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `account_id` | the run's id type (Int64 or String) | the event's account, a known account of `accounts` |
//! | `user_id` | the run's id type, nullable | the event's user; null where the event has none (or the source has no `user_id`) |
//! | `day` | Date | the UTC date of `event_time` |
//! | `event_name` | String | as written |
//! | `events` | UInt32 | how many events of the source the row stands for |
//!
//! - Days: `[first, end)` of the run's [`DayRange`], where `end` is
//!   the as-of date A and `first` the earliest day a configured metric can
//!   look at. The rollup itself does not depend on A beyond that range: a
//!   row for a day is the same whatever run produced it.
//! - Invariant: Σ `events` = the events rows kept (rows of a known account
//!   whose day is in the range).
//! - A producer may emit one row per key (`account_id`, `user_id`, `day`,
//!   `event_name`), the rollup proper, or several rows per key (the local
//!   engine emits one row per event): every reduction in [`reduce`] is a
//!   minimum, a maximum, a distinct count, an `any` or a sum, so both give
//!   the same numbers. What reads activity must keep it so.
//!
//! The local engine ([`local`]) projects the events source in one streaming
//! scan whose day bounds reach the Parquet reader as a predicate on the raw
//! column. The per-subject reductions ([`reduce`]) are computed once per run
//! and shared by the metrics.

pub mod fold;
mod interrupts;
pub mod reduce;
pub mod spark;
pub mod sql;
mod staging;
pub mod store;

use polars::prelude::*;

use crate::config::{Pipeline, ResolvedSource, SourceName};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::time::DayRange;

/// The columns of the activity contract, in order.
pub const COLUMNS: [&str; 5] = ["account_id", "user_id", "day", "event_name", "events"];

/// The events source that reads the rollup in the Parquet files `files`
/// (a glob): what Spark staged, or the store's days. The rest of the run
/// reads it as `engine: table` reads a rollup (`day` standing for
/// `event_time`), with the same data rules; the pipeline itself is not
/// changed.
pub fn rollup_source(pipeline: &Pipeline, files: crate::storage::Location) -> ResolvedSource {
    let config: crate::config::SourceConfig = serde_json::from_value(serde_json::json!({
        "path": files.to_string(),
        "format": "parquet",
        "columns": { "event_time": "day" },
    }))
    .expect("a source of three keys");
    ResolvedSource {
        name: SourceName::Events,
        is_glob: true,
        s3: files.is_s3().then(|| pipeline.s3.clone()).flatten(),
        location: files,
        format: Some(crate::config::FileFormat::Parquet),
        config,
        rollup: true,
        written_by_store: false,
    }
}

/// The local engine: the events of known accounts whose UTC day is in
/// `range`, one row per event, in the contract's columns. The day bounds
/// reach the reader ([`crate::source::LoadedSource::frame_in_days`]).
pub fn local(inputs: &Inputs, range: DayRange) -> Result<LazyFrame> {
    inputs.known_accounts(local_rows(inputs, range)?)
}

/// [`local`] with the rows of every account, known or not: for a reader
/// that drops the others itself (the fold looks each row's account up in
/// the known accounts anyway, [`fold::compute`]), without the join.
pub fn local_rows(inputs: &Inputs, range: DayRange) -> Result<LazyFrame> {
    let events = inputs
        .get(SourceName::Events)
        .ok_or_else(|| crate::error::Error::config("source `events` is required"))?;
    let rows = events.frame_in_days("event_time", range.first, range.end);
    let user = user_or_null(events, col("user_id"), col("account_id"));
    // One row per event, or a rollup's rows with their counts (checked to
    // be whole numbers from 1 to 2³² − 1 by the data rules).
    let count = if events.is_rollup() {
        col("events").cast(DataType::UInt32)
    } else {
        lit(1u32).cast(DataType::UInt32)
    };
    Ok(rows.select([
        col("account_id"),
        user.alias("user_id"),
        col("event_time").alias("day"),
        col("event_name"),
        count.alias("events"),
    ]))
}

/// The events' rows as their data rules' pass reads them (the source's
/// checked rows, [`crate::source::LoadedSource::checked_in_days`]): where
/// the activity fold finds each row's values when it rides that pass
/// ([`fold::RowColumns`]), so that events are read once
/// (docs/ARCHITECTURE.md, "Activity"). The rows the contract keeps are
/// those of [`local_rows`]: their UTC day in `range` (the pass may read a
/// day more on each side).
pub fn checked_rows(inputs: &Inputs, range: DayRange) -> Result<fold::RowColumns> {
    let events = inputs
        .get(SourceName::Events)
        .ok_or_else(|| crate::error::Error::config("source `events` is required"))?;
    let typed = |column: &str| col(crate::source::typed_column(column));
    let user = user_or_null(events, typed("user_id"), typed("account_id"));
    let day = typed("event_time");
    Ok(fold::RowColumns {
        account: typed("account_id"),
        user,
        day: day.clone(),
        name: typed("event_name"),
        keep: Some(crate::time::in_range(
            day,
            crate::time::date_lit(range.first),
            crate::time::date_lit(range.end),
        )),
    })
}

/// The events' `user`, or without a `user_id` column null, of the id
/// type of `account`.
fn user_or_null(events: &crate::source::LoadedSource, user: Expr, account: Expr) -> Expr {
    if events.has_column("user_id") {
        user
    } else {
        when(lit(false)).then(account).otherwise(lit(NULL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use chrono::NaiveDate;

    #[test]
    fn the_local_engine_keeps_the_contract() {
        // key_action_rate reads [S, A) = [2025-11-01, 2026-01-01). Of the 13 events, three fall outside in UTC:
        // account 3 at 00:00 on A and at 22:30−03:00 on 12-31 (01:30 on A), account 4 at 01:00+02:00 on
        // 11-01 (23:00 on 10-31). The other 10 are kept, one row each: Σ events = 10, days 11-10 … 12-31.
        let fixture = Fixture::tiny();
        fixture.file("events.csv", EVENTS);
        let job = fixture.job_at(fixture.pipeline_with_sources(
            "[{ key_action_rate: { event: report_created } }]",
            "training.csv",
            "  events: { path: events.csv }\n",
        ));
        let inputs = Inputs::scan(&job.pipeline).unwrap();
        let range =
            crate::metrics::needs::activity_range(&job.metrics, &job.pipeline.period).unwrap();
        assert_eq!(
            (range.first, range.end),
            (date("2025-11-01"), date("2026-01-01"))
        );
        let frame = local(&inputs, range).unwrap().collect().unwrap();
        let names: Vec<&str> = frame
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, COLUMNS);
        assert_eq!(frame.column("day").unwrap().dtype(), &DataType::Date);
        assert_eq!(frame.column("events").unwrap().dtype(), &DataType::UInt32);
        let totals = frame
            .lazy()
            .select([
                col("events").sum().cast(DataType::Int64).alias("events"),
                col("day").min().cast(DataType::Int32).alias("first"),
                col("day").max().cast(DataType::Int32).alias("last"),
            ])
            .collect()
            .unwrap();
        let get = |name: &str| {
            totals
                .column(name)
                .unwrap()
                .get(0)
                .unwrap()
                .try_extract::<i64>()
                .unwrap()
        };
        assert_eq!(get("events"), 10);
        assert_eq!(get("first"), day("2025-11-10") as i64);
        assert_eq!(get("last"), day("2025-12-31") as i64);
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }
}
