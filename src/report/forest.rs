//! The forest plot: every lift row grouped by theme, metric and segment,
//! each on its metric's own axis, with the adjusted columns.

use maud::{html, Markup};

use super::charts;
use super::data::ReportData;
use super::format;
use super::headline::{definition_of, lower_is_better, name_of, Verdict};
use super::lead::{label, Lead};
use crate::metrics::presentation::Theme;
use crate::stats::LiftRow;

/// The themes of the forest plot in order, primary outcomes first,
/// guardrails apart, then `Other` for an id the catalog lacks.
fn themes() -> Vec<&'static str> {
    Theme::ALL
        .iter()
        .map(|t| t.title())
        .chain(["Other"])
        .collect()
}

/// The theme of a metric, from the catalog.
pub(super) fn theme_of(metric: &str) -> &'static str {
    crate::catalog::presentation(metric).map_or("Other", |p| p.theme.title())
}

pub(super) fn enough(l: &LiftRow) -> bool {
    l.n_trained >= charts::MIN_UNITS && l.n_untrained >= charts::MIN_UNITS
}

/// A row's label: its segment, dimension, and month when the row is one of
/// a metric's months (its period is not the run's).
pub(super) fn row_label(l: &LiftRow, period: &(String, String)) -> String {
    let mut label = l.segment.clone().unwrap_or_else(|| "all accounts".into());
    if let Some(d) = &l.dimension {
        label.push_str(&format!(" · {d}"));
    }
    if !whole_period(l, period) {
        let month = crate::time::days_to_date(l.period_start).format("%Y-%m");
        label.push_str(&format!(" · {month}"));
    }
    label
}

/// Whether a lift row is over the run's whole period (not one of its months).
pub(super) fn whole_period(l: &LiftRow, period: &(String, String)) -> bool {
    let text = |days: i32| crate::time::days_to_date(days).to_string();
    text(l.period_start) == period.0 && text(l.period_end) == period.1
}

/// The forest plot: every lift row, by theme, then metric, then segment;
/// each metric on its own axis in its own unit, with the line of no effect.
/// A metric's overall rows are shown; its segment and month rows (the
/// exploratory family) fold into a closed `<details>` below them.
pub(super) fn forest(data: &ReportData, alpha: f64) -> Markup {
    let themes = themes();
    let mut metrics: Vec<&str> = Vec::new();
    for l in &data.lift {
        // Descriptive metrics are the programme's, not comparisons.
        if super::programme::descriptive(&l.metric).is_some() {
            continue;
        }
        if !metrics.contains(&l.metric.as_str()) {
            metrics.push(&l.metric);
        }
    }
    html! {
        @for theme in themes {
            @let in_theme: Vec<&str> = metrics.iter().copied().filter(|m| theme_of(m) == theme).collect();
            @if !in_theme.is_empty() {
                h3 { (theme) }
                @if theme.starts_with("Guardrails") {
                    @let breached: Vec<String> = data.lift.iter().filter(|l| theme_of(&l.metric) == theme && l.segment.is_none() && enough(l) && Lead::of(l).verdict(l, alpha) == Verdict::Worse).map(|l| row_label(l, &data.period).replace("all accounts", &name_of(&l.metric))).collect();
                    @if breached.is_empty() {
                        p.small { "Guardrails hold: no guardrail is worse for trained accounts over all accounts." }
                    } @else {
                        p.warning role="alert" { "⚠ Guardrail warning: worse for trained accounts on " (breached.join("; ")) "." }
                    }
                }
                @for metric in in_theme {
                    (metric_block(data, metric, alpha))
                }
            }
        }
    }
}

/// Whether a row is exploratory: a segment's, or one month's.
fn exploratory(l: &LiftRow, period: &(String, String)) -> bool {
    l.segment.is_some() || !whole_period(l, period)
}

/// One metric: its heading, its overall rows, and its exploratory rows
/// folded.
fn metric_block(data: &ReportData, metric: &str, alpha: f64) -> Markup {
    const CHART: f64 = 150.0;
    let mut rows: Vec<&LiftRow> = data.lift.iter().filter(|l| l.metric == metric).collect();
    rows.sort_by_key(|l| (!enough(l), l.segment.is_some()));
    let scale = charts::forest_scale(&rows, CHART);
    let (main, explore): (Vec<&LiftRow>, Vec<&LiftRow>) =
        rows.iter().partition(|l| !exploratory(l, &data.period));
    let lower = rows.first().is_some_and(|l| lower_is_better(l));
    let (left, right) = if lower {
        ("trained", "untrained")
    } else {
        ("untrained", "trained")
    };
    let table = |rows: &[&LiftRow]| rows_table(data, metric, rows, &scale, alpha);
    html! {
        @if !rows.is_empty() {
        div.metric-block data-metric=(metric) {
            h4 {
                abbr title=(definition_of(metric)) { (name_of(metric)) } " " span.small { code { (metric) } }
                span.small.favours { " ◀ favours " (left) " · favours " (right) " ▶" }
            }
            @if !main.is_empty() { (table(&main)) }
            @if !explore.is_empty() {
                details.exploratory {
                    summary { (explore.len()) " exploratory rows (segments and months): many comparisons, read their q-values" }
                    (table(&explore))
                }
            }
        }
        }
    }
}

