//! The guesses of `init` about values (docs/INPUTS.md#a-first-pipeline-from-your-exports):
//! how a date column is written, the status values that mean completed,
//! the courses, and where each source's dates end.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::source::{parse_day_with, parse_utc_day, status::reads_as_completed, DayFormat};

use super::sniff::Sniffed;

/// Formats tried, in order, when the values are not ISO dates.
const FORMATS: &[&str] = &[
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
];

/// How a date column is written, when not as the reader reads it by
/// default, with the comment for the draft; None for ISO text and typed
/// dates. `Err` when no format reads every sample.
pub fn day_format(
    export: &Sniffed,
    column: &str,
) -> std::result::Result<Option<(String, String)>, String> {
    let values = export.samples_of(column);
    let dtype = export.dtype(column).cloned().unwrap_or(DataType::String);
    if values.is_empty() || matches!(dtype, DataType::Date | DataType::Datetime(_, _)) {
        return Ok(None);
    }
    let example = values[0].clone();
    if dtype == DataType::String && values.iter().all(|v| parse_utc_day(v).is_some()) {
        return Ok(None);
    }
    let integers: Option<Vec<i64>> = values
        .iter()
        .map(|v| v.trim().parse::<i64>().ok())
        .collect();
    if let Some(numbers) = integers {
        let largest = numbers.iter().map(|n| n.abs()).max().unwrap_or(0);
        return Ok(Some(if largest >= 100_000_000_000 {
            (
                "epoch_ms".to_string(),
                format!("milliseconds since 1970, like {example}"),
            )
        } else {
            (
                "epoch_s".to_string(),
                format!("seconds since 1970, like {example}"),
            )
        }));
    }
    let fits = |format: &str| values.iter().all(|v| parse_day_with(v, format).is_some());
    let Some(format) = FORMATS.iter().copied().find(|f| fits(f)) else {
        return Err(format!(
            "`{column}` holds dates written like `{example}`, in no format tried: set `types.<column>` to its strftime format"
        ));
    };
    let mut note = format!("values like `{example}`");
    if format.starts_with("%m/%d")
        && FORMATS
            .iter()
            .filter(|f| f.starts_with("%d/%m"))
            .any(|f| fits(&f))
    {
        note.push_str("; month first assumed (no day above 12 in the first rows): check");
    }
    Ok(Some((format.to_string(), note)))
}

/// Whether `DayFormat` accepts the guess (a guard between this module and the reader).
pub fn readable(format: &str) -> bool {
    DayFormat::parse(format).is_some()
}

/// Distinct values of a column with their row counts, most common first
/// (one pass over the column).
pub fn value_counts(export: &Sniffed, column: &str) -> Result<Vec<(String, u64)>> {
    let value = col(column).cast(DataType::String);
    crate::source::value_counts(export.scan()?, value, &format!("`{}`", export.path))
}

/// The status values that read as completed, and every value seen.
pub fn completed_values(statuses: &[(String, u64)]) -> Vec<String> {
    statuses
        .iter()
        .filter(|(v, _)| reads_as_completed(v))
        .map(|(v, _)| v.clone())
        .collect()
}

/// The last day (days since 1970) a date column holds, read as the run
/// reads it with `format` (None: the default).
pub fn last_day(export: &Sniffed, column: &str, format: Option<&str>) -> Result<Option<i32>> {
    let what = format!("`{}`", export.path);
    let format = match format {
        Some(f) => DayFormat::parse(f).unwrap_or(DayFormat::Iso),
        None => DayFormat::Iso,
    };
    let c = col(column);
    let day = match export.dtype(column) {
        Some(DataType::Date) => c,
        Some(DataType::Datetime(_, Some(_))) => c.dt().convert_time_zone(TimeZone::UTC).dt().date(),
        Some(DataType::Datetime(_, None)) => c.dt().date(),
        _ => crate::source::to_day(c, &format),
    };
    let last = export
        .scan()?
        .select([day.max().cast(DataType::Int32).alias("last")])
        .collect()
        .map_err(|e| Error::engine(&what, e))?;
    Ok(last
        .column("last")
        .ok()
        .and_then(|c| c.i32().ok().and_then(|c| c.get(0))))
}
