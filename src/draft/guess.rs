//! The guesses of `init` about values (docs/INPUTS.md#a-first-pipeline-from-your-exports):
//! how a date column is written, the status values that mean completed,
//! the courses, and where each source's dates end.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::source::{parse_day_with, parse_utc_day, status::reads_as_completed, DayFormat};

use super::sniff::Sniffed;

/// Formats tried, in order, when the values are not ISO dates.
const FORMATS: &[&str] = &[
    "%Y%m%d",
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
    "%m/%d/%y",
    "%m/%d/%y %H:%M",
    "%d/%m/%y",
    "%d.%m.%y",
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
        // Epoch seconds and milliseconds of the years 1973 to 2286; other
        // integers (YYYYMMDD, spreadsheet serials) are no epoch.
        let between = |low: i64, high: i64| numbers.iter().all(|n| (low..high).contains(n));
        if between(100_000_000, 10_000_000_000) {
            return Ok(Some((
                "epoch_s".to_string(),
                format!("seconds since 1970, like {example}"),
            )));
        }
        if between(100_000_000_000, 10_000_000_000_000) {
            return Ok(Some((
                "epoch_ms".to_string(),
                format!("milliseconds since 1970, like {example}"),
            )));
        }
    }
    if dtype != DataType::String {
        return Err(format!(
            "`{column}` holds numbers like `{example}` that are no epoch time: give the dates as text, or map another column"
        ));
    }
    // Every value reads, as a year from 1900 to 2199 (`%Y` also takes `24`).
    let fits = |format: &str| {
        values.iter().all(|v| {
            parse_day_with(v, format)
                .map(crate::time::days_to_date)
                .is_some_and(|d| (1900..2200).contains(&chrono::Datelike::year(&d)))
        })
    };
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use polars::prelude::DataType;

    use super::day_format;
    use crate::config::FileFormat;
    use crate::draft::sniff::Sniffed;

    fn export(dtype: DataType, values: &[&str]) -> Sniffed {
        Sniffed {
            path: "x.csv".into(),
            format: FileFormat::Csv,
            columns: vec![("d".into(), dtype)],
            samples: BTreeMap::from([(
                "d".to_string(),
                values.iter().map(|v| v.to_string()).collect(),
            )]),
            delimiter: None,
            second_header: false,
            files: Vec::new(),
        }
    }

    fn guessed(dtype: DataType, values: &[&str]) -> Result<Option<String>, String> {
        day_format(&export(dtype, values), "d").map(|g| g.map(|(format, _)| format))
    }

    #[test]
    fn dates_are_read_as_written_and_two_digit_years_are_not_year_24() {
        let text = DataType::String;
        assert_eq!(
            guessed(text.clone(), &["2025-10-08", "2025-10-08 09:30"]),
            Ok(None)
        );
        assert_eq!(
            guessed(text.clone(), &["1/2/24", "12/31/24"])
                .unwrap()
                .as_deref(),
            Some("%m/%d/%y")
        );
        assert_eq!(
            guessed(text.clone(), &["10/08/2025", "12/31/2025"])
                .unwrap()
                .as_deref(),
            Some("%m/%d/%Y")
        );
        assert_eq!(
            guessed(text.clone(), &["31.12.2025"]).unwrap().as_deref(),
            Some("%d.%m.%Y")
        );
        assert_eq!(
            guessed(text.clone(), &["20240115", "20241231"])
                .unwrap()
                .as_deref(),
            Some("%Y%m%d")
        );
        assert_eq!(
            guessed(text.clone(), &["05/06/2025 02:35:58 PM"])
                .unwrap()
                .as_deref(),
            Some("%m/%d/%Y %I:%M:%S %p")
        );
        assert_eq!(
            guessed(text.clone(), &["1740787200"]).unwrap().as_deref(),
            Some("epoch_s")
        );
        assert_eq!(
            guessed(DataType::Int64, &["1740787200000"])
                .unwrap()
                .as_deref(),
            Some("epoch_ms")
        );
        // Month-first and day-first both fit: month first, with a comment that says so.
        let (_, why) = day_format(&export(text.clone(), &["01/02/2025"]), "d")
            .unwrap()
            .unwrap();
        assert!(why.contains("month first assumed"), "{why}");
        // Integers that are no epoch time (a YYYYMM month, a spreadsheet serial) are not guessed.
        assert!(guessed(DataType::Int64, &["202401", "202402"]).is_err());
        assert!(guessed(DataType::Int64, &["45300"]).is_err());
        assert!(guessed(text, &["next Tuesday"]).is_err());
    }
}
