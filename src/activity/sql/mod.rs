//! `cohort-metrics activity-sql`: the rollup statement for another engine.
//!
//! The statement computes what the local engine computes from
//! `sources.events` ([`super::local`]), one row per (`account_id`,
//! `user_id`, `day`, `event_name`) with `events`, for the days `[first, A)`
//! that the pipeline's metrics read, so that a warehouse team can schedule
//! it and point `activity.table` at its output. It is built from the same
//! definition: the source's path and format, its column mapping, how its
//! `event_time` is written (`types`) and held (the file's type), UTC days
//! (the session time zone is pinned to UTC first), null user ids kept.
//! Orphan rows are not filtered here: the table engine drops and counts
//! them as it does for events. An option a dialect cannot express is an
//! error naming the option and the dialect.

use chrono::NaiveDate;
use polars::prelude::DataType;

use crate::config::{FileFormat, Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::source::DayFormat;

mod relation;
use relation::relation;

/// The SQL dialects `activity-sql` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// DuckDB (reads the files itself; `s3://` through its httpfs extension).
    Duckdb,
    /// Spark SQL (Databricks, EMR, Dataproc, Spark Connect; reads the files).
    Spark,
    /// Trino and Athena (reads a table: `--table`).
    Trino,
    /// BigQuery (reads a table: `--table`).
    Bigquery,
    /// Snowflake (reads a table: `--table`).
    Snowflake,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Duckdb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::Trino => "trino",
            Dialect::Bigquery => "bigquery",
            Dialect::Snowflake => "snowflake",
        }
    }

    /// An identifier, quoted.
    fn quote(self, name: &str) -> String {
        match self {
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            Dialect::Bigquery => format!("`{}`", name.replace('`', "\\`")),
            // Snowflake folds unquoted names to upper case and keeps quoted
            // ones as written: a column created as `account_id` unquoted is
            // ACCOUNT_ID, which "account_id" would not find.
            Dialect::Snowflake if is_plain(name) => name.to_string(),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// The statement that pins the session's time zone to UTC (BigQuery has
    /// no session zone: its functions are given 'UTC').
    fn utc_session(self) -> Option<&'static str> {
        match self {
            Dialect::Duckdb => Some("SET TimeZone = 'UTC'"),
            Dialect::Spark => Some("SET spark.sql.session.timeZone = UTC"),
            Dialect::Trino => Some("SET TIME ZONE 'UTC'"),
            Dialect::Bigquery => None,
            Dialect::Snowflake => Some("ALTER SESSION SET TIMEZONE = 'UTC'"),
        }
    }
}

/// A name that needs no quotes: a letter or `_`, then letters, digits and `_`.
fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A string literal in single quotes (both dialects double a quote).
pub(crate) fn text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The rollup of a pipeline's events in one dialect, statement by statement
/// (no trailing `;`).
#[derive(Debug, Clone)]
pub struct Rollup {
    /// Run first, in order: the UTC session zone, then the relation's set-up.
    pub setup: Vec<String>,
    /// The rollup: one row per key with `events`.
    pub select: String,
    /// One row, `events`: the source rows the rollup stands for (its
    /// Σ `events`), counted by the engine in a query of its own.
    pub count: String,
    /// The days `[first, end)`.
    pub range: crate::time::DayRange,
}

/// The rollup statement of `pipeline`'s events in `dialect`; `table`, when
/// given, is the relation to read instead of the source's files.
pub fn statement(
    pipeline: &Pipeline,
    inputs: &Inputs,
    range: Option<crate::time::DayRange>,
    dialect: Dialect,
    table: Option<&str>,
) -> Result<String> {
    let range = range.ok_or_else(|| {
        Error::config("no configured metric reads events: there is no activity rollup to compute")
    })?;
    let rollup = rollup_of_days(pipeline, inputs, dialect, table, range)?;
    let statements: Vec<String> = rollup
        .setup
        .iter()
        .chain(std::iter::once(&rollup.select))
        .map(|s| format!("{s};"))
        .collect();
    Ok(format!(
        "-- The activity rollup of pipeline `{}` (cohort-metrics activity-sql, dialect {}):\n\
         -- one row per (account_id, user_id, day, event_name) with `events`, the UTC days\n\
         -- [{}, {}). Point `activity.table` at its output and set `activity.engine: table`.\n{}\n",
        pipeline.name,
        dialect.name(),
        rollup.range.first,
        rollup.range.end,
        statements.join("\n")
    ))
}

