//! One canonical column typed from what the file holds: the expression
//! that converts it (dates to UTC days, numbers scaled, ids to the run's
//! id type) and the check that finds the values that did not convert;
//! the messages for a missing column; the checks of `types` and `scale`.

use polars::prelude::*;

use super::dates::{to_day, DayFormat};
use super::loaded::{typed_column, ParseCheck};
use super::tables::{columns_for, ColumnKind, ColumnSpec};
use crate::config::ResolvedSource;
use crate::error::{Error, Result};

/// How a source writes a column (`types:` and `scale:`).
pub(super) struct Written {
    pub(super) day: DayFormat,
    pub(super) scale: Option<f64>,
}

/// The typed expression of one canonical column given its type in the file,
/// and the check that finds values that did not convert.
pub(super) fn type_column(
    spec: &ColumnSpec,
    dtype: &DataType,
    what: &str,
    id_type: &DataType,
    written: &Written,
) -> Result<(Expr, Option<ParseCheck>)> {
    let c = col(spec.name);
    let wrong_type = || {
        Error::data(format!(
            "{what}: column `{}` has type {dtype}, which cannot be read as {}",
            spec.name,
            kind_name(spec.kind)
        ))
    };
    let failed = |rule: &str| ParseCheck {
        column: spec.name.to_string(),
        rule: rule.to_string(),
        bad: c
            .clone()
            .is_not_null()
            .and(col(typed_column(spec.name)).is_null()),
    };
    Ok(match spec.kind {
        ColumnKind::Id => match dtype {
            d if d.is_integer() => (c.cast(id_type.clone()), None),
            // Text becomes Int64 only when every value was proven to be an
            // integer's own decimal form (`IdValues::TextToCheck`).
            DataType::String => (c.cast(id_type.clone()), None),
            DataType::Categorical(_, _) => (c.cast(DataType::String), None),
            // An NDJSON list of ids (Amplitude's `groups.company: ["42"]`):
            // one id is that id, none is no id, several name several
            // accounts, which one event row cannot count for
            // (docs/INPUTS.md, "NDJSON").
            DataType::List(inner) if inner.is_integer() || **inner == DataType::String => {
                let typed = when(c.clone().list().len().lt_eq(lit(1u32)))
                    .then(c.clone().list().first())
                    .otherwise(lit(NULL))
                    .cast(id_type.clone());
                let check = ParseCheck {
                    column: spec.name.to_string(),
                    rule: "holds one id (a list of several names several accounts)".to_string(),
                    bad: c.list().len().gt(lit(1u32)).fill_null(lit(false)),
                };
                (typed, Some(check))
            }
            _ => return Err(wrong_type()),
        },
        ColumnKind::Day if written.day != DayFormat::Iso => match (&written.day, dtype) {
            (DayFormat::Format(_), DataType::String)
            | (DayFormat::EpochSeconds | DayFormat::EpochMillis, _)
                if dtype.is_primitive_numeric() || *dtype == DataType::String =>
            {
                let typed = to_day(c.clone(), &written.day);
                (typed, Some(failed(&written.day.rule())))
            }
            _ => return Err(wrong_type()),
        },
        ColumnKind::Day => match dtype {
            DataType::Date => (c, None),
            DataType::Datetime(_, Some(_)) => {
                (c.dt().convert_time_zone(TimeZone::UTC).dt().date(), None)
            }
            DataType::Datetime(_, None) => (c.dt().date(), None),
            DataType::String => {
                let typed = to_day(c.clone(), &DayFormat::Iso);
                let check = failed("is a date (YYYY-MM-DD) or an ISO 8601 datetime");
                (typed, Some(check))
            }
            _ => return Err(wrong_type()),
        },
        ColumnKind::Number => {
            let (typed, check) = match dtype {
                d if d.is_primitive_numeric() => (c.cast(DataType::Float64), None),
                DataType::String => {
                    let typed = c.clone().cast(DataType::Float64);
                    let check = failed("is a number");
                    (typed, Some(check))
                }
                _ => return Err(wrong_type()),
            };
            match written.scale {
                Some(factor) => (typed * lit(factor), check),
                None => (typed, check),
            }
        }
        ColumnKind::Text => match dtype {
            DataType::String => (c, None),
            _ => (c.cast(DataType::String), None),
        },
    })
}

pub(super) fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Id => "an id (integer or string)",
        ColumnKind::Day => "a date or datetime",
        ColumnKind::Number => "a number",
        ColumnKind::Text => "text",
    }
}

