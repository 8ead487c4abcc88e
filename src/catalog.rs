//! The metric catalog printed by `cohort-metrics metrics` and embedded in the
//! README (a test keeps the two equal).

use crate::metrics::MetricConfig;

fn inputs_of(metric: &MetricConfig) -> String {
    let mut by_source: Vec<(String, Vec<&str>)> = Vec::new();
    for (source, column) in metric.metric().requires() {
        let source = source.to_string();
        match by_source.iter_mut().find(|(s, _)| *s == source) {
            Some((_, columns)) => columns.push(column),
            None => by_source.push((source, vec![column])),
        }
    }
    by_source
        .iter()
        .map(|(s, c)| format!("{s}({})", c.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One metric per block: id, definition, inputs.
pub fn text() -> String {
    let mut out = String::new();
    for metric in MetricConfig::catalog() {
        out.push_str(&format!(
            "{}\n    {}\n    inputs: {}\n",
            metric.id(),
            metric.metric().summary(),
            inputs_of(&metric)
        ));
    }
    out
}

/// The catalog as a Markdown table.
pub fn markdown() -> String {
    let mut out = String::from("| metric | definition | inputs |\n|---|---|---|\n");
    for metric in MetricConfig::catalog() {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            metric.id(),
            metric.metric().summary(),
            inputs_of(&metric)
        ));
    }
    out
}
