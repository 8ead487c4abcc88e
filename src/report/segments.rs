//! View 6: the segment dot plot — each metric's trained and untrained
//! values per segment with their intervals, so one sees where training
//! goes with the largest difference.

use maud::{html, Markup};

use super::charts::MIN_UNITS;
use super::data::CohortValue;
use super::format::{self, Unit};
use super::svg::{px, Scale};

const WIDTH: f64 = 540.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 16.0;
const ROW: f64 = 26.0;
const TOP: f64 = 8.0;

/// The rows of one metric's panel: "all accounts" first, then each segment
/// in order, each with its trained and its untrained value (when there).
pub fn rows_of<'a>(
    values: &'a [CohortValue],
    metric: &str,
) -> Vec<(
    Option<&'a str>,
    Option<&'a CohortValue>,
    Option<&'a CohortValue>,
)> {
    let mut segments: Vec<Option<&str>> = values
        .iter()
        .filter(|v| v.metric == metric)
        .map(|v| v.segment.as_deref())
        .collect();
    segments.sort();
    segments.dedup();
    let find = |segment: Option<&str>, cohort: &str| {
        values
            .iter()
            .find(|v| v.metric == metric && v.segment.as_deref() == segment && v.cohort == cohort)
    };
    segments
        .into_iter()
        .map(|s| (s, find(s, "trained"), find(s, "untrained")))
        .collect()
}

/// The axis of a panel: the drawn values and their intervals, but an
/// interval reaches at most as far beyond the values as the values spread
/// (with a floor of a tenth of their size), so one wide interval cannot
/// squash every other row into a point; the cut intervals end in an arrow.
fn domain(rows: &[(Option<&str>, Option<&CohortValue>, Option<&CohortValue>)]) -> (f64, f64) {
    let drawn: Vec<&CohortValue> = rows
        .iter()
        .flat_map(|(_, t, u)| [shown(*t), shown(*u)])
        .flatten()
        .collect();
    let (low, high) = super::svg::extent(drawn.iter().filter_map(|v| v.value), None, 0.0);
    let reach = (high - low).max(0.1 * low.abs().max(high.abs()));
    let intervals = drawn
        .iter()
        .flat_map(|v| [v.ci.0, v.ci.1])
        .flatten()
        .map(|v| v.clamp(low - reach, high + reach));
    super::svg::extent(
        intervals.chain(drawn.iter().filter_map(|v| v.value)),
        None,
        0.05,
    )
}

/// A cohort's value is drawn when it has an estimate and enough units.
fn shown(v: Option<&CohortValue>) -> Option<&CohortValue> {
    v.filter(|v| v.n >= MIN_UNITS && v.value.is_some_and(f64::is_finite))
}

