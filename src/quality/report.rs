//! Rendering example rows for error messages.

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