pub(super) fn missing_column(
    what: &str,
    in_file: &str,
    schema: &Schema,
    canonical: Option<&str>,
) -> Error {
    let mapped = canonical
        .map(|c| format!(" (mapped from `{c}` in `columns`)"))
        .unwrap_or_default();
    let message = format!(
        "{what}: required column `{in_file}`{mapped} is missing; the file has: {}",
        list_columns(schema)
    );
    let only = schema
        .iter_names()
        .next()
        .filter(|_| schema.len() == 1)
        .map(|n| n.to_string());
    match only.and_then(|name| [';', '\t', '|', ','].into_iter().find(|d| name.contains(*d))) {
        Some(delimiter) => Error::data_hint(
            message,
            format!(
                "the header reads as one column containing `{}`: set `csv: {{ delimiter: \"{}\" }}` for this source",
                delimiter.escape_default(),
                delimiter.escape_default()
            ),
        ),
        None => Error::data(message),
    }
}

/// An `accounts` source without a churn date: every account would stay a
/// customer forever (retention 1, churn 0), so it must be mapped or declared.
pub(super) fn missing_churn_date(what: &str, in_file: &str, schema: &Schema) -> Error {
    let looks_like_a_date = |name: &str, dtype: &DataType| {
        let lower = name.to_lowercase();
        matches!(dtype, DataType::Date | DataType::Datetime(_, _))
            || [
                "date", "_at", "time", "churn", "cancel", "closed", "end", "lost",
            ]
            .iter()
            .any(|word| lower.contains(word))
    };
    let candidates: Vec<String> = schema
        .iter()
        .filter(|(name, dtype)| looks_like_a_date(name, dtype))
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    let candidates = if candidates.is_empty() {
        format!(
            "no column looks like a date; the file has: {}",
            list_columns(schema)
        )
    } else {
        format!("columns that look like dates: {}", candidates.join(", "))
    };
    Error::data_hint(
        format!(
            "{what}: no churn date column (`{in_file}`): without it every account stays a customer (retention 1.0, churn 0.0)"
        ),
        format!(
            "map it with `columns: {{ churn_date: <column> }}` ({candidates}), or declare `churn: none` on `sources.accounts` if no account has churned"
        ),
    )
}

pub(super) fn list_columns(schema: &Schema) -> String {
    schema
        .iter_names()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `types:` value of a column beyond the canonical ones read as a number.
const NUMBER: &str = "number";
/// `types:` value of a column beyond the canonical ones read as an integer.
const INTEGER: &str = "integer";

/// A column beyond the canonical ones (`segment_by`, `adjust.covariates`):
/// as the file holds it, or, declared `number` / `integer` in `types`,
/// converted with a check that names the values that are not (docs/INPUTS.md#how-a-source-is-read).
pub(super) fn declared_number(source: &ResolvedSource, name: &str) -> (Expr, Option<ParseCheck>) {
    let (dtype, rule) = match source.config.types.get(name).map(String::as_str) {
        Some(NUMBER) => (DataType::Float64, "is a number"),
        Some(INTEGER) => (DataType::Int64, "is an integer"),
        _ => return (col(name), None),
    };
    let check = ParseCheck {
        column: name.to_string(),
        rule: rule.to_string(),
        bad: col(name)
            .is_not_null()
            .and(col(typed_column(name)).is_null()),
    };
    let typed = match dtype {
        // A float column (Parquet) declared `integer`: 2.7 is not one, and
        // is not truncated to 2.
        DataType::Int64 => {
            let value = col(name).cast(DataType::Float64);
            when(
                value
                    .clone()
                    .eq(value.round(0, RoundMode::HalfAwayFromZero)),
            )
            .then(col(name).cast(DataType::Float64).cast(DataType::Int64))
            .otherwise(lit(NULL).cast(DataType::Int64))
        }
        _ => col(name).cast(dtype),
    };
    (typed, Some(check))
}

/// `types:` names date columns of the source (or declares a column beyond
/// the canonical ones `number` / `integer`) and `scale:` its number
/// columns, with a finite, non-zero factor.
pub(super) fn check_shapes(source: &ResolvedSource) -> Result<()> {
    let columns = columns_for(source);
    let kind_of = |name: &str| columns.iter().find(|c| c.name == name).map(|c| c.kind);
    let names = |kind: ColumnKind| {
        columns
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| format!("`{}`", c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (column, declared) in &source.config.types {
        let number = matches!(declared.as_str(), NUMBER | INTEGER);
        if number && kind_of(column).is_none() {
            continue;
        }
        if kind_of(column) != Some(ColumnKind::Day) {
            return Err(Error::config(format!(
                "`sources.{}.types.{column}`: `types` applies to the date columns of `{}` ({}), or declares another column `number` or `integer`",
                source.name,
                source.name,
                names(ColumnKind::Day)
            )));
        }
    }
    for (column, factor) in &source.config.scale {
        if kind_of(column) != Some(ColumnKind::Number) {
            return Err(Error::config(format!(
                "`sources.{}.scale.{column}`: `scale` applies to the number columns of `{}`: {}",
                source.name,
                source.name,
                names(ColumnKind::Number)
            )));
        }
        if !factor.is_finite() || *factor == 0.0 {
            return Err(Error::config(format!(
                "`sources.{}.scale.{column}`: the factor must be a finite number other than 0",
                source.name
            )));
        }
    }
    Ok(())
}
