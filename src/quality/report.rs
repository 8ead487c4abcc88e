//! Rendering example rows and values for messages, reading the scalars
//! of the small result frames the checks collect, and the report's
//! verdict.

use polars::prelude::*;

use super::QualityReport;
use crate::config::SourceName;
use crate::error::Result;

/// Longest value shown in an example row.
const MAX_VALUE_CHARS: usize = 40;

/// Renders up to the frame's rows as `column=value, …` lines with `indent`.
pub fn format_examples(examples: &DataFrame, indent: &str) -> String {
    let mut lines = Vec::new();
    for i in 0..examples.height() {
        let cells: Vec<String> = examples
            .columns()
            .iter()
            .map(|c| {
                let value = c.get(i).map(|v| render(&v)).unwrap_or_else(|_| "?".into());
                format!("{}={}", c.name(), value)
            })
            .collect();
        lines.push(format!("{indent}{}", cells.join(", ")));
    }
    lines.join("\n")
}

/// The first value of `column` as u64 (0 when absent).
pub fn count_of(df: &DataFrame, column: &str) -> u64 {
    count_at(df, column, 0)
}

/// The `row`-th value of `column` as u64 (0 when absent or null).
pub fn count_at(df: &DataFrame, column: &str, row: usize) -> u64 {
    df.column(column)
        .ok()
        .and_then(|c| c.cast(&DataType::UInt64).ok())
        .and_then(|c| c.u64().ok().and_then(|ca| ca.get(row)))
        .unwrap_or(0)
}

/// The `row`-th value of `column` as text (None when absent or null).
pub fn text_of(df: &DataFrame, column: &str, row: usize) -> Option<String> {
    df.column(column)
        .ok()
        .and_then(|c| c.cast(&DataType::String).ok())
        .and_then(|c| c.str().ok().and_then(|v| v.get(row).map(str::to_string)))
}

/// The first value of `column` as f64 (0 when absent).
pub fn number_of(df: &DataFrame, column: &str) -> f64 {
    df.column(column)
        .ok()
        .and_then(|c| c.cast(&DataType::Float64).ok())
        .and_then(|c| c.f64().ok().and_then(|v| v.get(0)))
        .unwrap_or(0.0)
}

pub use crate::frame::values_shown;

fn render(value: &AnyValue) -> String {
    let text = match value {
        AnyValue::Null => "null".to_string(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    };
    if text.chars().count() > MAX_VALUE_CHARS {
        let cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

impl QualityReport {
    /// The first and last day of a source's main date column, as the data
    /// rules' scan found them (None without rows with a day).
    pub fn day_span(&self, source: SourceName) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        let (_, first, last) = self.date_ranges.get(&source)?;
        let day = |text: &Option<String>| {
            chrono::NaiveDate::parse_from_str(text.as_deref()?.get(..10)?, "%Y-%m-%d").ok()
        };
        Some((day(first)?, day(last)?))
    }

    /// Exit 3 with every violation listed, or Ok.
    pub fn into_result(self) -> Result<QualityReport> {
        match self.violation_error() {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }

    /// The sources with a broken data rule.
    pub fn broken(&self) -> std::collections::BTreeSet<SourceName> {
        self.violations.iter().map(|v| v.source).collect()
    }

    /// Every violation listed (exit 3), or None.
    pub fn violation_error(&self) -> Option<crate::error::Error> {
        if self.violations.is_empty() {
            return None;
        }
        let mut message = format!("input data broke {} rule(s):", self.violations.len());
        for v in &self.violations {
            message.push_str(&format!(
                "\n  - source `{}` ({}), column `{}`: {} — {} row(s) break it; examples:\n{}",
                v.source,
                v.files,
                v.column,
                v.rule,
                v.count,
                format_examples(&v.examples, "      ")
            ));
            if second_header_row(&v.examples) {
                message.push_str(
                    "\n      hint: `Response` is what a survey export's second header row holds: \
                     set `csv: { skip_rows_after_header: 1 }` on the source",
                );
            }
        }
        Some(crate::error::Error::data(message))
    }
}

/// Whether example rows hold `Response` or `Open-Ended Response` as a
/// value: the second header row of a SurveyMonkey export read as data
/// (docs/INPUTS.md#the-checks).
fn second_header_row(examples: &DataFrame) -> bool {
    examples.columns().iter().any(|c| {
        c.str().is_ok_and(|values| {
            (0..values.len()).filter_map(|i| values.get(i)).any(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("response") || v.eq_ignore_ascii_case("open-ended response")
            })
        })
    })
}
