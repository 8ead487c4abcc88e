//! The headline: the key metrics' tiles in tiers (primary, secondary,
//! guardrails), each with both cohorts, the difference, its interval, p and
//! q, a verdict word and a sentence.

use maud::{html, Markup};

use super::charts;
use super::data::ReportData;
use super::forest::{enough, whole_period};
use super::format;
use super::lead::{label, Lead};
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

/// The verdict sentence of a headline metric: direction and size of the
/// leading estimate in its unit, its interval, and what kind of claim it is
/// (after adjustment, or an association).
pub fn sentence(l: &LiftRow) -> String {
    let lead = Lead::of(l);
    let e = &lead.first;
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    let Some(d) = e.diff.filter(|d| d.is_finite()) else {
        return format!("{}: no comparison in this run.", title_of(l));
    };
    let size = format::difference(unit, Some(d.abs())).replacen('+', "", 1);
    let interval = format::interval(unit, e.ci.0, e.ci.1);
    let claim = if e.method.is_some() {
        ""
    } else {
        "; an association: customers chose to train"
    };
    match (l.metric.as_str(), l.dimension.as_deref(), &e.method) {
        ("survival", Some(h), method) if h.starts_with("rmst_days=") => format!(
            "{} accounts stayed {:.1} {} days out of the first {} after their landmark (95 % CI {interval}){claim}.",
            match method {
                Some(m) => format!("After adjustment ({m}), trained"),
                None => "Trained".to_string(),
            },
            d.abs(),
            if d >= 0.0 { "more" } else { "fewer" },
            &h["rmst_days=".len()..]
        ),
        (.., method) => format!(
            "{} was {size} {} for trained accounts {}{claim}.",
            title_of(l),
            if d >= 0.0 { "higher" } else { "lower" },
            match method {
                Some(m) => format!("after adjustment ({m}, 95 % CI {interval})"),
                None => format!("(95 % CI {interval})"),
            }
        ),
    }
}

/// The smallest difference a row's test could detect, in words.
pub fn mde_words(unit: format::Unit, mde: Option<f64>) -> Option<String> {
    let mde = mde.filter(|m| m.is_finite() && *m > 0.0)?;
    Some(format!(
        "could not detect differences smaller than {} (80 % power)",
        format::difference(unit, Some(mde)).replacen('+', "", 1)
    ))
}

/// What a tile's n counts, from the catalog.
pub fn n_counts(metric: &str) -> &'static str {
    crate::catalog::presentation(metric).map_or("accounts", |p| p.units)
}

pub(super) fn tile(l: &LiftRow, alpha: f64, since_previous: Option<String>) -> Markup {
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    let lead = Lead::of(l);
    let e = &lead.first;
    let verdict = lead.verdict(l, alpha);
    let breach = enough(l) && tier_of(&l.metric) == Tier::Guardrail && verdict == Verdict::Worse;
    let leads = if lead.is_adjusted() {
        "adjusted"
    } else {
        "naive"
    };
    html! {
        div.tile.breach[breach] data-metric=(l.metric) data-lead=(leads) {
            @if breach { div.breach-note { "⚠ Guardrail: worse for trained accounts" } }
            h3 { abbr title=(definition_of(&l.metric)) { (title_of(l)) } }
            div.cohorts {
                span.swatch-trained { "Trained" }
                span { (format::value(unit, l.trained_value)) " " span.small { "n = " (format::count(l.n_trained)) } }
                span.swatch-untrained { "Untrained" }
                span { (format::value(unit, l.untrained_value)) " " span.small { "n = " (format::count(l.n_untrained)) } }
            }
            p.small.n-counts {
                @if let Some(what) = crate::catalog::counting(&l.metric, l.dimension.as_deref()) { "Values: " (what) ". " }
                "n counts " (n_counts(&l.metric)) "."
            }
            @if !enough(l) {
                // No estimate, no interval, no p-value below the stated n.
                div.diff.unclear { "Not enough data" }
                p.sentence { "Fewer than " (charts::MIN_UNITS) " accounts in a cohort: no comparison is shown." }
            } @else {
            @if let Some(method) = &e.method { div.small.lead-label { "After adjustment (" (method) ")" } }
            div.diff {
                (format::difference(unit, e.diff))
                @if let Some(r) = e.relative { " " span.relative { "(" (format::relative(r)) " relative)" } }
            }
            div.small { "95 % CI " (format::interval(unit, e.ci.0, e.ci.1)) " · p " (format::p_value(e.p)) " · q " (format::p_value(e.q)) }
            div class={ "verdict " (verdict.class()) } { (label(verdict, e.diff)) }
            @if verdict == Verdict::Unclear {
                @if let Some(words) = mde_words(unit, e.mde) { p.small.mde { "Unclear: this run " (words) "." } }
            }
            p.sentence { (sentence(l)) }
            @if let Some(change) = &since_previous { p.small.since { "Since the previous night: " (change) "." } }
            @if let Some(e) = e.e_value { p.small.e-value { (e_value_words(e, lead.first.e_value_ci)) } }
            @if let Some(naive) = &lead.second {
                div.small.before {
                    "Before adjustment: " (format::difference(unit, naive.diff))
                    @if let Some(r) = naive.relative { " (" (format::relative(r)) ")" }
                    ", 95 % CI " (format::interval(unit, naive.ci.0, naive.ci.1)) ", p " (format::p_value(naive.p)) ", q " (format::p_value(naive.q))
                }
            }
            @if let Some(why) = &lead.not_adjusted { div.small.before { "Not adjusted: " (why) "." } }
            }
        }
    }
}

/// An E-value in words: the estimate's and, when given, the interval's
/// limit nearest no difference (docs/STATISTICS.md#e-values).
pub fn e_value_words(e: f64, e_ci: Option<f64>) -> String {
    let estimate = format!(
        "E-value {e:.2}: an unmeasured cause would need a risk ratio of {e:.2} with both training and this outcome to explain the estimate away"
    );
    match e_ci.filter(|c| c.is_finite()) {
        Some(c) if c <= 1.0 => format!("{estimate}; the interval already includes no difference."),
        Some(c) => format!("{estimate}, and {c:.2} to move its interval to include no difference."),
        None => format!("{estimate}."),
    }
}