/// A table of lift rows of one metric; rows under the n threshold last.
/// Each row leads with the estimate its tile would lead with (the adjusted
/// one when the run adjusts and the row has it; docs/OUTPUTS.md#reporthtml):
/// its difference, interval, p, q and verdict, the naive one after it.
fn rows_table(
    data: &ReportData,
    metric: &str,
    rows: &[&LiftRow],
    scale: &super::svg::Scale,
    alpha: f64,
) -> Markup {
    let adjusted = data.adjust.is_some();
    html! {
        table.forest-table {
            thead { tr {
                th { "Rows" } th { "Trained" } th { "Untrained" } th { @if adjusted { "Adjusted (95 % CI)" } @else { "Difference (95 % CI)" } } th { span.sr { "Interval on the metric's axis" } } th { "p" } th { "q" } th { "Verdict" }
                @if adjusted { th { "Before adjustment (95 % CI)" } th { "n used" } }
            } }
            tbody {
                @for l in rows {
                    @let unit = format::unit_of(&l.metric, l.dimension.as_deref());
                    @if enough(l) {
                        @let lead = Lead::of(l);
                        @let verdict = lead.verdict(l, alpha);
                        @let e = &lead.first;
                        tr class=(verdict.class()) {
                            td { (row_label(l, &data.period)) }
                            td.diff data-label="Trained" { (format::value(unit, l.trained_value)) " " span.small { "n " (format::count(l.n_trained)) } }
                            td.diff data-label="Untrained" { (format::value(unit, l.untrained_value)) " " span.small { "n " (format::count(l.n_untrained)) } }
                            td.diff data-label=(if lead.is_adjusted() { "Adjusted" } else { "Difference" }) {
                                (format::difference(unit, e.diff)) " " span.small { "(" (format::interval(unit, e.ci.0, e.ci.1)) ")" }
                                @if adjusted && !lead.is_adjusted() { " " span.small { "not adjusted" } }
                            }
                            td.chart { (charts::forest_cell(e.diff, e.ci, scale, verdict, &format!("{} {}: {}", name_of(metric), row_label(l, &data.period), format::estimate(unit, e.diff, e.ci)))) }
                            td data-label="p" { (format::p_value(e.p)) }
                            td data-label="q" { (format::p_value(e.q)) }
                            td class={ "verdict " (verdict.class()) } { (label(verdict, e.diff)) }
                            @if adjusted { (adjusted_cells(l, &lead, unit)) }
                        }
                    } @else {
                        tr.thin {
                            td { (row_label(l, &data.period)) }
                            td data-label="Trained" { span.small { "n " (format::count(l.n_trained)) } }
                            td data-label="Untrained" { span.small { "n " (format::count(l.n_untrained)) } }
                            td colspan=(if adjusted { 7 } else { 5 }) { "Not enough data (fewer than " (charts::MIN_UNITS) " in a cohort): no estimate shown" }
                        }
                    }
                }
            }
        }
    }
}

/// The metrics of the segment dot plot, in the forest's theme order: those
/// with a value per segment.
pub(super) fn segment_metrics(data: &ReportData) -> Vec<String> {
    let mut metrics: Vec<String> = Vec::new();
    for theme in themes() {
        for v in &data.values {
            if v.segment.is_some() && theme_of(&v.metric) == theme && !metrics.contains(&v.metric) {
                metrics.push(v.metric.clone());
            }
        }
    }
    metrics
}

/// The cells after the verdict of an adjusting run: the naive difference
/// (before adjustment) and the units the adjustment used and left out, or
/// why the row has no adjusted estimate.
fn adjusted_cells(l: &LiftRow, lead: &Lead, unit: format::Unit) -> Markup {
    html! {
        @match (lead.second.as_ref(), l.adjustment()) {
            (Some(naive), Some(a)) => {
                td.diff data-label="Before adjustment" { (format::difference(unit, naive.diff)) " " span.small { "(" (format::interval(unit, naive.ci.0, naive.ci.1)) ")" } }
                td.small data-label="n used" {
                    (format::count(a.n_trained.unwrap_or(0))) " / " (format::count(a.n_untrained.unwrap_or(0)))
                    @let left_out = l.n_trained - a.n_trained.unwrap_or(l.n_trained);
                    @if left_out > 0 { " · " (format::count(left_out)) " trained left out" }
                }
            }
            _ => { td.small colspan="2" { (lead.not_adjusted.clone().unwrap_or_else(|| "not adjusted".into())) } }
        }
    }
}