/// One metric's panel: a row per segment, the trained as a filled circle
/// on a solid interval line just above the untrained as a hollow square on
/// a dashed one.
pub fn panel(metric: &str, title: &str, unit: Unit, values: &[CohortValue]) -> Markup {
    let rows = rows_of(values, metric);
    let x = Scale::new(domain(&rows), (LEFT, WIDTH - RIGHT));
    let (x0, x1) = (x.at(x.domain.0), x.at(x.domain.1));
    let clip = |v: f64| x.at(v).clamp(x0, x1);
    let bottom = TOP + ROW * rows.len() as f64;
    let height = bottom + 34.0;
    let label = |v: f64| match unit {
        Unit::Share => format!("{} %", px(100.0 * v)),
        Unit::Money => format::money_short(v),
        _ => px(v),
    };
    html! {
        svg role="img" aria-labelledby={ "seg-" (metric) "-title seg-" (metric) "-desc" } viewBox={ "0 0 " (px(WIDTH)) " " (px(height)) } width=(px(WIDTH)) height=(px(height)) data-metric=(metric) {
            title id={ "seg-" (metric) "-title" } { (title) " by segment, trained and untrained, with 95 % intervals" }
            desc id={ "seg-" (metric) "-desc" } {
                @for (i, (segment, trained, untrained)) in rows.iter().enumerate() {
                    @if i > 0 { "; " }
                    (segment.unwrap_or("all accounts")) ": trained " (shown(*trained).map_or("not enough data".to_string(), |v| format::value(unit, v.value)))
                    ", untrained " (shown(*untrained).map_or("not enough data".to_string(), |v| format::value(unit, v.value)))
                }
                "."
            }
            @for t in x.ticks(5) {
                line.grid x1=(px(x.at(t))) x2=(px(x.at(t))) y1=(px(TOP)) y2=(px(bottom)) {}
                text x=(px(x.at(t))) y=(px(bottom + 14.0)) text-anchor="middle" { (label(t)) }
            }
            line.axis x1=(px(LEFT)) x2=(px(WIDTH - RIGHT)) y1=(px(bottom)) y2=(px(bottom)) {}
            text x=(px((LEFT + WIDTH - RIGHT) / 2.0)) y=(px(bottom + 30.0)) text-anchor="middle" { (title) }
            @for (i, (segment, trained, untrained)) in rows.iter().enumerate() {
                @let middle = TOP + ROW * (i as f64 + 0.5);
                g data-segment=(segment.unwrap_or("all accounts")) {
                    text x=(px(LEFT - 8.0)) y=(px(middle + 4.0)) text-anchor="end" class=[(shown(*trained).is_none() || shown(*untrained).is_none()).then_some("thin")] { (segment.unwrap_or("all accounts")) }
                    @for (cohort, value, dy) in [("trained", trained, -5.0), ("untrained", untrained, 5.0)] {
                        @if let Some(v) = shown(*value) {
                            @let cy = middle + dy;
                            @if let (Some(lo), Some(hi)) = v.ci {
                                line class=(cohort) x1=(px(clip(lo))) x2=(px(clip(hi))) y1=(px(cy)) y2=(px(cy)) {}
                                // An interval beyond the axis ends in an arrow.
                                @if x.at(lo) < x0 { path.clipped d={ "M" (px(x0)) "," (px(cy)) "l5,-3v6z" } {} }
                                @if x.at(hi) > x1 { path.clipped d={ "M" (px(x1)) "," (px(cy)) "l-5,-3v6z" } {} }
                            }
                            @let cx = x.at(v.value.unwrap_or(0.0));
                            @let text = format!("{}, {}, {}: {} ({}), n {}", title, segment.unwrap_or("all accounts"), cohort, format::value(unit, v.value), interval(unit, v), format::count(v.n));
                            @if cohort == "trained" {
                                circle.dot-trained cx=(px(cx)) cy=(px(cy)) r="4" { title { (text) } }
                            } @else {
                                rect.dot-untrained x=(px(cx - 3.5)) y=(px(cy - 3.5)) width="7" height="7" { title { (text) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A cohort value's interval in its unit: `9.1 % to 13.2 %`.
fn interval(unit: Unit, v: &CohortValue) -> String {
    match v.ci {
        (Some(lo), Some(hi)) => format!(
            "{} to {}",
            format::value(unit, Some(lo)),
            format::value(unit, Some(hi))
        ),
        _ => "no interval".to_string(),
    }
}

/// A table cell of one cohort: its value, interval and n, or "not enough
/// data" below [`MIN_UNITS`].
pub fn cell(unit: Unit, v: Option<&CohortValue>) -> Markup {
    html! {
        @match v {
            Some(v) if v.n >= MIN_UNITS => {
                td { (format::value(unit, v.value)) } td.small { (interval(unit, v)) } td { (format::count(v.n)) }
            }
            Some(v) => { td.thin colspan="2" { "not enough data" } td.thin { (format::count(v.n)) } }
            None => { td colspan="3" { "–" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(segment: Option<&str>, cohort: &str, value: f64, n: i64) -> CohortValue {
        CohortValue {
            metric: "churn_rate".into(),
            segment: segment.map(str::to_string),
            cohort: cohort.into(),
            value: Some(value),
            ci: (Some(value - 0.05), Some(value + 0.05)),
            n,
        }
    }

    #[test]
    fn one_wide_interval_does_not_squash_the_axis() {
        let mut wide = v(Some("pro"), "trained", 0.3, 40);
        wide.ci = (Some(-5.0), Some(9.0));
        let values = [
            v(None, "trained", 0.1, 100),
            v(None, "untrained", 0.2, 100),
            wide,
        ];
        let rows = rows_of(&values, "churn_rate");
        // Values 0.1 … 0.3 (spread 0.2): intervals cut at −0.1 and 0.5, padded 5 %.
        let (low, high) = domain(&rows);
        assert!(
            (low - (-0.13)).abs() < 1e-12 && (high - 0.53).abs() < 1e-12,
            "{low} {high}"
        );
        let html = panel("churn_rate", "Churn rate", Unit::Share, &values).into_string();
        assert_eq!(html.matches("class=\"clipped\"").count(), 2);
    }

    #[test]
    fn rows_put_all_accounts_first_and_thin_cohorts_get_no_dot() {
        let values = [
            v(Some("pro"), "trained", 0.1, 40),
            v(Some("pro"), "untrained", 0.3, 90),
            v(None, "untrained", 0.25, 400),
            v(None, "trained", 0.12, 100),
            v(Some("basic"), "trained", 0.2, 12),
            v(Some("basic"), "untrained", 0.3, 60),
        ];
        let rows = rows_of(&values, "churn_rate");
        let names: Vec<_> = rows.iter().map(|r| r.0).collect();
        assert_eq!(names, [None, Some("basic"), Some("pro")]);
        let html = panel("churn_rate", "Churn rate", Unit::Share, &values).into_string();
        // Five cohorts with n ≥ 30 drawn; basic's 12 trained are not.
        assert_eq!(html.matches("<circle class=\"dot-trained\"").count(), 2);
        assert_eq!(html.matches("<rect class=\"dot-untrained\"").count(), 3);
        assert!(
            html.contains("Churn rate, pro, trained: 10.0 % (5.0 % to 15.0 %), n 40"),
            "{html}"
        );
    }
}