/// The rollup of `pipeline`'s events over the days `range` in `dialect`,
/// as [`statement`] prints it and the spark engine runs it (the store
/// computes some days only).
pub fn rollup_of_days(
    pipeline: &Pipeline,
    inputs: &Inputs,
    dialect: Dialect,
    table: Option<&str>,
    range: crate::time::DayRange,
) -> Result<Rollup> {
    let events = inputs
        .get(SourceName::Events)
        .filter(|e| !e.is_rollup())
        .ok_or_else(|| {
            Error::config(
                "activity-sql writes the rollup of `sources.events`, which this pipeline does not define \
                 (with `activity.engine: table` the rollup is already computed elsewhere)",
            )
        })?;
    let source = pipeline
        .sources
        .get(&SourceName::Events)
        .ok_or_else(|| Error::config("source `events` is required"))?;
    if table.is_none()
        && !(source.config.keep_rows.is_empty() && source.config.drop_rows.is_empty())
    {
        return Err(Error::config(format!(
            "`sources.events.keep_rows`/`drop_rows` are applied by this job's reader; dialect {} reads the \
             files itself and would count the rows they leave out: filter the events before, or give \
             `--table` over the filtered rows",
            dialect.name()
        )));
    }
    // An NDJSON file's nested field (`groups.company`) is a field of a
    // struct column in the engine too: each segment quoted.
    let nested = table.is_none() && events.format == FileFormat::Ndjson;
    if nested {
        let raw = events.raw.clone().collect_schema().ok();
        for id in ["account_id", "user_id"] {
            if raw
                .as_ref()
                .and_then(|schema| schema.get(id))
                .is_some_and(|dtype| matches!(dtype, DataType::List(_)))
            {
                return Err(Error::config(format!(
                    "`sources.events` column `{id}` holds lists of ids (`[\"42\"]`), which this job reads \
                     as their one id but dialect {} would read as lists: flatten them first, or let this \
                     job compute the rollup (`activity.engine: local`)",
                    dialect.name()
                )));
            }
        }
    }
    let q = |canonical: &str| {
        let name = crate::source::file_name_of(source, canonical);
        if nested {
            let parts: Vec<String> = name.split('.').map(|p| dialect.quote(p)).collect();
            parts.join(".")
        } else {
            dialect.quote(&name)
        }
    };
    let (dtype, format) = events
        .raw_day("event_time")
        .ok_or_else(|| Error::config("source `events` has no `event_time` column"))?;
    let day = day_expression(dialect, &q("event_time"), dtype, format)?;
    // The run's id type (docs/INPUTS.md: ids compare as integers only when every
    // id is one). A CSV read by the engine gives text (Spark) or whatever
    // the engine infers (DuckDB): the ids are cast or read as that type.
    let integer_ids = events
        .frame
        .clone()
        .collect_schema()
        .ok()
        .and_then(|schema| schema.get("account_id").cloned())
        .is_some_and(|dtype| dtype.is_integer());
    let csv_text_ids = table.is_none() && events.format == FileFormat::Csv;
    let id = |canonical: &str| match (dialect, csv_text_ids && integer_ids) {
        (Dialect::Spark, true) => format!("CAST({} AS BIGINT)", q(canonical)),
        _ => q(canonical),
    };
    let mut inner = vec![
        format!("    {} AS account_id", id("account_id")),
        format!("    {day} AS day"),
        format!("    {} AS event_name", q("event_name")),
    ];
    let mut keys = vec!["account_id", "day", "event_name"];
    if events.has_column("user_id") {
        inner.insert(1, format!("    {} AS user_id", id("user_id")));
        keys.insert(1, "user_id");
    }
    let text_ids: Vec<String> = if csv_text_ids && !integer_ids {
        ["account_id", "user_id"]
            .into_iter()
            .filter(|c| events.has_column(c))
            .map(|c| crate::source::file_name_of(source, c))
            .collect()
    } else {
        Vec::new()
    };
    let (relation_setup, relation) = match table {
        Some(table) => (Vec::new(), table.to_string()),
        None => relation(dialect, source, events, &text_ids)?,
    };
    let mut setup: Vec<String> = dialect
        .utc_session()
        .map(str::to_string)
        .into_iter()
        .collect();
    if dialect == Dialect::Spark {
        // Without ANSI mode a time Spark cannot parse becomes a null day and
        // its row is silently left out; with it the statement fails.
        setup.push("SET spark.sql.ansi.enabled = true".to_string());
    }
    setup.extend(relation_setup);
    let raw_bounds = raw_bounds(
        dialect,
        &q("event_time"),
        dtype,
        format,
        range.first,
        range.end,
    );
    let keys = keys.join(", ");
    let from = format!(
        "FROM (\n  SELECT\n{}\n  FROM {relation}{}\n) AS src\nWHERE day >= DATE '{}' AND day < DATE '{}'",
        inner.join(",\n"),
        raw_bounds.map_or(String::new(), |b| format!("\n  WHERE {b}")),
        range.first,
        range.end,
    );
    Ok(Rollup {
        setup,
        select: format!("SELECT {keys}, COUNT(*) AS events\n{from}\nGROUP BY {keys}"),
        count: format!("SELECT COUNT(*) AS events\n{from}"),
        range,
    })
}

