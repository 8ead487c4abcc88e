//! The page: one self-contained HTML document (no script, font or image
//! from anywhere else), from a compile-time checked template (maud).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::charts;
use super::data::{Lift, ReportData};
use super::format;

/// The page's style: Okabe–Ito blue (trained, solid) and orange (untrained,
/// dashed), readable in grey; a print layout that keeps charts whole.
const CSS: &str = r#"
:root { --trained: #0072B2; --untrained: #E69F00; --good: #0072B2; --bad: #D55E00; --muted: #6b6b6b; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.facts { color: var(--muted); margin: 0 0 16px; }
.caveat { border-left: 4px solid var(--untrained); background: #fff8e6; padding: 10px 14px; margin: 16px 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.tile { border: 1px solid #ccc; border-radius: 6px; padding: 12px; break-inside: avoid; }
.tile h3 { font-size: 15px; margin: 0 0 6px; }
.tile .diff { font-size: 22px; font-weight: 600; }
.tile .verdict { font-weight: 600; } .tile .sentence { margin: 6px 0 0; font-size: 13px; }
.better { color: var(--good); } .worse { color: var(--bad); } .unclear { color: var(--muted); }
.tile .cohorts { display: grid; grid-template-columns: auto 1fr; gap: 0 8px; margin: 6px 0; }
.small { font-size: 13px; color: var(--muted); }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e5e5e5; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.swatch-trained { color: var(--trained); font-weight: 600; } .swatch-untrained { color: var(--untrained); font-weight: 600; }
figure { margin: 8px 0; break-inside: avoid; }
svg text { font: 12px system-ui, sans-serif; fill: #1a1a1a; }
svg text.swatch-trained { fill: var(--trained); } svg text.swatch-untrained { fill: #9a6a00; }
svg .axis { stroke: #555; } svg .grid { stroke: #e3e3e3; }
svg .trained { stroke: var(--trained); fill: none; stroke-width: 2; }
svg .untrained { stroke: var(--untrained); fill: none; stroke-width: 2; stroke-dasharray: 6 4; }
svg .bar-trained { fill: var(--trained); } svg .bar-untrained { fill: var(--untrained); stroke: #7a5200; stroke-dasharray: 3 2; }
svg .band-trained { fill: var(--trained); opacity: 0.15; } svg .band-untrained { fill: var(--untrained); opacity: 0.2; }
table.forest-table { width: 100%; } table.forest-table td, table.forest-table th { white-space: nowrap; } table.forest-table tr.metric th { text-align: left; padding-top: 12px; border-bottom: 1px solid #bbb; }
table.forest-table tr.thin td { color: #9a9a9a; }
svg.forest .zero { stroke: #444; stroke-width: 1; } svg.forest .ci { stroke-width: 2; }
svg.forest.better .ci, svg.forest.better .point { stroke: var(--good); fill: var(--good); }
svg.forest.worse .ci, svg.forest.worse .point { stroke: var(--bad); fill: var(--bad); }
svg.forest.unclear .ci, svg.forest.unclear .point { stroke: #9a9a9a; fill: #9a9a9a; }
tr.unclear td { color: #707070; }
div.heatmap-wrap { overflow-x: auto; margin-bottom: 12px; }
table.heatmap { font-size: 11px; } table.heatmap td, table.heatmap th { padding: 1px 3px; border: 1px solid #fff; text-align: center; min-width: 22px; }
table.heatmap td.blank { background: #f4f4f4; } table.heatmap td.few { background: #e9e9e9; color: #8a8a8a; } table.heatmap caption { text-align: left; font-weight: 600; font-size: 13px; }
dl.definitions dt { font-weight: 600; margin-top: 6px; } dl.definitions dd { margin-left: 16px; }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; }
@media print { body { max-width: none; } .tile, figure, table { break-inside: avoid; } }
"#;

/// The key metrics of the headline, in order: (metric, dimension prefix).
const HEADLINE: [(&str, Option<&str>); 6] = [
    ("churn_rate", None),
    ("net_revenue_retention", None),
    ("survival", Some("rmst_days=")),
    ("nps", None),
    ("support_incident_rate", None),
    ("csat", None),
];

/// What a lift row's interval says, direction-aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
    Unclear,
}

impl Verdict {
    /// Better or worse when the 95 % interval of the difference excludes 0
    /// (and the q-value is below `alpha`, since many rows are shown);
    /// unclear otherwise.
    pub fn of(
        diff: Option<f64>,
        ci: (Option<f64>, Option<f64>),
        q: Option<f64>,
        lower_is_better: bool,
        alpha: f64,
    ) -> Self {
        let (Some(d), (Some(low), Some(high))) = (diff, ci) else {
            return Verdict::Unclear;
        };
        if (low <= 0.0 && high >= 0.0) || q.is_some_and(|q| q >= alpha) {
            return Verdict::Unclear;
        }
        if (d < 0.0) == lower_is_better {
            Verdict::Better
        } else {
            Verdict::Worse
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Better => "Better",
            Verdict::Worse => "Worse",
            Verdict::Unclear => "Unclear",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Unclear => "unclear",
        }
    }

    /// A shape as a second cue besides colour.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Better => "▲",
            Verdict::Worse => "▼",
            Verdict::Unclear => "●",
        }
    }
}

fn definition_of(metric: &str) -> &'static str {
    crate::catalog::definitions()
        .into_iter()
        .find(|(id, _)| *id == metric)
        .map(|(_, d)| d)
        .unwrap_or("")
}

fn alpha(data: &ReportData) -> f64 {
    data.definition.as_ref().map(|d| d.alpha).unwrap_or(0.05)
}

/// The headline rows: the key metrics' overall lift rows present in the run.
pub fn headline(data: &ReportData) -> Vec<&Lift> {
    HEADLINE
        .iter()
        .filter_map(|(metric, prefix)| {
            data.lift.iter().find(|l| {
                l.metric == *metric
                    && l.segment.is_none()
                    && match prefix {
                        None => l.dimension.is_none(),
                        Some(p) => l.dimension.as_deref().is_some_and(|d| d.starts_with(p)),
                    }
            })
        })
        .collect()
}

/// A metric's name for people (the id stays in the definitions).
fn name_of(metric: &str) -> String {
    match metric {
        "churn_rate" => "Churn rate".into(),
        "net_revenue_retention" => "Net revenue retention".into(),
        "nps" => "NPS".into(),
        "support_incident_rate" => "Tickets per account".into(),
        "csat" => "CSAT (satisfied share)".into(),
        other => other.replace('_', " "),
    }
}

fn title_of(l: &Lift) -> String {
    match (l.metric.as_str(), l.dimension.as_deref()) {
        ("survival", Some(d)) if d.starts_with("rmst_days=") => {
            format!(
                "Days retained out of the first {}",
                &d["rmst_days=".len()..]
            )
        }
        (m, Some(d)) => format!("{} ({d})", name_of(m)),
        (m, None) => name_of(m),
    }
}

/// The verdict sentence of a headline metric: direction, size in its unit,
/// the interval, and how strong the claim is.
pub fn sentence(l: &Lift) -> String {
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    let Some(d) = l.abs_diff.filter(|d| d.is_finite()) else {
        return format!("{}: no comparison in this run.", title_of(l));
    };
    let size = format::difference(unit, Some(d.abs())).replacen('+', "", 1);
    let interval = format::interval(unit, l.diff_ci.0, l.diff_ci.1);
    let claim = match &l.adjusted {
        Some(a) if a.abs_diff.is_some() => format!(
            "after adjustment ({}) the estimated effect is {}",
            a.method,
            format::difference(unit, a.abs_diff)
        ),
        _ => "an association: customers chose to train".to_string(),
    };
    match (l.metric.as_str(), l.dimension.as_deref()) {
        ("survival", Some(h)) if h.starts_with("rmst_days=") => format!(
            "Trained accounts stayed {:.1} {} days out of the first {} after their landmark (95 % CI {interval}); {claim}.",
            d.abs(),
            if d >= 0.0 { "more" } else { "fewer" },
            &h["rmst_days=".len()..]
        ),
        _ => format!(
            "{} was {size} {} for trained accounts (95 % CI {interval}); {claim}.",
            title_of(l),
            if d >= 0.0 { "higher" } else { "lower" }
        ),
    }
}

fn tile(l: &Lift, alpha: f64) -> Markup {
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    let lower = l.direction == "lower_is_better";
    let verdict = Verdict::of(l.abs_diff, l.diff_ci, l.q_value, lower, alpha);
    html! {
        div.tile data-metric=(l.metric) {
            h3 { abbr title=(definition_of(&l.metric)) { (title_of(l)) } }
            div.cohorts {
                span.swatch-trained { "Trained" }
                span { (format::value(unit, l.trained)) " " span.small { "n = " (format::count(l.n_trained)) } }
                span.swatch-untrained { "Untrained" }
                span { (format::value(unit, l.untrained)) " " span.small { "n = " (format::count(l.n_untrained)) } }
            }
            div.diff { (format::difference(unit, l.abs_diff)) }
            div.small { "95 % CI " (format::interval(unit, l.diff_ci.0, l.diff_ci.1)) " · p " (format::p_value(l.p_value)) " · q " (format::p_value(l.q_value)) }
            div class={ "verdict " (verdict.class()) } { (verdict.mark()) " " (verdict.word()) }
            p.sentence { (sentence(l)) }
            @if let Some(a) = &l.adjusted {
                div.small {
                    "Adjusted (" (a.method) "): "
                    @if a.abs_diff.is_some() {
                        (format::difference(unit, a.abs_diff)) ", 95 % CI " (format::interval(unit, a.ci.0, a.ci.1)) ", p " (format::p_value(a.p_value))
                    } @else {
                        (a.note.clone().unwrap_or_else(|| "not available".into()))
                    }
                }
            }
        }
    }
}

/// The themes of the forest plot, primary outcomes first, guardrails apart.
const THEMES: [(&str, &[&str]); 6] = [
    (
        "Retention",
        &[
            "logo_retention",
            "churn_rate",
            "monthly_churn_rate",
            "survival",
        ],
    ),
    (
        "Revenue",
        &[
            "net_revenue_retention",
            "gross_revenue_retention",
            "expansion_revenue_rate",
            "upsell_rate",
            "customer_lifetime_value",
        ],
    ),
    ("Satisfaction", &["nps", "csat"]),
    (
        "Adoption",
        &[
            "active_user_rate",
            "feature_adoption_rate",
            "key_action_rate",
            "return_rate",
            "time_to_first_value",
            "health_score",
        ],
    ),
    (
        "Education",
        &[
            "training_completion_rate",
            "knowledge_retention",
            "education_engagement",
        ],
    ),
    (
        "Guardrails: support and success",
        &[
            "support_incident_rate",
            "save_rate",
            "customer_base_coverage",
            "referral_rate",
        ],
    ),
];

fn theme_of(metric: &str) -> &'static str {
    THEMES
        .iter()
        .find(|(_, metrics)| metrics.contains(&metric))
        .map(|(theme, _)| *theme)
        .unwrap_or("Other")
}

fn enough(l: &Lift) -> bool {
    l.n_trained >= charts::MIN_UNITS && l.n_untrained >= charts::MIN_UNITS
}

/// A row's label: its segment, dimension, and month when the row is one of
/// a metric's months (its period does not start with the run's).
fn row_label(l: &Lift, run_start: &str) -> String {
    let mut label = l.segment.clone().unwrap_or_else(|| "all accounts".into());
    if let Some(d) = &l.dimension {
        label.push_str(&format!(" · {d}"));
    }
    if l.metric == "monthly_churn_rate" || l.period_start != run_start {
        label.push_str(&format!(" · {}", l.period_start.get(..7).unwrap_or("")));
    }
    label
}

/// The forest plot: every lift row, by theme, then metric, then segment;
/// each metric on its own axis in its own unit, with the line of no effect.
fn forest(data: &ReportData, alpha: f64) -> Markup {
    let mut themes: Vec<&str> = THEMES.iter().map(|(t, _)| *t).collect();
    themes.push("Other");
    let mut metrics: Vec<&str> = Vec::new();
    for l in &data.lift {
        if !metrics.contains(&l.metric.as_str()) {
            metrics.push(&l.metric);
        }
    }
    const CHART: f64 = 220.0;
    html! {
        @for theme in themes {
            @let in_theme: Vec<&str> = metrics.iter().copied().filter(|m| theme_of(m) == theme).collect();
            @if !in_theme.is_empty() {
                h3 { (theme) }
                table.forest-table {
                    thead { tr { th { "Segment" } th { "Trained" } th { "Untrained" } th { "Difference (95 % CI)" } th { "" } th { "p" } th { "q" } th { "" } } }
                    @for metric in in_theme {
                        @let mut rows: Vec<&Lift> = data.lift.iter().filter(|l| l.metric == metric).collect();
                        @let _ = rows.sort_by_key(|l| (!enough(l), l.segment.is_some()));
                        @let scale = charts::forest_scale(&rows, CHART);
                        @let lower = rows.first().is_some_and(|l| l.direction == "lower_is_better");
                        tbody {
                            tr.metric {
                                th colspan="4" { abbr title=(definition_of(metric)) { (name_of(metric)) } " " span.small { code { (metric) } } }
                                th.small {
                                    @if lower { "◀ favours trained · favours untrained ▶" } @else { "◀ favours untrained · favours trained ▶" }
                                }
                                th colspan="3" {}
                            }
                            @for l in rows {
                                @let unit = format::unit_of(&l.metric, l.dimension.as_deref());
                                @if enough(l) {
                                    @let verdict = Verdict::of(l.abs_diff, l.diff_ci, l.q_value, l.direction == "lower_is_better", alpha);
                                    tr class=(verdict.class()) {
                                        td { (row_label(l, &data.period.0)) }
                                        td { (format::value(unit, l.trained)) " " span.small { "n " (format::count(l.n_trained)) } }
                                        td { (format::value(unit, l.untrained)) " " span.small { "n " (format::count(l.n_untrained)) } }
                                        td { (format::difference(unit, l.abs_diff)) " " span.small { "(" (format::interval(unit, l.diff_ci.0, l.diff_ci.1)) ")" } }
                                        td { (charts::forest_cell(l, &scale, verdict, &format!("{} {}: {} ({})", name_of(metric), row_label(l, &data.period.0), format::difference(unit, l.abs_diff), format::interval(unit, l.diff_ci.0, l.diff_ci.1)))) }
                                        td { (format::p_value(l.p_value)) }
                                        td { (format::p_value(l.q_value)) }
                                        td class={ "verdict " (verdict.class()) } { (verdict.mark()) " " (verdict.word()) }
                                    }
                                } @else {
                                    tr.thin {
                                        td { (row_label(l, &data.period.0)) }
                                        td { span.small { "n " (format::count(l.n_trained)) } }
                                        td { span.small { "n " (format::count(l.n_untrained)) } }
                                        td colspan="5" { "Not enough data (fewer than " (charts::MIN_UNITS) " in a cohort): no estimate shown" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The whole page.
pub fn page(data: &ReportData) -> Markup {
    let alpha = alpha(data);
    let headline = headline(data);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Does training pay off? " (data.pipeline_name) ", as of " (data.as_of) }
                style { (PreEscaped(CSS)) }
            }
            body data-run-id=(data.run_id) {
                header {
                    h1 { "Does training pay off?" }
                    p.facts {
                        "Pipeline " strong { (data.pipeline_name) } " · period " (data.period.0) " to " (data.period.1) " (exclusive) · as of " (data.as_of)
                    }
                    @if let Some(d) = &data.definition {
                        p.facts {
                            "Trained: completed "
                            @if d.min_courses == 1 { "a qualifying course" } @else { "at least " (d.min_courses) " qualifying courses" }
                            @if let Some(courses) = &d.courses { " (" (courses.join(", ")) ")" }
                            " within " (d.window_days) " days of signup (the landmark); untrained: a customer at its landmark without. Accounts are compared from their landmark on."
                        }
                    }
                }
                div.caveat role="note" {
                    strong { "Read with care: " }
                    "customers chose to train. The trained-vs-untrained differences below are associations, not proof that training caused them: accounts that train may differ in ways that also change the outcome. "
                    @match &data.adjust {
                        Some((method, covariates)) => {
                            "The adjusted estimates (" (method) " on " (covariates.join(", ")) ") compare like with like on those covariates only; nothing here can see causes outside the data."
                        }
                        None => {
                            "This run has no " code { "adjust" } " section, so nothing is adjusted for who chooses to train (see the README, \"Reading the lift honestly\")."
                        }
                    }
                }
                section id="headline" {
                    h2 { "Headline" }
                    @if headline.is_empty() {
                        p { "None of the headline metrics is configured in this run." }
                    }
                    div.tiles {
                        @for l in &headline { (tile(l, alpha)) }
                    }
                    p.small { "Verdict words follow the 95 % interval of the difference and the q-value (Benjamini–Hochberg over every lift row of the run, alpha " (alpha) "); colour is never the only cue." }
                }
                @if !data.lift.is_empty() {
                    section id="forest" {
                        h2 { "Every comparison" }
                        p.small { "Each row: the difference trained − untrained with its 95 % interval, on the metric's own axis; the vertical line is no difference. Rows grouped by theme, the whole run first, then each segment (exploratory). Grey rows: the interval includes no difference or q ≥ " (alpha) "." }
                        (forest(data, alpha))
                    }
                }
                @if let (Some(t), Some(u)) = (data.curves.get("trained"), data.curves.get("untrained")) {
                    section id="survival" {
                        h2 { "Staying a customer after the landmark" }
                        (charts::kaplan_meier(t, u))
                    }
                }
                @if ["trained", "untrained"].iter().any(|c| data.retention.contains_key(*c)) {
                    section id="retention" {
                        h2 { "Retention by signup month" }
                        p.small { "Each cell: the share of the accounts that signed up that month still customers k months later (hover for the counts); blank where k months have not passed yet; grey where fewer than " (super::heatmap::FEW) " accounts were at risk. Cohorts as at the as-of date." }
                        @for cohort in ["trained", "untrained"] {
                            @if let Some(cells) = data.retention.get(cohort) {
                                div.heatmap-wrap { (super::heatmap::heatmap(cohort, cells)) }
                            }
                        }
                    }
                }
                @if let (Some(t), Some(u)) = (data.health.get("trained"), data.health.get("untrained")) {
                    section id="health" {
                        h2 { "Account health" }
                        p.small { "Health scores of the accounts that are customers at the as-of date (metric " code { "health_score" } "), by cohort." }
                        (charts::health(t, u))
                    }
                }
                section id="definitions" {
                    h2 { "Definitions" }
                    dl.definitions {
                        @for (id, text) in crate::catalog::definitions() {
                            @if data.lift.iter().any(|l| l.metric == id) {
                                dt { code { (id) } }
                                dd { (text) }
                            }
                        }
                    }
                }
                footer {
                    p { "Run " code { (data.run_id) } " · as of " (data.as_of) " · started " (data.started_at) " · cohort-metrics " (data.tool_version) " · 95 % intervals, alpha " (alpha) }
                    p {
                        "Input rows: "
                        @for (i, (source, rows)) in data.inputs.iter().enumerate() {
                            @if i > 0 { ", " }
                            (source) " " (format::count(*rows as i64))
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_interval_the_direction_and_q() {
        let v = |d: f64, lo: f64, hi: f64, q: f64, lower: bool| {
            Verdict::of(Some(d), (Some(lo), Some(hi)), Some(q), lower, 0.05)
        };
        // Lower churn is better.
        assert_eq!(v(-0.15, -0.2, -0.1, 0.001, true), Verdict::Better);
        assert_eq!(v(0.15, 0.1, 0.2, 0.001, true), Verdict::Worse);
        assert_eq!(v(0.15, 0.1, 0.2, 0.001, false), Verdict::Better);
        // An interval across 0, or a q-value at or above alpha: unclear.
        assert_eq!(v(-0.05, -0.1, 0.02, 0.001, true), Verdict::Unclear);
        assert_eq!(v(-0.15, -0.2, -0.1, 0.2, true), Verdict::Unclear);
        assert_eq!(
            Verdict::of(None, (None, None), None, true, 0.05),
            Verdict::Unclear
        );
    }
}
