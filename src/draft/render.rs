//! The draft pipeline file as YAML text, a comment on every guess
//! (docs/INPUTS.md#a-first-pipeline-from-your-exports).

use std::fmt::Write;

use crate::config::{FileFormat, SourceName};

/// One drafted source, ready to write.
#[derive(Debug, Clone, Default)]
pub struct SourceDraft {
    pub shape: String,
    pub path: String,
    pub format: Option<FileFormat>,
    pub delimiter: Option<char>,
    pub second_header: bool,
    pub invoice: bool,
    pub columns: Vec<(String, String)>,
    /// Canonical column, value, comment.
    pub types: Vec<(String, String, String)>,
    pub scale: Vec<(String, f64, String)>,
    pub drop_rows: Vec<(String, Vec<String>, String)>,
    pub completed_values: Option<(Vec<String>, String)>,
    pub notes: Vec<String>,
}

/// Everything the draft says.
pub struct Draft {
    pub exports: String,
    pub sources: Vec<(SourceName, SourceDraft)>,
    pub skipped: Vec<(String, String)>,
    pub courses: Vec<(String, u64)>,
    pub as_of: Option<(chrono::NaiveDate, String)>,
    pub metrics: Vec<&'static str>,
    /// Text columns of `accounts` with few values: segments to compare.
    pub segments: Vec<String>,
}

/// A YAML scalar: plain when that is unambiguous, else a double-quoted string.
pub fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text.trim() == text
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | '/' | '(' | ')'))
        && !text.starts_with(['-', '.', '(', ')'])
        && !matches!(
            text.to_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
        )
        && text.parse::<f64>().is_err();
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

/// Text for a `#` comment: one line, whatever an export's value held.
fn line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

fn list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| scalar(v)).collect();
    format!("[{}]", items.join(", "))
}

pub fn render(draft: &Draft) -> String {
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Drafted by `cohort-metrics init {}` from the exports' headers and first rows.\n\
         # Every guess has a comment: check each, then `cohort-metrics validate` this file.\n\
         # Keys: docs/PIPELINE.md; columns and recipes: docs/INPUTS.md.",
        draft.exports
    );
    y.push_str("name: drafted\nsources:\n");
    for (name, source) in &draft.sources {
        render_source(&mut y, *name, source);
    }
    for (path, why) in &draft.skipped {
        let _ = writeln!(y, "  # not drafted: {} — {}", line(path), line(why));
    }
    y.push_str(
        "cohort:\n  window_days: 90   # days from signup to the landmark that fixes the cohort\n",
    );
    if !draft.courses.is_empty() {
        let shown: Vec<String> = draft
            .courses
            .iter()
            .take(10)
            .map(|(c, n)| format!("{} ({n} rows)", line(c)))
            .collect();
        let _ = writeln!(
            y,
            "  # every course counts as training; to count some only, list them:\n  # courses: {}\n  # course ids seen, most rows first: {}",
            line(&list(&draft.courses.iter().take(2).map(|(c, _)| c.clone()).collect::<Vec<_>>())),
            shown.join(", ")
        );
    }
    if !draft.segments.is_empty() {
        let _ = writeln!(
            y,
            "# segment_by: {}   # columns of accounts with few values: each metric per segment too",
            line(&list(&draft.segments))
        );
    }
    y.push_str("period:\n");
    if let Some((as_of, why)) = &draft.as_of {
        let _ = writeln!(
            y,
            "  as_of: {as_of}   # {}; remove it to measure up to today (nightly runs)",
            line(why)
        );
    }
    y.push_str("  months: 12\nmetrics:   # every metric whose inputs the sources hold (`cohort-metrics metrics`)\n");
    for id in &draft.metrics {
        let _ = writeln!(y, "  - {id}");
    }
    y.push_str("output: { path: out/drafted }\n");
    y
}

fn render_source(y: &mut String, name: SourceName, s: &SourceDraft) {
    let _ = writeln!(y, "  {name}:   # {}", line(&s.shape));
    let _ = writeln!(y, "    path: {}", scalar(&s.path));
    for note in &s.notes {
        let _ = writeln!(y, "    # {}", line(note));
    }
    if let Some(format) = s.format {
        let text = match format {
            FileFormat::Parquet => "parquet",
            FileFormat::Csv => "csv",
            FileFormat::Ndjson => "ndjson",
        };
        let _ = writeln!(y, "    format: {text}");
    }
    if s.invoice {
        y.push_str(
            "    grain: invoice   # one row per invoice, spread over the months it pays for\n",
        );
    }
    if !s.columns.is_empty() {
        y.push_str("    columns:\n");
        for (canonical, file) in &s.columns {
            let _ = writeln!(y, "      {canonical}: {}", scalar(file));
        }
    }
    if !s.types.is_empty() {
        y.push_str("    types:\n");
        for (column, value, why) in &s.types {
            let _ = writeln!(y, "      {column}: {}   # {}", scalar(value), line(why));
        }
    }
    if !s.scale.is_empty() {
        y.push_str("    scale:\n");
        for (column, factor, why) in &s.scale {
            let _ = writeln!(y, "      {column}: {factor}   # {}", line(why));
        }
    }
    if s.delimiter.is_some() || s.second_header {
        let mut options = Vec::new();
        if let Some(d) = s.delimiter {
            options.push(format!(
                "delimiter: {}",
                serde_json::to_string(&d.to_string()).unwrap_or_default()
            ));
        }
        if s.second_header {
            options.push("skip_rows_after_header: 1".to_string());
        }
        let why = if s.second_header {
            "   # the line after the header is a second header row"
        } else {
            ""
        };
        let _ = writeln!(y, "    csv: {{ {} }}{why}", options.join(", "));
    }
    if !s.drop_rows.is_empty() {
        y.push_str("    drop_rows:\n");
        for (column, values, why) in &s.drop_rows {
            let _ = writeln!(
                y,
                "      {}: {}   # {}",
                scalar(column),
                list(values),
                line(why)
            );
        }
    }
    if let Some((values, why)) = &s.completed_values {
        let _ = writeln!(
            y,
            "    completed_values: {}   # {}",
            list(values),
            line(why)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::scalar;

    #[test]
    fn scalars_are_quoted_when_yaml_would_read_them_otherwise() {
        assert_eq!(scalar("Record ID"), "Record ID");
        assert_eq!(scalar("groups.company"), "groups.company");
        assert_eq!(scalar("How likely? (0-10)"), "\"How likely? (0-10)\"");
        assert_eq!(scalar("Status: final"), "\"Status: final\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("2024"), "\"2024\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("%m/%d/%Y"), "\"%m/%d/%Y\"");
        assert_eq!(scalar("two\nlines"), "\"two\\nlines\"");
        assert_eq!(super::line("two\nlines\r"), "two lines ");
    }
}
