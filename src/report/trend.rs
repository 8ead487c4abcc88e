//! The trend over nights (docs/OUTPUTS.md#reporthtml): each headline row's
//! leading estimate and its interval on the last published nights of the
//! same output root and on this one, and the change since the previous
//! night on each tile.

use maud::{html, Markup};

use super::data::ReportData;
use super::format;
use super::headline::{headline, title_of};
use super::lead::Lead;
use super::svg::{extent, px, Scale};
use crate::output::history::Night;
use crate::stats::{Family, LiftRow};

/// How many earlier nights the report reads.
pub const NIGHTS: usize = 12;

/// Whether an earlier night's row may be drawn: the overall rows of the
/// primary and guardrail families (what the headline shows).
pub fn kept(l: &LiftRow) -> bool {
    l.segment.is_none() && matches!(l.family, Some(Family::Primary | Family::Guardrail))
}

/// The row of `night` that stands for `l`: same metric and dimension, no
/// segment, over the longest period (the whole run, not one of its months).
pub fn same_row<'a>(night: &'a Night, l: &LiftRow) -> Option<&'a LiftRow> {
    night
        .lift
        .iter()
        .filter(|r| r.metric == l.metric && r.dimension == l.dimension && r.segment.is_none())
        .max_by_key(|r| r.period_end - r.period_start)
}

/// The change of the leading estimate since the previous night, in words.
pub fn since_previous(data: &ReportData, l: &LiftRow) -> Option<String> {
    let night = data.history.last()?;
    let before = Lead::of(same_row(night, l)?).first.diff?;
    let now = Lead::of(l).first.diff?;
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    Some(format!(
        "{} since {} (then {})",
        format::difference(unit, Some(now - before)),
        night.as_of,
        format::difference(unit, Some(before))
    ))
}

/// One headline row over the nights: (as of, estimate, low, high).
fn points(data: &ReportData, l: &LiftRow) -> Vec<(String, f64, Option<f64>, Option<f64>)> {
    let mut out: Vec<_> = data
        .history
        .iter()
        .filter_map(|n| {
            let e = Lead::of(same_row(n, l)?).first;
            Some((n.as_of.to_string(), e.diff?, e.ci.0, e.ci.1))
        })
        .collect();
    let e = Lead::of(l).first;
    if let Some(d) = e.diff {
        out.push((data.as_of.clone(), d, e.ci.0, e.ci.1));
    }
    out
}

/// One row's chart: a point and an interval per night, the line of no
/// difference, the nights' dates under the axis.
fn chart(l: &LiftRow, points: &[(String, f64, Option<f64>, Option<f64>)]) -> Markup {
    const WIDTH: f64 = 340.0;
    const HEIGHT: f64 = 130.0;
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    let values = points
        .iter()
        .flat_map(|(_, d, low, high)| [Some(*d), *low, *high])
        .flatten();
    let y = Scale::new(extent(values, Some(0.0), 0.1), (HEIGHT - 28.0, 8.0));
    const LEFT: f64 = 64.0;
    let step = (WIDTH - LEFT - 40.0) / (points.len().max(2) - 1) as f64;
    let x = |i: usize| LEFT + 12.0 + step * i as f64;
    let id = format!(
        "trend-{}-{}",
        l.metric,
        l.dimension.as_deref().unwrap_or("all")
    )
    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
    let numbers: Vec<String> = points
        .iter()
        .map(|(date, d, low, high)| {
            format!(
                "{date}: {} ({})",
                format::difference(unit, Some(*d)),
                format::interval(unit, *low, *high)
            )
        })
        .collect();
    html! {
        svg role="img" aria-labelledby={ (id) "-title " (id) "-desc" } viewBox={ "0 0 " (px(WIDTH)) " " (px(HEIGHT)) } width=(px(WIDTH)) height=(px(HEIGHT)) data-points=(points.len()) {
            title id={ (id) "-title" } { (title_of(l)) ": the difference over the nights" }
            desc id={ (id) "-desc" } { (numbers.join("; ")) }
            line.zero x1=(px(LEFT)) x2=(px(WIDTH - 10.0)) y1=(px(y.at(0.0))) y2=(px(y.at(0.0))) stroke="#444" {}
            @for tick in y.ticks(3) {
                text x=(px(LEFT - 6.0)) y=(px(y.at(tick) + 4.0)) text-anchor="end" { (format::difference(unit, Some(tick))) }
            }
            @for (i, (date, d, low, high)) in points.iter().enumerate() {
                g.night data-as-of=(date) {
                    @if let (Some(low), Some(high)) = (low, high) {
                        line x1=(px(x(i))) x2=(px(x(i))) y1=(px(y.at(*low))) y2=(px(y.at(*high))) stroke="#0072B2" stroke-width="2" {}
                    }
                    circle cx=(px(x(i))) cy=(px(y.at(*d))) r="3.5" fill="#0072B2" {}
                    @if i == 0 || i + 1 == points.len() {
                        text x=(px(x(i))) y=(px(HEIGHT - 8.0)) text-anchor=(if i == 0 { "start" } else { "end" }) { (date) }
                    }
                }
            }
        }
    }
}

/// The section: a first night says so.
pub fn section(data: &ReportData) -> Markup {
    let rows: Vec<&LiftRow> = headline(data).into_iter().filter(|l| kept(l)).collect();
    html! {
        section id="trend" {
            h2 { "Over the nights" }
            @if data.history.is_empty() {
                p.small { "This is the first published night of this output: there is no earlier night to compare with yet." }
            } @else {
                p.small { "Each headline difference (the adjusted one when the run adjusts) with its 95 % interval on the last " (data.history.len() + 1) " published nights of this output, this one last. A move within the intervals is noise." }
                div.panels {
                    @for l in rows {
                        @let points = points(data, l);
                        figure data-metric=(l.metric) {
                            figcaption.small { (title_of(l)) }
                            (chart(l, &points))
                        }
                    }
                }
            }
        }
    }
}
