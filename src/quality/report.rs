//! Rendering example rows and values for messages, and reading the scalars
//! of the small result frames the checks collect.

use polars::prelude::*;

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
