//! Computing the store's days: which days, in what pieces, and the rollup
//! proper of each piece by the configured engine.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;

use super::CHUNK_DAYS;
use crate::config::{Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::log;
use crate::time::DayRange;

/// Contiguous runs of `days`, each at most [`CHUNK_DAYS`] long.
pub(super) fn chunks(days: &BTreeSet<NaiveDate>) -> Vec<DayRange> {
    let mut out: Vec<DayRange> = Vec::new();
    for day in days {
        let next = *day + chrono::Days::new(1);
        match out.last_mut() {
            Some(last)
                if last.end == *day && (last.end - last.first).num_days() < CHUNK_DAYS as i64 =>
            {
                last.end = next
            }
            _ => out.push(DayRange {
                first: *day,
                end: next,
            }),
        }
    }
    out
}

/// Rows of the events source per UTC day in `[first, end)`, every account,
/// reading `event_time` alone.
pub(super) fn source_rows_by_day(
    inputs: &Inputs,
    first: NaiveDate,
    end: NaiveDate,
) -> Result<BTreeMap<NaiveDate, u64>> {
    let events = inputs
        .get(SourceName::Events)
        .ok_or_else(|| Error::config("source `events` is required"))?;
    let counts = events
        .frame_in_days("event_time", first, end)
        .group_by([col("event_time").alias("day")])
        .agg([len().cast(DataType::UInt64).alias("rows")])
        .collect()
        .map_err(|e| {
            Error::engine(
                &format!("counting the events of {}", events.files_shown()),
                e,
            )
        })?;
    day_counts(&counts, "rows")
}

/// A frame's (`day`, `column`) pairs.
pub(super) fn day_counts(frame: &DataFrame, column: &str) -> Result<BTreeMap<NaiveDate, u64>> {
    let days = frame
        .column("day")
        .and_then(|c| c.cast(&DataType::Int32))
        .map_err(|e| Error::other(format!("store: {e}")))?;
    let counts = frame
        .column(column)
        .and_then(|c| c.cast(&DataType::UInt64))
        .map_err(|e| Error::other(format!("store: {e}")))?;
    let days = days.i32().map_err(|e| Error::other(e.to_string()))?;
    let counts = counts.u64().map_err(|e| Error::other(e.to_string()))?;
    Ok(days
        .iter()
        .zip(counts.iter())
        .filter_map(|(d, n)| Some((crate::time::days_to_date(d?), n.unwrap_or(0))))
        .collect())
}

/// The rollup proper of `days`, every account, by the configured engine.
pub(super) fn compute_days(
    pipeline: &Pipeline,
    inputs: &Inputs,
    days: DayRange,
    run_id: &str,
) -> Result<DataFrame> {
    let started = Instant::now();
    let frame = match pipeline.activity_engine {
        crate::config::ActivityEngine::Spark => {
            let staged = crate::activity::spark::stage(pipeline, inputs, run_id, days)?;
            let inputs = Inputs::scan_with(pipeline, Some(&staged.events))?;
            staged.check_events(&inputs)?;
            let rollup = crate::activity::spark::Staged::rollup(&inputs)?;
            let frame = rollup
                .frame
                .clone()
                .select(key_columns(rollup.has_column("user_id"), col("events")));
            collect(frame, &format!("reading {}", rollup.files_shown()))?
        }
        _ => {
            let events = inputs
                .get(SourceName::Events)
                .ok_or_else(|| Error::config("source `events` is required"))?;
            let frame = events
                .frame_in_days("event_time", days.first, days.end)
                .select(key_columns(events.has_column("user_id"), lit(1u32)));
            let frame = frame
                .group_by([
                    col("account_id"),
                    col("user_id"),
                    col("day"),
                    col("event_name"),
                ])
                .agg([col("events").sum().cast(DataType::UInt32).alias("events")]);
            collect(frame, &format!("the rollup of {}", events.files_shown()))?
        }
    };
    log::debug(
        "store",
        &format!(
            "computed {} … {}: {} row(s) in {:.2}s",
            days.first,
            days.end - chrono::Days::new(1),
            frame.height(),
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(frame)
}

/// The contract's columns of a typed events frame (`event_time` its day),
/// `events` from `count`.
fn key_columns(has_user: bool, count: Expr) -> Vec<Expr> {
    let user = if has_user {
        col("user_id")
    } else {
        when(lit(false))
            .then(col("account_id"))
            .otherwise(lit(NULL))
    };
    vec![
        col("account_id"),
        user.alias("user_id"),
        col("event_time").alias("day"),
        col("event_name"),
        count.cast(DataType::UInt32).alias("events"),
    ]
}

fn collect(frame: LazyFrame, what: &str) -> Result<DataFrame> {
    frame.collect().map_err(|e| Error::engine(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn days_to_compute_come_in_contiguous_chunks_of_at_most_a_month() {
        let mut days: BTreeSet<NaiveDate> = d("2026-01-01").iter_days().take(40).collect();
        days.insert(d("2026-03-01"));
        days.insert(d("2026-03-02"));
        let got: Vec<(String, String)> = chunks(&days)
            .iter()
            .map(|r| (r.first.to_string(), r.end.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-01-01".to_string(), "2026-02-01".to_string()),
                ("2026-02-01".to_string(), "2026-02-10".to_string()),
                ("2026-03-01".to_string(), "2026-03-03".to_string()),
            ]
        );
    }
}
