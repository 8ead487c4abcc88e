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
table.forest-table { width: 100%; font-size: 12px; } table.forest-table td, table.forest-table th { white-space: nowrap; } table.forest-table tr.metric th { text-align: left; padding-top: 12px; border-bottom: 1px solid #bbb; }
table.forest-table tr.thin td { color: #9a9a9a; }
table.forest-table tr.metric th.small { font-weight: normal; } table.forest-table td.diff span.small { display: block; } table.forest-table td, table.forest-table th { padding: 3px 5px; } div.scroll { overflow-x: auto; } .favours { display: flex; justify-content: space-between; gap: 6px; font-size: 11px; } .favours span { white-space: normal; }
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
.mv-new { fill: #009E73; background: #009E73; } .mv-reactivation { fill: #56B4E9; background: #56B4E9; } .mv-expansion { fill: #A6DBC9; background: #A6DBC9; }
.mv-contraction { fill: #F0A78A; background: #F0A78A; } .mv-churn { fill: #B8400A; background: #B8400A; }
th.group { text-align: center; border-bottom: 2px solid #ccc; }
svg .net { stroke: #1a1a1a; stroke-width: 1.5; fill: none; } svg circle.net { fill: #1a1a1a; }
.legend .key { margin-right: 14px; white-space: nowrap; } .legend .sw { display: inline-block; width: 11px; height: 11px; margin-right: 4px; vertical-align: -1px; }
.legend .net-key { height: 2px; width: 16px; background: #1a1a1a; vertical-align: 3px; }
.panels { display: flex; flex-wrap: wrap; gap: 8px 24px; }
.dots { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 4px 16px; }
.dots h3 { font-size: 14px; margin: 10px 0 0; }
svg .clipped { fill: #555; } svg .dot-trained { fill: var(--trained); } svg .dot-untrained { fill: #fff; stroke: #9a6a00; stroke-width: 1.5; }
svg text.thin, td.thin { fill: #9a9a9a; color: #9a9a9a; }
.tier { font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); margin: 14px 0 6px; }
.tile.breach { border: 2px solid var(--bad); } .breach-note { color: var(--bad); font-weight: 600; font-size: 13px; }
.warning { border-left: 4px solid var(--bad); background: #fdf0ea; padding: 6px 12px; margin: 8px 0; }
svg.love .before { fill: #fff; stroke: #555; stroke-width: 1.5; } svg.love .after { fill: #1a1a1a; } svg.love .threshold { stroke: #999; stroke-dasharray: 4 3; }
dl.glossary dt { font-weight: 600; margin-top: 6px; } dl.glossary dd { margin-left: 16px; }
@media print { body { max-width: none; padding: 0; } .tile, figure, svg, tr, .dots > div { break-inside: avoid; } figure table, .heatmap-wrap table { break-inside: avoid; } h2 { break-after: avoid; } abbr { text-decoration: none; } .heatmap-wrap, div.scroll { overflow: visible; } }
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

/// The headline's tiers (REPORT.md item 8): primary outcomes on top, then
/// secondary ones, then the guardrails, which have their own warning state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Primary,
    Secondary,
    Guardrail,
}

impl Tier {
    pub fn of(metric: &str) -> Tier {
        match metric {
            "churn_rate" | "net_revenue_retention" | "survival" | "logo_retention" => Tier::Primary,
            "support_incident_rate" | "csat" | "save_rate" | "customer_base_coverage" => {
                Tier::Guardrail
            }
            _ => Tier::Secondary,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tier::Primary => "Primary outcomes: retention and revenue",
            Tier::Secondary => "Secondary: satisfaction",
            Tier::Guardrail => "Guardrails: support load and satisfaction must not get worse",
        }
    }
}

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

    /// The verdict of a lift row, in its direction.
    pub fn of_lift(l: &Lift, alpha: f64) -> Self {
        Verdict::of(
            l.abs_diff,
            l.diff_ci,
            l.q_value,
            l.direction == "lower_is_better",
            alpha,
        )
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
                    && whole_period(l, &data.period)
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
        other => {
            let words = other.replace('_', " ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
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
    let verdict = Verdict::of_lift(l, alpha);
    let breach = enough(l) && Tier::of(&l.metric) == Tier::Guardrail && verdict == Verdict::Worse;
    html! {
        div.tile.breach[breach] data-metric=(l.metric) {
            @if breach { div.breach-note { "⚠ Guardrail: worse for trained accounts" } }
            h3 { abbr title=(definition_of(&l.metric)) { (title_of(l)) } }
            div.cohorts {
                span.swatch-trained { "Trained" }
                span { (format::value(unit, l.trained)) " " span.small { "n = " (format::count(l.n_trained)) } }
                span.swatch-untrained { "Untrained" }
                span { (format::value(unit, l.untrained)) " " span.small { "n = " (format::count(l.n_untrained)) } }
            }
            @if !enough(l) {
                // REPORT.md item 6: no estimate, no interval, no p-value below the stated n.
                div.diff.unclear { "Not enough data" }
                p.sentence { "Fewer than " (charts::MIN_UNITS) " accounts in a cohort: no comparison is shown." }
            } @else {
            div.diff { (format::difference(unit, l.abs_diff)) }
            div.small { "95 % CI " (format::interval(unit, l.diff_ci.0, l.diff_ci.1)) " · p " (format::p_value(l.p_value)) " · q " (format::p_value(l.q_value)) }
            div class={ "verdict " (verdict.class()) } { (verdict.mark()) " " (verdict.word()) }
            p.sentence { (sentence(l)) }
            @if let Some(a) = &l.adjusted {
                div.small {
                    "Adjusted (" (a.method) "): "
                    @if a.abs_diff.is_some() {
                        (format::difference(unit, a.abs_diff)) ", 95 % CI " (format::interval(unit, a.ci.0, a.ci.1)) ", p " (format::p_value(a.p_value))
                        @if let Some(e) = a.e_value { ". " (e_value_words(e)) }
                    } @else {
                        (a.note.clone().unwrap_or_else(|| "not available".into()))
                    }
                }
            }
            }
        }
    }
}

/// An E-value in words (REPORT.md item 19).
pub fn e_value_words(e: f64) -> String {
    format!(
        "E-value {e:.2} (an unmeasured cause would need a risk ratio of {e:.2} with both training and this outcome to explain the estimate away)"
    )
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
/// a metric's months (its period is not the run's).
fn row_label(l: &Lift, period: &(String, String)) -> String {
    let mut label = l.segment.clone().unwrap_or_else(|| "all accounts".into());
    if let Some(d) = &l.dimension {
        label.push_str(&format!(" · {d}"));
    }
    if !whole_period(l, period) {
        label.push_str(&format!(" · {}", l.period_start.get(..7).unwrap_or("")));
    }
    label
}

/// Whether a lift row is over the run's whole period (not one of its months).
fn whole_period(l: &Lift, period: &(String, String)) -> bool {
    l.period_start == period.0 && l.period_end == period.1
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
    const CHART: f64 = 150.0;
    let adjusted = data.adjust.is_some();
    html! {
        @for theme in themes {
            @let in_theme: Vec<&str> = metrics.iter().copied().filter(|m| theme_of(m) == theme).collect();
            @if !in_theme.is_empty() {
                h3 { (theme) }
                @if theme.starts_with("Guardrails") {
                    @let breached: Vec<String> = data.lift.iter().filter(|l| theme_of(&l.metric) == theme && l.segment.is_none() && enough(l) && Verdict::of_lift(l, alpha) == Verdict::Worse).map(|l| row_label(l, &data.period).replace("all accounts", &name_of(&l.metric))).collect();
                    @if breached.is_empty() {
                        p.small { "Guardrails hold: no guardrail is worse for trained accounts over all accounts." }
                    } @else {
                        p.warning role="alert" { "⚠ Guardrail warning: worse for trained accounts on " (breached.join("; ")) "." }
                    }
                }
                table.forest-table {
                    thead { tr {
                        th { "Segment" } th { "Trained" } th { "Untrained" } th { "Difference (95 % CI)" } th { "" } th { "p" } th { "q" } th { "" }
                        @if adjusted { th { "Adjusted (95 % CI)" } th { "n used" } }
                    } }
                    @for metric in in_theme {
                        @let mut rows: Vec<&Lift> = data.lift.iter().filter(|l| l.metric == metric).collect();
                        @let _ = rows.sort_by_key(|l| (!enough(l), l.segment.is_some()));
                        @let scale = charts::forest_scale(&rows, CHART);
                        @let lower = rows.first().is_some_and(|l| l.direction == "lower_is_better");
                        tbody {
                            tr.metric {
                                th colspan="4" { abbr title=(definition_of(metric)) { (name_of(metric)) } " " span.small { code { (metric) } } }
                                th.small {
                                    @let (left, right) = if lower { ("trained", "untrained") } else { ("untrained", "trained") };
                                    div.favours { span { "◀ favours " (left) } span { "favours " (right) " ▶" } }
                                }
                                th colspan=(if adjusted { 5 } else { 3 }) {}
                            }
                            @for l in rows {
                                @let unit = format::unit_of(&l.metric, l.dimension.as_deref());
                                @if enough(l) {
                                    @let verdict = Verdict::of_lift(l, alpha);
                                    tr class=(verdict.class()) {
                                        td { (row_label(l, &data.period)) }
                                        td.diff { (format::value(unit, l.trained)) " " span.small { "n " (format::count(l.n_trained)) } }
                                        td.diff { (format::value(unit, l.untrained)) " " span.small { "n " (format::count(l.n_untrained)) } }
                                        td.diff { (format::difference(unit, l.abs_diff)) " " span.small { "(" (format::interval(unit, l.diff_ci.0, l.diff_ci.1)) ")" } }
                                        td { (charts::forest_cell(l, &scale, verdict, &format!("{} {}: {} ({})", name_of(metric), row_label(l, &data.period), format::difference(unit, l.abs_diff), format::interval(unit, l.diff_ci.0, l.diff_ci.1)))) }
                                        td { (format::p_value(l.p_value)) }
                                        td { (format::p_value(l.q_value)) }
                                        td class={ "verdict " (verdict.class()) } { (verdict.mark()) " " (verdict.word()) }
                                        @if adjusted { (adjusted_cells(l, unit)) }
                                    }
                                } @else {
                                    tr.thin {
                                        td { (row_label(l, &data.period)) }
                                        td { span.small { "n " (format::count(l.n_trained)) } }
                                        td { span.small { "n " (format::count(l.n_untrained)) } }
                                        td colspan=(if adjusted { 7 } else { 5 }) { "Not enough data (fewer than " (charts::MIN_UNITS) " in a cohort): no estimate shown" }
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

/// The metrics of the segment dot plot, in the forest's theme order: those
/// with a value per segment.
fn segment_metrics(data: &ReportData) -> Vec<String> {
    let mut metrics: Vec<String> = Vec::new();
    for theme in THEMES.iter().map(|(t, _)| *t).chain(["Other"]) {
        for v in &data.values {
            if v.segment.is_some() && theme_of(&v.metric) == theme && !metrics.contains(&v.metric) {
                metrics.push(v.metric.clone());
            }
        }
    }
    metrics
}

/// The adjusted estimate beside the naive one (REPORT.md item 10): the ATT
/// with its interval, the units it used and those left out.
fn adjusted_cells(l: &Lift, unit: format::Unit) -> Markup {
    html! {
        @match &l.adjusted {
            Some(a) if a.abs_diff.is_some() => {
                td.diff { (format::difference(unit, a.abs_diff)) " " span.small { "(" (format::interval(unit, a.ci.0, a.ci.1)) ")" } }
                td.small {
                    (format::count(a.n_trained.unwrap_or(0))) " / " (format::count(a.n_untrained.unwrap_or(0)))
                    @let left_out = l.n_trained - a.n_trained.unwrap_or(l.n_trained);
                    @if left_out > 0 { " · " (format::count(left_out)) " trained left out" }
                }
            }
            Some(a) => { td.small colspan="2" { (a.note.clone().unwrap_or_else(|| "not adjusted".into())) } }
            None => { td.small colspan="2" { "not adjusted" } }
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
                    @if let Some(c) = &data.cohort_counts {
                        p.facts id="cohort-counts" {
                            "At the as-of date: " strong.swatch-trained { (format::count(c.trained)) " trained" } " and " strong.swatch-untrained { (format::count(c.untrained)) " untrained" } " accounts. In neither cohort: "
                            (format::count(c.lost_before_landmark)) " that left before their landmark (counted in neither, so staying long enough to train cannot make training look good) and "
                            (format::count(c.before_landmark)) " not at their landmark yet."
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
                    @for tier in [Tier::Primary, Tier::Secondary, Tier::Guardrail] {
                        @let tiles: Vec<&&Lift> = headline.iter().filter(|l| Tier::of(&l.metric) == tier).collect();
                        @if !tiles.is_empty() {
                            h3.tier { (tier.title()) }
                            div.tiles {
                                @for l in tiles { (tile(l, alpha)) }
                            }
                        }
                    }
                    p.small { "Verdict words follow the 95 % interval of the difference and the q-value (Benjamini–Hochberg over every lift row of the run, alpha " (alpha) "); colour is never the only cue." }
                }
                @if !data.lift.is_empty() {
                    section id="forest" {
                        h2 { "Every comparison" }
                        p.small { "Each row: the difference trained − untrained with its 95 % interval, on the metric's own axis; the vertical line is no difference. Rows grouped by theme, the whole run first, then each segment (exploratory). Grey rows: the interval includes no difference or q ≥ " (alpha) "." }
                        @if let Some((method, covariates)) = &data.adjust {
                            p.small { "Adjusted columns: the " (method) " estimate of the effect on the trained (ATT), comparing them with untrained accounts of the same " (covariates.join(", ")) ", with the trained and untrained it used and the trained left out for lack of comparable untrained accounts. Where it is closer to zero than the naive difference, part of the naive difference came from who chose to train." }
                        }
                        div.scroll { (forest(data, alpha)) }
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
                @if let (Some(t), Some(u)) = (data.movements.get("trained"), data.movements.get("untrained")) {
                    section id="movements" {
                        h2 { "MRR movements per month" }
                        p.small { "Monthly recurring revenue won (new accounts, reactivations, expansions; above zero) and lost (contractions, churn; below zero) by the accounts of each cohort, with net new MRR as a line. Cohorts as at the period start." }
                        (super::movements::movements(t, u))
                    }
                }
                @let by_segment = segment_metrics(data);
                @if !by_segment.is_empty() {
                    section id="segments" {
                        h2 { "Where training goes with the largest difference" }
                        p.small { "Each metric's value for the trained (● solid line) and the untrained (□ dashed line) over all accounts and in each segment, with 95 % intervals; a cohort with fewer than " (charts::MIN_UNITS) " accounts in a segment is not drawn (grey label). Segments are exploratory: many comparisons, read the q-values in the table above." }
                        div.dots {
                            @for metric in &by_segment {
                                div {
                                    h3 { abbr title=(definition_of(metric)) { (name_of(metric)) } }
                                    (super::segments::panel(metric, &name_of(metric), format::unit_of(metric, None), &data.values))
                                }
                            }
                        }
                        table {
                            caption.small { "The values behind the dots" }
                            thead { tr { th { "Metric" } th { "Segment" } th.swatch-trained { "Trained" } th { "95 % CI" } th { "n" } th.swatch-untrained { "Untrained" } th { "95 % CI" } th { "n" } } }
                            tbody {
                                @for metric in &by_segment {
                                    @for (segment, t, u) in super::segments::rows_of(&data.values, metric) {
                                        tr {
                                            td { (name_of(metric)) }
                                            td { (segment.unwrap_or("all accounts")) }
                                            (super::segments::cell(format::unit_of(metric, None), t))
                                            (super::segments::cell(format::unit_of(metric, None), u))
                                        }
                                    }
                                }
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
                @if data.adjust.is_some() && !data.balance.is_empty() {
                    @let (before, after) = super::balance::largest(&data.balance);
                    section id="balance" {
                        h2 { "How alike the adjusted cohorts are" }
                        p {
                            "Largest standardized difference between trained and untrained over the covariate levels: "
                            strong { (super::balance::smd(before)) } " before adjustment, "
                            strong { (super::balance::smd(after)) } " after"
                            @if after.is_some_and(|a| a < super::balance::BALANCED) { " (below " (super::balance::BALANCED) ": balanced on these covariates)." } @else { "." }
                        }
                        (super::balance::love_plot(&data.balance))
                    }
                }
                section id="glossary" {
                    h2 { "How to read the numbers" }
                    dl.glossary {
                        dt { "95 % interval (CI)" } dd { "The range of differences the data are compatible with. If it includes zero, the data cannot tell trained and untrained apart on that metric." }
                        dt { "p-value" } dd { "How surprising a difference this large would be if training made no difference at all; small is surprising." }
                        dt { "q-value" } dd { "The p-value corrected for showing many comparisons at once (Benjamini–Hochberg): of 20 results flagged with q below 0.05, about one may be a false alarm. The verdict words follow q." }
                        dt { "Landmark" } dd { "The day each account's cohort is fixed: signup plus the training window. Accounts that churned before their landmark are in neither cohort, so an account cannot look trained merely because it stayed long enough to train." }
                        dt { "Days retained (RMST)" } dd { "The average number of days, out of the first H after the landmark, that an account stayed a customer: the area under its survival curve." }
                        @if data.adjust.is_some() {
                            dt { "Adjusted estimate (ATT)" } dd { "The trained accounts compared with untrained accounts that look like them on the adjustment's covariates: the effect on the trained, if those covariates were all that mattered." }
                            dt { "E-value" } dd { "How strongly a cause we did not measure would have to be linked to both training and the outcome (as a risk ratio) to explain the adjusted estimate away. Near 1: easily explained away; 2 or more: it would take a strong hidden cause." }
                            dt { "Standardized difference" } dd { "How far apart the trained and the untrained are on a covariate, in standard deviations; below 0.1 counts as balanced." }
                        }
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
    fn a_tile_below_the_stated_n_shows_no_estimate() {
        let l = Lift {
            metric: "nps".into(),
            segment: None,
            dimension: None,
            period_start: "2025-11-01".into(),
            period_end: "2026-11-01".into(),
            trained: Some(40.0),
            untrained: Some(10.0),
            abs_diff: Some(30.0),
            diff_ci: (Some(5.0), Some(55.0)),
            p_value: Some(0.02),
            q_value: Some(0.03),
            direction: "higher_is_better".into(),
            n_trained: 12,
            n_untrained: 300,
            adjusted: None,
        };
        let thin = tile(&l, 0.05).into_string();
        assert!(
            thin.contains("Not enough data") && thin.contains("n = 12"),
            "{thin}"
        );
        assert!(!thin.contains("+30.0 pts") && !thin.contains("95 % CI") && !thin.contains("0.02"));
        let enough = tile(&Lift { n_trained: 30, ..l }, 0.05).into_string();
        assert!(
            enough.contains("+30.0 pts") && enough.contains("95 % CI +5.0 to +55.0 pts"),
            "{enough}"
        );
    }

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
