//! The headline: the key metrics' tiles in tiers (primary, secondary,
//! guardrails), each with both cohorts, the difference, its interval, p and
//! q, a verdict word and a sentence.

use maud::{html, Markup};

use super::charts;
use super::data::ReportData;
use super::forest::{enough, whole_period};
use super::format;
use crate::metrics::presentation::Tier;
use crate::stats::Direction;
use crate::stats::LiftRow;

/// The tier of a metric (Secondary for an id the catalog lacks).
pub(super) fn tier_of(metric: &str) -> Tier {
    crate::catalog::presentation(metric).map_or(Tier::Secondary, |p| p.tier)
}

/// Whether the lift row's metric is better when lower (`direction`).
pub(super) fn lower_is_better(l: &LiftRow) -> bool {
    l.direction == Direction::LowerIsBetter
}

/// What a lift row's interval says, direction-aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
    Unclear,
    /// The row carries no test: a descriptive metric, whose comparison is
    /// circular (docs/STATISTICS.md#descriptive-metrics), or a median.
    NoTest,
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

    /// The verdict of a lift row, in its direction; no verdict for a row
    /// without any test (no p-value, no interval, naive or adjusted).
    pub fn of_lift(l: &LiftRow, alpha: f64) -> Self {
        let tested = l.tested() || l.diff_ci_low.is_some() || l.adjusted.ci_low.is_some();
        if !tested {
            return Verdict::NoTest;
        }
        Verdict::of(
            l.abs_diff,
            l.diff_ci(),
            l.q_value,
            lower_is_better(l),
            alpha,
        )
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Better => "Better",
            Verdict::Worse => "Worse",
            Verdict::Unclear => "Unclear",
            Verdict::NoTest => "No test",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Unclear | Verdict::NoTest => "unclear",
        }
    }

    /// A shape as a second cue besides colour.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Better => "▲",
            Verdict::Worse => "▼",
            Verdict::Unclear => "●",
            Verdict::NoTest => "○",
        }
    }
}

pub(super) fn definition_of(metric: &str) -> &'static str {
    crate::catalog::definitions()
        .into_iter()
        .find(|(id, _)| *id == metric)
        .map(|(_, d)| d)
        .unwrap_or("")
}

pub(super) fn alpha(data: &ReportData) -> f64 {
    data.definition.as_ref().map(|d| d.alpha).unwrap_or(0.05)
}

/// The headline rows: the key metrics' overall lift rows present in the run.
pub fn headline(data: &ReportData) -> Vec<&LiftRow> {
    crate::catalog::headline()
        .into_iter()
        .filter_map(|(metric, prefix)| {
            data.lift.iter().find(|l| {
                l.metric == metric
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
pub(super) fn name_of(metric: &str) -> String {
    crate::catalog::title(metric)
}

pub(super) fn title_of(l: &LiftRow) -> String {
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
pub fn sentence(l: &LiftRow) -> String {
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    let Some(d) = l.abs_diff.filter(|d| d.is_finite()) else {
        return format!("{}: no comparison in this run.", title_of(l));
    };
    let size = format::difference(unit, Some(d.abs())).replacen('+', "", 1);
    let interval = format::interval(unit, l.diff_ci_low, l.diff_ci_high);
    let claim = match l.adjustment() {
        Some(a) if a.abs_diff.is_some() => format!(
            "after adjustment ({}) the estimated effect is {}",
            a.method.as_deref().unwrap_or_default(),
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

pub(super) fn tile(l: &LiftRow, alpha: f64) -> Markup {
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    let verdict = Verdict::of_lift(l, alpha);
    let breach = enough(l) && tier_of(&l.metric) == Tier::Guardrail && verdict == Verdict::Worse;
    html! {
        div.tile.breach[breach] data-metric=(l.metric) {
            @if breach { div.breach-note { "⚠ Guardrail: worse for trained accounts" } }
            h3 { abbr title=(definition_of(&l.metric)) { (title_of(l)) } }
            div.cohorts {
                span.swatch-trained { "Trained" }
                span { (format::value(unit, l.trained_value)) " " span.small { "n = " (format::count(l.n_trained)) } }
                span.swatch-untrained { "Untrained" }
                span { (format::value(unit, l.untrained_value)) " " span.small { "n = " (format::count(l.n_untrained)) } }
            }
            @if !enough(l) {
                // No estimate, no interval, no p-value below the stated n.
                div.diff.unclear { "Not enough data" }
                p.sentence { "Fewer than " (charts::MIN_UNITS) " accounts in a cohort: no comparison is shown." }
            } @else {
            div.diff { (format::difference(unit, l.abs_diff)) }
            div.small { "95 % CI " (format::interval(unit, l.diff_ci_low, l.diff_ci_high)) " · p " (format::p_value(l.p_value)) " · q " (format::p_value(l.q_value)) }
            div class={ "verdict " (verdict.class()) } { (verdict.mark()) " " (verdict.word()) }
            p.sentence { (sentence(l)) }
            @if let Some(a) = l.adjustment() {
                div.small {
                    "Adjusted (" (a.method.as_deref().unwrap_or_default()) "): "
                    @if a.abs_diff.is_some() {
                        (format::difference(unit, a.abs_diff)) ", 95 % CI " (format::interval(unit, a.ci_low, a.ci_high)) ", p " (format::p_value(a.p_value))
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

/// An E-value in words.
pub fn e_value_words(e: f64) -> String {
    format!(
        "E-value {e:.2} (an unmeasured cause would need a risk ratio of {e:.2} with both training and this outcome to explain the estimate away)"
    )
}
