//! The metric catalog printed by `cohort-metrics metrics` and embedded in
//! docs/METRICS.md (a test keeps the two equal).

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

/// Each metric's id, one-line description and inputs, in catalog order.
fn entries() -> Vec<(&'static str, &'static str, String)> {
    MetricConfig::catalog()
        .iter()
        .map(|m| (m.id(), m.metric().description(), inputs_of(m)))
        .collect()
}

/// Each metric's id and one-line definition, in catalog order (the report's
/// definitions, from the same registry as `cohort-metrics metrics`).
pub fn definitions() -> Vec<(&'static str, &'static str)> {
    entries().into_iter().map(|(id, d, _)| (id, d)).collect()
}

/// One metric per block: id, definition, inputs.
pub fn text() -> String {
    entries()
        .into_iter()
        .map(|(id, description, inputs)| format!("{id}\n    {description}\n    inputs: {inputs}\n"))
        .collect()
}

/// The catalog as a Markdown table.
pub fn markdown() -> String {
    let mut out = String::from("| metric | definition | inputs |\n|---|---|---|\n");
    for (id, description, inputs) in entries() {
        out.push_str(&format!("| `{id}` | {description} | {inputs} |\n"));
    }
    out
}
