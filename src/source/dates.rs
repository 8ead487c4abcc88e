//! Reading calendar dates from text (docs/METRICS.md#time): `YYYY-MM-DD`, or an ISO 8601
//! datetime `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|±HH[:MM]]`. Datetimes are
//! converted to UTC and truncated to their date; without a zone they are UTC.
//! One pass per value with no format-string interpretation, so mixed zones in
//! one column work and large CSV files parse fast.

use chrono::NaiveDate;
use polars::prelude::*;

pub const SECONDS_PER_DAY: i64 = 86_400;

fn digits(bytes: &[u8], from: usize, len: usize) -> Option<i64> {
    let slice = bytes.get(from..from + len)?;
    slice.iter().try_fold(0i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + (b - b'0') as i64)
    })
}

/// Days since 1970-01-01 of the UTC date of `text`, or `None` when it is not
/// a date or an ISO 8601 datetime.
pub fn parse_utc_day(text: &str) -> Option<i32> {
    let bytes = text.trim().as_bytes();
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits(bytes, 0, 4)? as i32,
        digits(bytes, 5, 2)? as u32,
        digits(bytes, 8, 2)? as u32,
    )?;
    let days = crate::time::date_to_days(date);
    if bytes.len() == 10 {
        return Some(days);
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') || bytes.get(13) != Some(&b':') {
        return None;
    }
    let (hours, minutes) = (digits(bytes, 11, 2)?, digits(bytes, 14, 2)?);
    let mut pos = 16;
    let mut seconds = 0;
    if bytes.get(pos) == Some(&b':') {
        seconds = digits(bytes, pos + 1, 2)?;
        pos += 3;
        if matches!(bytes.get(pos), Some(b'.') | Some(b',')) {
            pos += 1;
            while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
        }
    }
    if hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    while bytes.get(pos) == Some(&b' ') {
        pos += 1;
    }
    let offset = match &bytes[pos..] {
        [] | [b'Z'] | [b'z'] | [b'U', b'T', b'C'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [_, _] => (digits(rest, 0, 2)?, 0),
                [_, _, _, _] => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                [_, _, b':', _, _] => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let offset = h * 3600 + m * 60;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let utc_seconds = hours * 3600 + minutes * 60 + seconds - offset;
    Some(days + utc_seconds.div_euclid(SECONDS_PER_DAY) as i32)
}

/// Polars function: a String column to a Date column (unparseable → null).
fn utc_days(column: Column) -> PolarsResult<Column> {
    let text = column.str()?;
    let days: Int32Chunked = text.iter().map(|v| v.and_then(parse_utc_day)).collect();
    days.with_name(column.name().clone())
        .into_column()
        .cast(&DataType::Date)
}

/// The expression turning a String column into UTC calendar dates.
pub fn text_to_day(text: Expr) -> Expr {
    text.map(utc_days, |_, field| {
        Ok(Field::new(field.name().clone(), DataType::Date))
    })
}

/// How a date column is written (`types:` of a source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayFormat {
    /// ISO dates and datetimes ([`parse_utc_day`]).
    Iso,
    /// Seconds since 1970-01-01 UTC.
    EpochSeconds,
    /// Milliseconds since 1970-01-01 UTC.
    EpochMillis,
    /// A strftime format.
    Format(String),
}

impl DayFormat {
    /// `epoch_s`, `epoch_ms` or a strftime format (it must hold a `%`).
    pub fn parse(text: &str) -> Option<DayFormat> {
        match text {
            "epoch_s" => Some(DayFormat::EpochSeconds),
            "epoch_ms" => Some(DayFormat::EpochMillis),
            f if f.contains('%') => Some(DayFormat::Format(f.to_string())),
            _ => None,
        }
    }

    /// What a value must look like, for the parse check's rule.
    pub fn rule(&self) -> String {
        match self {
            DayFormat::Iso => "is a date (YYYY-MM-DD) or an ISO 8601 datetime".into(),
            DayFormat::EpochSeconds => "is a number of seconds since 1970-01-01 (epoch_s)".into(),
            DayFormat::EpochMillis => {
                "is a number of milliseconds since 1970-01-01 (epoch_ms)".into()
            }
            DayFormat::Format(f) => format!("is a date in the format `{f}`"),
        }
    }
}

