//! The metric catalog printed by `cohort-metrics metrics` and embedded in
//! docs/METRICS.md (a test keeps the two equal), and how each metric is
//! presented, by id: everything comes from the registry
//! (`metrics/registry.rs`), where a metric id is written once.

use crate::metrics::presentation::{HeadlinePlace, Presentation, Unit};
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
fn entries() -> Vec<(&'static str, &'static str, String, Presentation)> {
    MetricConfig::catalog()
        .iter()
        .map(|m| {
            (
                m.id(),
                m.metric().description(),
                inputs_of(m),
                m.presentation(),
            )
        })
        .collect()
}

/// Each metric's id and one-line definition, in catalog order (the report's
/// definitions, from the same registry as `cohort-metrics metrics`).
pub fn definitions() -> Vec<(&'static str, &'static str)> {
    entries().into_iter().map(|(id, d, _, _)| (id, d)).collect()
}

/// How the metric `id` is presented; None for an id the catalog lacks.
pub fn presentation(id: &str) -> Option<Presentation> {
    MetricConfig::by_id(id).map(|m| m.presentation())
}

/// The metric's title for people (the id itself for an unknown id).
pub fn title(id: &str) -> String {
    presentation(id).map_or_else(|| id.to_string(), |p| p.title.to_string())
}

/// The unit of the metric's rows of `dimension` (a share for an unknown id).
pub fn unit(id: &str, dimension: Option<&str>) -> Unit {
    MetricConfig::by_id(id).map_or(Unit::Share, |m| m.unit_of(dimension))
}

/// What the values of a metric's rows of `dimension` count, in words, when
/// they are bare numbers (`Unit::Number`); None otherwise.
pub fn counting(id: &str, dimension: Option<&str>) -> Option<&'static str> {
    let metric = MetricConfig::by_id(id)?;
    (metric.unit_of(dimension) == Unit::Number && metric.unit_of(None) == Unit::Number)
        .then_some(metric.presentation().counting)
        .flatten()
}

/// The headline's metrics in their order, each with the dimension prefix of
/// the row shown.
pub fn headline() -> Vec<(&'static str, Option<&'static str>)> {
    let mut places: Vec<(HeadlinePlace, &'static str)> = MetricConfig::catalog()
        .iter()
        .filter_map(|m| Some((m.presentation().headline?, m.id())))
        .collect();
    places.sort_by_key(|(place, _)| place.rank);
    places
        .into_iter()
        .map(|(place, id)| (id, place.dimension))
        .collect()
}

/// One metric per block: id, definition, inputs.
pub fn text() -> String {
    entries()
        .into_iter()
        .map(|(id, description, inputs, p)| {
            format!(
                "{id}\n    {description}\n    inputs: {inputs}\n    shown as: {} ({}, {}, {}{})\n",
                p.title,
                p.theme.title(),
                p.tier.name(),
                p.unit.name(),
                p.descriptive
                    .map(|why| format!(", descriptive: {why}"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

/// The catalog as a Markdown table.
pub fn markdown() -> String {
    let mut out = String::from(
        "| metric | definition | inputs | title | theme | tier | unit | trained vs untrained |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (id, description, inputs, p) in entries() {
        out.push_str(&format!(
            "| `{id}` | {description} | {inputs} | {} | {} | {} | {} | {} |\n",
            p.title,
            p.theme.title(),
            p.tier.name(),
            p.unit.name(),
            p.descriptive.map_or_else(
                || "compared".to_string(),
                |why| format!("descriptive: {why}")
            )
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_registered_only_in_the_tests_is_in_the_catalog_with_its_presentation() {
        let table = markdown();
        assert!(
            table.contains("| `test_only_days` | Days to a test (registered by the tests only). | accounts(account_id) | Days to a test | Education | secondary | days | compared |"),
            "{table}"
        );
        assert_eq!(unit("test_only_days", None), Unit::Days);
        assert_eq!(title("test_only_days"), "Days to a test");
        assert_eq!(unit("survival", Some("rmst_days=365")), Unit::Days);
        assert_eq!(unit("survival", Some("days=365")), Unit::Share);
        assert_eq!(unit("referral_rate", Some("referrals")), Unit::Number);
        assert_eq!(
            unit("time_to_first_value", Some("reached_within")),
            Unit::Share
        );
        assert_eq!(unit("time_to_first_value", Some("median_days")), Unit::Days);
        assert_eq!(
            headline(),
            [
                ("churn_rate", None),
                ("net_revenue_retention", None),
                ("survival", Some("rmst_days=")),
                ("nps", None),
                ("support_incident_rate", None),
                ("csat", None),
            ]
        );
    }
}