/// The UTC date of the raw column `e` (the session time zone is UTC).
fn day_expression(
    dialect: Dialect,
    e: &str,
    dtype: &DataType,
    format: &DayFormat,
) -> Result<String> {
    let cannot = |what: &str| {
        Error::config(format!(
            "`sources.events.types.event_time` ({what}) cannot be expressed in dialect {}: \
             convert the column to a timestamp in the engine first and map it in `columns`",
            dialect.name()
        ))
    };
    let zoned = matches!(dtype, DataType::Datetime(_, Some(_)));
    Ok(match (format, dtype) {
        (DayFormat::Iso, DataType::Date) => e.to_string(),
        (DayFormat::Iso, DataType::Datetime(..)) => match dialect {
            Dialect::Trino if zoned => format!("CAST({e} AT TIME ZONE 'UTC' AS DATE)"),
            Dialect::Bigquery if zoned => format!("DATE({e}, 'UTC')"),
            Dialect::Bigquery => format!("DATE({e})"),
            Dialect::Snowflake if zoned => format!("CAST(CONVERT_TIMEZONE('UTC', {e}) AS DATE)"),
            _ => format!("CAST({e} AS DATE)"),
        },
        (DayFormat::Iso, _) => match dialect {
            Dialect::Duckdb => format!("CAST(CAST({e} AS TIMESTAMPTZ) AS DATE)"),
            Dialect::Spark => format!("CAST(CAST({e} AS TIMESTAMP) AS DATE)"),
            Dialect::Trino => {
                format!("CAST(from_iso8601_timestamp({e}) AT TIME ZONE 'UTC' AS DATE)")
            }
            Dialect::Bigquery => format!("DATE(TIMESTAMP({e}), 'UTC')"),
            Dialect::Snowflake => {
                format!("CAST(CONVERT_TIMEZONE('UTC', TO_TIMESTAMP_TZ({e})) AS DATE)")
            }
        },
        (DayFormat::EpochSeconds, _) => match dialect {
            Dialect::Duckdb => format!("CAST(to_timestamp(CAST({e} AS DOUBLE)) AS DATE)"),
            Dialect::Spark => format!("CAST(timestamp_seconds({e}) AS DATE)"),
            Dialect::Trino => format!("CAST(from_unixtime({e}) AT TIME ZONE 'UTC' AS DATE)"),
            Dialect::Bigquery => {
                format!("DATE(TIMESTAMP_SECONDS(CAST(FLOOR({e}) AS INT64)), 'UTC')")
            }
            Dialect::Snowflake => format!("CAST(TO_TIMESTAMP_NTZ(FLOOR({e})) AS DATE)"),
        },
        (DayFormat::EpochMillis, _) => match dialect {
            Dialect::Duckdb => format!("CAST(epoch_ms(CAST(floor({e}) AS BIGINT)) AS DATE)"),
            Dialect::Spark => format!("CAST(timestamp_millis(CAST(floor({e}) AS BIGINT)) AS DATE)"),
            Dialect::Trino => {
                format!("CAST(from_unixtime({e} / 1000.0) AT TIME ZONE 'UTC' AS DATE)")
            }
            Dialect::Bigquery => {
                format!("DATE(TIMESTAMP_MILLIS(CAST(FLOOR({e}) AS INT64)), 'UTC')")
            }
            Dialect::Snowflake => format!("CAST(TO_TIMESTAMP_NTZ(FLOOR({e}), 3) AS DATE)"),
        },
        // DuckDB's strptime and BigQuery's PARSE_TIMESTAMP take the same %
        // codes; Spark's, Trino's and Snowflake's patterns are their own.
        (DayFormat::Format(pattern), _) => match dialect {
            Dialect::Duckdb => format!("CAST(strptime({e}, {}) AS DATE)", text(pattern)),
            Dialect::Bigquery => format!("DATE(PARSE_TIMESTAMP({}, {e}), 'UTC')", text(pattern)),
            _ => return Err(cannot(&format!("the strftime format {pattern:?}"))),
        },
    })
}