/// Days since 1970-01-01 of the UTC date of `text` read with a strftime
/// format: a date, a datetime (UTC) or a datetime with `%z`.
pub fn parse_day_with(text: &str, format: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(instant) = chrono::DateTime::parse_from_str(text, format) {
        return Some(crate::time::date_to_days(instant.naive_utc().date()));
    }
    if let Ok(datetime) = chrono::NaiveDateTime::parse_from_str(text, format) {
        return Some(crate::time::date_to_days(datetime.date()));
    }
    NaiveDate::parse_from_str(text, format)
        .ok()
        .map(crate::time::date_to_days)
}

/// The days `[first, end)` widened by a day on each side: a raw date or
/// time in another zone than UTC may fall a day off its UTC date, so a
/// predicate on the raw column keeps those and the exact filter follows.
pub fn widened(first: NaiveDate, end: NaiveDate) -> (NaiveDate, NaiveDate) {
    (first - chrono::Days::new(1), end + chrono::Days::new(1))
}

/// A predicate on a date column as the files hold it (`raw` of type
/// `dtype`, written as `format`) that keeps every row whose UTC day is in
/// `[first, end)`, and a day more on each side: compared with literals of
/// the column's own type, so that the Parquet reader can test it against
/// row-group statistics. None for text, which must be parsed first.
pub fn raw_day_range(
    raw: Expr,
    dtype: &DataType,
    format: &DayFormat,
    first: NaiveDate,
    end: NaiveDate,
) -> Option<Expr> {
    let (low, high) = widened(first, end);
    let (low, high) = (
        crate::time::date_to_days(low) as i64,
        crate::time::date_to_days(high) as i64,
    );
    let bounds = |per_day: i64, as_type: DataType| {
        let at = |day: i64| lit(day * per_day).cast(as_type.clone());
        raw.clone().gt_eq(at(low)).and(raw.clone().lt(at(high)))
    };
    match (format, dtype) {
        (DayFormat::Iso, DataType::Date) => Some(bounds(1, DataType::Date)),
        (DayFormat::Iso, DataType::Datetime(unit, zone)) => {
            let per_day = SECONDS_PER_DAY
                * match unit {
                    TimeUnit::Milliseconds => 1_000,
                    TimeUnit::Microseconds => 1_000_000,
                    TimeUnit::Nanoseconds => 1_000_000_000,
                };
            Some(bounds(per_day, DataType::Datetime(*unit, zone.clone())))
        }
        (DayFormat::EpochSeconds, d) if d.is_integer() => Some(bounds(SECONDS_PER_DAY, d.clone())),
        (DayFormat::EpochMillis, d) if d.is_integer() => {
            Some(bounds(SECONDS_PER_DAY * 1000, d.clone()))
        }
        _ => None,
    }
}

