//! Tests of the SQL rollup: quoting, day expressions, raw bounds.

use super::*;
use polars::prelude::TimeUnit;

#[test]
fn identifiers_and_texts_are_quoted() {
    assert_eq!(Dialect::Duckdb.quote("a\"b"), "\"a\"\"b\"");
    assert_eq!(Dialect::Spark.quote("a`b"), "`a``b`");
    assert_eq!(Dialect::Bigquery.quote("a`b"), "`a\\`b`");
    assert_eq!(Dialect::Snowflake.quote("account_id"), "account_id");
    assert_eq!(Dialect::Snowflake.quote("Account Id"), "\"Account Id\"");
    assert_eq!(Dialect::Trino.quote("account_id"), "\"account_id\"");
    assert_eq!(text("it's"), "'it''s'");
}

#[test]
fn day_expressions_per_type_and_format() {
    let ts = DataType::Datetime(TimeUnit::Microseconds, None);
    let day = |d, t: &DataType, f: &DayFormat| day_expression(d, "e", t, f).unwrap();
    assert_eq!(
        day(Dialect::Duckdb, &ts, &DayFormat::Iso),
        "CAST(e AS DATE)"
    );
    assert_eq!(day(Dialect::Spark, &DataType::Date, &DayFormat::Iso), "e");
    assert_eq!(
        day(Dialect::Duckdb, &DataType::String, &DayFormat::Iso),
        "CAST(CAST(e AS TIMESTAMPTZ) AS DATE)"
    );
    assert_eq!(
        day(Dialect::Spark, &DataType::Int64, &DayFormat::EpochSeconds),
        "CAST(timestamp_seconds(e) AS DATE)"
    );
    let format = DayFormat::Format("%m/%d/%Y".into());
    assert_eq!(
        day(Dialect::Duckdb, &DataType::String, &format),
        "CAST(strptime(e, '%m/%d/%Y') AS DATE)"
    );
    let refused = day_expression(Dialect::Spark, "e", &DataType::String, &format).unwrap_err();
    assert!(refused.to_string().contains("dialect spark"), "{refused}");
}

#[test]
fn raw_bounds_widen_the_days_by_one_on_each_side() {
    let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let (first, end) = (d("2025-11-01"), d("2026-11-01"));
    let tz = DataType::Datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC));
    assert_eq!(
        raw_bounds(Dialect::Duckdb, "e", &tz, &DayFormat::Iso, first, end).unwrap(),
        "e >= TIMESTAMPTZ '2025-10-31 00:00:00+00' AND e < TIMESTAMPTZ '2026-11-02 00:00:00+00'"
    );
    assert_eq!(
        raw_bounds(
            Dialect::Spark,
            "e",
            &DataType::Int64,
            &DayFormat::EpochSeconds,
            first,
            end
        )
        .unwrap(),
        "e >= 1761868800 AND e < 1793577600"
    );
    assert!(raw_bounds(
        Dialect::Spark,
        "e",
        &DataType::String,
        &DayFormat::Iso,
        first,
        end
    )
    .is_none());
}