/// A predicate on the raw column that keeps every row of the days
/// `[first, end)` and a day more on each side, in the column's own type, so
/// that the engine can skip files and row groups (None for text).
fn raw_bounds(
    dialect: Dialect,
    e: &str,
    dtype: &DataType,
    format: &DayFormat,
    first: NaiveDate,
    end: NaiveDate,
) -> Option<String> {
    let (low, high) = crate::source::widened(first, end);
    let between = |low: String, high: String| format!("{e} >= {low} AND {e} < {high}");
    let seconds =
        |d: NaiveDate| crate::time::date_to_days(d) as i64 * crate::source::SECONDS_PER_DAY;
    match (format, dtype) {
        (DayFormat::Iso, DataType::Date) => {
            Some(between(format!("DATE '{low}'"), format!("DATE '{high}'")))
        }
        (DayFormat::Iso, DataType::Datetime(_, zone)) => {
            let literal = |d: NaiveDate| match (dialect, zone.is_some()) {
                (Dialect::Duckdb, true) => format!("TIMESTAMPTZ '{d} 00:00:00+00'"),
                (Dialect::Trino, true) => format!("TIMESTAMP '{d} 00:00:00 UTC'"),
                (Dialect::Bigquery, true) => format!("TIMESTAMP '{d} 00:00:00+00'"),
                (Dialect::Bigquery, false) => format!("DATETIME '{d} 00:00:00'"),
                (Dialect::Snowflake, true) => format!("TO_TIMESTAMP_TZ('{d} 00:00:00 +0000')"),
                (Dialect::Snowflake, false) => format!("TO_TIMESTAMP_NTZ('{d} 00:00:00')"),
                _ => format!("TIMESTAMP '{d} 00:00:00'"),
            };
            Some(between(literal(low), literal(high)))
        }
        (DayFormat::EpochSeconds, d) if d.is_integer() => {
            Some(between(seconds(low).to_string(), seconds(high).to_string()))
        }
        (DayFormat::EpochMillis, d) if d.is_integer() => Some(between(
            (seconds(low) * 1000).to_string(),
            (seconds(high) * 1000).to_string(),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
