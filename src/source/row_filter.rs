//! `keep_rows` and `drop_rows` (docs/PIPELINE.md#keep_rows-and-drop_rows):
//! rows of an export that are not part of the table (HubSpot companies that
//! are not customers, voided Chargebee invoices), filtered as the files
//! are read, before any check or metric sees them. Values match any case,
//! spaces around ignored; `""` matches an empty cell.

use polars::prelude::*;

use super::status::normalized;
use crate::config::ResolvedSource;
use crate::error::{Error, Result};
use crate::log;

/// How close (Jaro-Winkler) a value seen must be to a listed value that
/// matches nothing for the warning "did you mean".
const CLOSE: f64 = 0.8;

/// The filtered scan, after checking that every column named exists and
/// that the values listed match what the column holds.
pub(super) fn filter_rows(
    source: &ResolvedSource,
    scanned: LazyFrame,
    schema: &Schema,
    what: &str,
) -> Result<LazyFrame> {
    let config = &source.config;
    let mut keep = lit(true);
    for (keeping, map) in [(true, &config.keep_rows), (false, &config.drop_rows)] {
        let key = if keeping { "keep_rows" } else { "drop_rows" };
        for (column, values) in map {
            if !schema.contains(column) {
                return Err(Error::config(format!(
                    "`sources.{}.{key}` names `{column}`, which {what} does not have; its columns are: {}",
                    source.name,
                    super::columns::list_columns(schema)
                )));
            }
            let seen = values_seen(&scanned, column, what)?;
            check_values(source, key, column, values, &seen, keeping, what)?;
            let matches = matches(column, values);
            keep = keep.and(if keeping { matches } else { matches.not() });
        }
    }
    if config.keep_rows.is_empty() && config.drop_rows.is_empty() {
        return Ok(scanned);
    }
    Ok(scanned.filter(keep))
}

/// True on rows whose `column` holds one of `values` (any case, spaces
/// around ignored; `""` for an empty cell).
fn matches(column: &str, values: &[String]) -> Expr {
    let value = normalized(col(column));
    let listed: Vec<String> = values.iter().map(|v| v.trim().to_lowercase()).collect();
    let mut found = value
        .clone()
        .is_in(
            lit(Series::new("values".into(), listed.clone())).implode(false),
            false,
        )
        .fill_null(lit(false));
    if listed.iter().any(String::is_empty) {
        found = found.or(value.clone().is_null()).or(value.eq(lit("")));
    }
    found
}

/// The normalized values of `column` with their row counts, most common
/// first ("" for an empty cell).
fn values_seen(scanned: &LazyFrame, column: &str, what: &str) -> Result<Vec<(String, u64)>> {
    let value = normalized(col(column)).fill_null(lit(""));
    value_counts(scanned.clone(), value, what)
}

/// The non-null values of the text expression `value` over `frame`, each
/// with its row count, most rows first (then by value): one pass.
pub fn value_counts(frame: LazyFrame, value: Expr, what: &str) -> Result<Vec<(String, u64)>> {
    let counts = frame
        .select([value.alias("value")])
        .filter(col("value").is_not_null())
        .group_by([col("value")])
        .agg([len().cast(DataType::UInt64).alias("rows")])
        .sort_by_exprs(
            [col("rows"), col("value")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()
        .map_err(|e| Error::engine(what, e))?;
    let error = |e: PolarsError| Error::engine(what, e);
    let values = counts
        .column("value")
        .map_err(error)?
        .str()
        .map_err(error)?;
    let rows = counts.column("rows").map_err(error)?.u64().map_err(error)?;
    Ok((0..counts.height())
        .filter_map(|i| Some((values.get(i)?.to_string(), rows.get(i)?)))
        .collect())
}

/// docs/PIPELINE.md#keep_rows-and-drop_rows: `keep_rows` whose values match
/// no row would drop the whole source (exit 3); a listed value that matches
/// nothing while the column holds one close to it is a warning.
fn check_values(
    source: &ResolvedSource,
    key: &str,
    column: &str,
    values: &[String],
    seen: &[(String, u64)],
    keeping: bool,
    what: &str,
) -> Result<()> {
    let shown = |list: &[(String, u64)]| {
        list.iter()
            .take(8)
            .map(|(v, n)| format!("`{v}` ({n} rows)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = |value: &String| {
        let value = value.trim().to_lowercase();
        seen.iter().any(|(v, _)| *v == value)
    };
    if keeping && !values.iter().any(found) {
        return Err(Error::data(format!(
            "`sources.{}.{key}`: no row of {what} has `{column}` in [{}], so every row would be dropped; \
             the column holds {}",
            source.name,
            values.join(", "),
            shown(seen)
        )));
    }
    for value in values.iter().filter(|v| !found(v)) {
        let wanted = value.trim().to_lowercase();
        let mut close: Vec<(String, u64)> = seen
            .iter()
            .filter(|(v, _)| strsim::jaro_winkler(v, &wanted) >= CLOSE)
            .cloned()
            .collect();
        close.truncate(3);
        if !close.is_empty() {
            log::warn(
                "check",
                &format!(
                    "`sources.{}.{key}`: `{value}` matches no `{column}` of {what}; close values it holds: {}",
                    source.name,
                    shown(&close)
                ),
            );
        }
    }
    Ok(())
}