/// The expression turning a column written as `format` into UTC dates
/// (what does not parse becomes null, for the parse check to report).
pub fn to_day(value: Expr, format: &DayFormat) -> Expr {
    let epoch = |per_day: f64| {
        (value.clone().cast(DataType::Float64) / lit(per_day))
            .floor()
            .cast(DataType::Int32)
            .cast(DataType::Date)
    };
    match format {
        DayFormat::Iso => text_to_day(value),
        DayFormat::EpochSeconds => epoch(SECONDS_PER_DAY as f64),
        DayFormat::EpochMillis => epoch(SECONDS_PER_DAY as f64 * 1000.0),
        DayFormat::Format(f) => {
            let f = f.clone();
            value.cast(DataType::String).map(
                move |column: Column| {
                    let text = column.str()?;
                    let days: Int32Chunked = text
                        .iter()
                        .map(|v| v.and_then(|t| parse_day_with(t, &f)))
                        .collect();
                    days.with_name(column.name().clone())
                        .into_column()
                        .cast(&DataType::Date)
                },
                |_, field| Ok(Field::new(field.name().clone(), DataType::Date)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_day_range_keeps_the_range_and_a_day_either_side() {
        // Range [2026-01-10, 2026-01-20): the predicate on the raw column keeps [01-09, 01-21).
        let (first, end) = (
            NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
            NaiveDate::from_ymd_opt(2026, 1, 20).unwrap(),
        );
        let micros = |d: &str, h: i64| day(d) as i64 * 86_400_000_000 + h * 3_600_000_000;
        let at = [
            micros("2026-01-08", 23),
            micros("2026-01-09", 0),
            micros("2026-01-20", 23),
            micros("2026-01-21", 0),
        ];
        let kept = |dtype: DataType, format: DayFormat, values: Vec<i64>| {
            let frame = DataFrame::new_infer_height(vec![Column::new("t".into(), values)])
                .unwrap()
                .lazy()
                .with_column(col("t").cast(dtype.clone()));
            let predicate = raw_day_range(col("t"), &dtype, &format, first, end).unwrap();
            frame.filter(predicate).collect().unwrap().height()
        };
        let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        assert_eq!(kept(utc, DayFormat::Iso, at.to_vec()), 2);
        let naive = DataType::Datetime(TimeUnit::Microseconds, None);
        assert_eq!(kept(naive, DayFormat::Iso, at.to_vec()), 2);
        let seconds: Vec<i64> = at.iter().map(|m| m / 1_000_000).collect();
        assert_eq!(kept(DataType::Int64, DayFormat::EpochSeconds, seconds), 2);
        let days = vec![
            day("2026-01-08") as i64,
            day("2026-01-09") as i64,
            day("2026-01-20") as i64,
            day("2026-01-21") as i64,
        ];
        let dates: Vec<i32> = days.iter().map(|d| *d as i32).collect();
        let frame = DataFrame::new_infer_height(vec![Column::new("t".into(), dates)])
            .unwrap()
            .lazy()
            .with_column(col("t").cast(DataType::Date));
        let predicate =
            raw_day_range(col("t"), &DataType::Date, &DayFormat::Iso, first, end).unwrap();
        assert_eq!(frame.filter(predicate).collect().unwrap().height(), 2);
        assert!(raw_day_range(col("t"), &DataType::String, &DayFormat::Iso, first, end).is_none());
    }

    fn day(text: &str) -> i32 {
        crate::time::date_to_days(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap())
    }

    #[test]
    fn dates_and_datetimes_to_utc_days() {
        assert_eq!(parse_utc_day("2026-01-01"), Some(day("2026-01-01")));
        assert_eq!(parse_utc_day(" 2026-01-01 "), Some(day("2026-01-01")));
        assert_eq!(
            parse_utc_day("2025-12-31T23:59:59Z"),
            Some(day("2025-12-31"))
        );
        assert_eq!(
            parse_utc_day("2025-12-31 23:59:59.999999"),
            Some(day("2025-12-31"))
        );
        // Offsets move the instant across midnight UTC in both directions.
        assert_eq!(
            parse_utc_day("2025-12-31T23:30:00-02:00"),
            Some(day("2026-01-01"))
        );
        assert_eq!(
            parse_utc_day("2026-01-01T01:00:00+02:00"),
            Some(day("2025-12-31"))
        );
        assert_eq!(
            parse_utc_day("2026-01-01T01:00:00.5+0200"),
            Some(day("2025-12-31"))
        );
        assert_eq!(
            parse_utc_day("2026-01-01T00:00+00"),
            Some(day("2026-01-01"))
        );
        assert_eq!(
            parse_utc_day("2026-01-01T12:00:00.000000+0000"),
            Some(day("2026-01-01"))
        );
    }

    #[test]
    fn strftime_formats_read_dates_and_datetimes() {
        assert_eq!(
            parse_day_with("10/8/2025", "%m/%d/%Y"),
            Some(day("2025-10-08"))
        );
        assert_eq!(
            parse_day_with("31.12.2025", "%d.%m.%Y"),
            Some(day("2025-12-31"))
        );
        // A datetime without a zone is UTC; with `%z` it is converted.
        assert_eq!(
            parse_day_with("12/31/2025 23:30", "%m/%d/%Y %H:%M"),
            Some(day("2025-12-31"))
        );
        assert_eq!(
            parse_day_with("12/31/2025 23:30 -0200", "%m/%d/%Y %H:%M %z"),
            Some(day("2026-01-01"))
        );
        assert_eq!(parse_day_with("2025-10-08", "%m/%d/%Y"), None);
        assert_eq!(DayFormat::parse("epoch_s"), Some(DayFormat::EpochSeconds));
        assert_eq!(DayFormat::parse("mm/dd/yyyy"), None);
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for bad in [
            "",
            "2026-1-01",
            "2026-02-30",
            "01/02/2026",
            "2026-01-01X",
            "2026-01-01T25:00",
            "2026-01-01T10:00+5",
            "tomorrow",
        ] {
            assert_eq!(parse_utc_day(bad), None, "{bad}");
        }
    }
}
