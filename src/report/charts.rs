//! The charts, as inline SVG written here: our own small code rather than a
//! plotting crate, because the report needs accessibility attributes
//! (`role`, `<title>`, `<desc>` with the key numbers), step curves with
//! bands and a table under the axis, and byte-for-byte determinism
//! (docs/ARCHITECTURE.md).

use maud::{html, Markup};

use super::data::CurvePoint;
use super::format;
use super::svg::{px, step_path, Scale};

/// The fewest accounts at risk a curve is drawn with.
const MIN_AT_RISK: i64 = 20;

/// S(t), its interval, and the counts up to day `t` of one curve: (at risk
/// at t, events before or on t, censored before or on t).
fn at_day(points: &[CurvePoint], t: i64) -> (f64, (f64, f64), (i64, i64, i64)) {
    let (mut s, mut ci) = (1.0, (1.0, 1.0));
    let (mut events, mut censored) = (0, 0);
    for p in points.iter().take_while(|p| p.day <= t) {
        s = p.survival;
        ci = p.ci;
        events += p.events;
        censored += p.censored;
    }
    let at_risk = points
        .iter()
        .find(|p| p.day >= t)
        .map(|p| p.at_risk)
        .unwrap_or(0);
    (s, ci, (at_risk, events, censored))
}

/// The steps of a curve in pixels from day 0 (S = 1) to `last`.
fn steps(
    points: &[CurvePoint],
    x: &Scale,
    y: &Scale,
    last: i64,
    pick: impl Fn(&CurvePoint) -> f64,
) -> Vec<(f64, f64)> {
    let mut out = vec![(x.at(0.0), y.at(1.0))];
    for p in points.iter().filter(|p| p.day <= last && p.events > 0) {
        out.push((x.at(p.day as f64), y.at(pick(p))));
    }
    let end = out.last().map(|e| e.1).unwrap_or(y.at(1.0));
    out.push((x.at(last as f64), end));
    out
}

/// The band between two step lines, as one closed path: along the upper
/// steps, then back along the lower ones.
fn band(upper: &[(f64, f64)], lower: &[(f64, f64)]) -> String {
    let mut d = step_path(upper);
    if let Some((x, y)) = lower.last() {
        d.push_str(&format!("L{},{}", px(*x), px(*y)));
    }
    for i in (1..lower.len()).rev() {
        let (x, y) = lower[i - 1];
        d.push_str(&format!("V{}H{}", px(y), px(x)));
    }
    d.push('Z');
    d
}

/// Kaplan–Meier curves of the trained and untrained, KMunicate style: step
/// lines with pointwise 95 % bands, and under the axis the accounts at
/// risk, the events and the censored at each tick; the numbers again in a
/// table.
pub fn kaplan_meier(trained: &[CurvePoint], untrained: &[CurvePoint]) -> Markup {
    // Shown while each cohort still has MIN_AT_RISK accounts observed: the
    // tail beyond says little and its bands would fill the chart.
    let last_day = |c: &[CurvePoint]| {
        c.iter()
            .filter(|p| p.at_risk >= MIN_AT_RISK)
            .map(|p| p.day)
            .max()
            .unwrap_or(0)
    };
    let last = last_day(trained).min(last_day(untrained)).max(1);
    let (width, left, right, top, plot_bottom) = (900.0, 170.0, 24.0, 16.0, 300.0);
    let x = Scale::new((0.0, last as f64), (left, width - right));
    let lowest = trained
        .iter()
        .chain(untrained)
        .filter(|p| p.day <= last)
        .map(|p| p.ci.0)
        .fold(1.0f64, f64::min);
    let floor = ((lowest * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let y = Scale::new((floor, 1.0), (plot_bottom, top));
    let ticks = x.ticks(8);
    let table_top = plot_bottom + 58.0;
    let height = table_top + 3.0 * 2.0 * 16.0 + 24.0;
    let (s1, _, _) = at_day(trained, last);
    let (s0, _, _) = at_day(untrained, last);
    let desc = format!(
        "Share of accounts still customers by days after their landmark. At day {last}: trained {}, untrained {}.",
        format::value(format::Unit::Share, Some(s1)),
        format::value(format::Unit::Share, Some(s0))
    );
    let cohorts: [(&str, &str, &[CurvePoint]); 2] = [
        ("trained", "Trained", trained),
        ("untrained", "Untrained", untrained),
    ];
    html! {
        figure {
            svg role="img" aria-labelledby="km-title km-desc" viewBox={ "0 0 " (px(width)) " " (px(height)) } width=(px(width)) height=(px(height)) {
                title id="km-title" { "Kaplan–Meier curves, trained and untrained" }
                desc id="km-desc" { (desc) }
                @for t in &ticks {
                    line.grid x1=(px(x.at(*t))) x2=(px(x.at(*t))) y1=(px(top)) y2=(px(plot_bottom)) {}
                    text x=(px(x.at(*t))) y=(px(plot_bottom + 16.0)) text-anchor="middle" { (t) }
                }
                @for v in y.ticks(7) {
                    line.grid x1=(px(left)) x2=(px(width - right)) y1=(px(y.at(v))) y2=(px(y.at(v))) {}
                    text x=(px(left - 6.0)) y=(px(y.at(v) + 4.0)) text-anchor="end" { (format::value(format::Unit::Share, Some(v)).replace(".0 %", " %")) }
                }
                line.axis x1=(px(left)) x2=(px(width - right)) y1=(px(plot_bottom)) y2=(px(plot_bottom)) {}
                line.axis x1=(px(left)) x2=(px(left)) y1=(px(top)) y2=(px(plot_bottom)) {}
                text x=(px((left + width - right) / 2.0)) y=(px(plot_bottom + 32.0)) text-anchor="middle" { "Days after the landmark" }
                @let (label_x, label_y) = (left - 52.0, (top + plot_bottom) / 2.0);
                text x=(px(label_x)) y=(px(label_y)) text-anchor="middle" transform={ "rotate(-90 " (px(label_x)) " " (px(label_y)) ")" } { "Still a customer" }
                @for (class, label, points) in cohorts {
                    g data-series=(class) {
                        title { (label) ": Kaplan–Meier estimate with its 95 % band" }
                        path class={ "band-" (class) } d=(band(&steps(points, &x, &y, last, |p| p.ci.1), &steps(points, &x, &y, last, |p| p.ci.0))) {}
                        path class=(class) d=(step_path(&steps(points, &x, &y, last, |p| p.survival))) {}
                    }
                }
                @for (row, (label, what)) in [("At risk", 0usize), ("Events", 1), ("Censored", 2)].iter().enumerate() {
                    @for (k, (class, name, points)) in cohorts.iter().enumerate() {
                        @let line_y = table_top + (row * 2 + k) as f64 * 16.0;
                        text x=(px(left - 30.0)) y=(px(line_y)) text-anchor="end" class={ "swatch-" (class) } { (label) ", " (name.to_lowercase()) }
                        @for t in &ticks {
                            @let counts = at_day(points, *t as i64).2;
                            @let value = [counts.0, counts.1, counts.2][*what];
                            text x=(px(x.at(*t))) y=(px(line_y)) text-anchor="middle" { (format::count(value)) }
                        }
                    }
                }
            }
            figcaption.small {
                span.swatch-trained { "— Trained" } " (solid) and " span.swatch-untrained { "- - Untrained" } " (dashed), with pointwise 95 % bands (Greenwood), shown while each cohort has at least " (MIN_AT_RISK) " accounts still observed. Under the axis: accounts still observed at each day, and the events (churn) and censorings (still customers at the as-of date, observed for a shorter time) up to it."
            }
            table {
                caption.small { "The curves at each tick" }
                thead { tr { th { "Day" } th { "Trained" } th { "95 % CI" } th { "at risk" } th { "Untrained" } th { "95 % CI" } th { "at risk" } } }
                tbody {
                    @for t in &ticks {
                        @let (st, ct, nt) = at_day(trained, *t as i64);
                        @let (su, cu, nu) = at_day(untrained, *t as i64);
                        tr {
                            td { (t) }
                            td { (format::value(format::Unit::Share, Some(st))) }
                            td { (format::value(format::Unit::Share, Some(ct.0))) "–" (format::value(format::Unit::Share, Some(ct.1))) }
                            td { (format::count(nt.0)) }
                            td { (format::value(format::Unit::Share, Some(su))) }
                            td { (format::value(format::Unit::Share, Some(cu.0))) "–" (format::value(format::Unit::Share, Some(cu.1))) }
                            td { (format::count(nu.0)) }
                        }
                    }
                }
            }
        }
    }
}

/// Fewer units than this in either cohort: "not enough data", no estimate.
pub const MIN_UNITS: i64 = 30;

/// The forest plot's x scale of one metric: its rows' intervals and 0.
pub fn forest_scale(rows: &[&crate::stats::LiftRow], width: f64) -> Scale {
    let values = rows
        .iter()
        .filter(|l| l.n_trained >= MIN_UNITS && l.n_untrained >= MIN_UNITS)
        .flat_map(|l| {
            // Both estimates of an adjusting run's rows, each on the axis.
            let a = &l.adjusted;
            [
                l.diff_ci_low,
                l.diff_ci_high,
                l.abs_diff,
                a.ci_low,
                a.ci_high,
                a.abs_diff,
            ]
        })
        .flatten();
    Scale::new(
        super::svg::extent(values, Some(0.0), 0.05),
        (6.0, width - 6.0),
    )
}

/// One row's cell of the forest plot: the line of no effect, the interval
/// and the point of the row's leading estimate, coloured by its verdict (a
/// shape besides colour).
pub fn forest_cell(
    diff: Option<f64>,
    ci: (Option<f64>, Option<f64>),
    scale: &Scale,
    verdict: super::headline::Verdict,
    title: &str,
) -> Markup {
    let (width, height) = (scale.range.1 + 6.0, 18.0);
    let zero = scale.at(0.0);
    html! {
        svg role="img" width=(px(width)) height=(px(height)) viewBox={ "0 0 " (px(width)) " " (px(height)) } class={ "forest " (verdict.class()) } {
            title { (title) }
            desc { (title) "; verdict: " (verdict.word()) }
            line.zero x1=(px(zero)) x2=(px(zero)) y1="0" y2=(px(height)) {}
            @if let (Some(low), Some(high)) = ci {
                line.ci x1=(px(scale.at(low))) x2=(px(scale.at(high))) y1="9" y2="9" {}
            }
            @if let Some(d) = diff {
                @match verdict {
                    super::headline::Verdict::Better => path.point d={ "M" (px(scale.at(d))) ",4l4.5,9h-9z" } {},
                    super::headline::Verdict::Worse => path.point d={ "M" (px(scale.at(d))) ",14l4.5,-9h-9z" } {},
                    super::headline::Verdict::Unclear | super::headline::Verdict::NoTest => circle.point cx=(px(scale.at(d))) cy="9" r="3.5" {},
                }
            }
        }
    }
}

/// The distribution of health scores (0–100) of the trained and the
/// untrained: the share of each cohort in ten-point bins, side by side,
/// with the counts in a table.
pub fn health(trained: &super::data::Health, untrained: &super::data::Health) -> Markup {
    let share = |count: i64, h: &super::data::Health| {
        if h.accounts() == 0 {
            0.0
        } else {
            count as f64 / h.accounts() as f64
        }
    };
    let (t, u) = (trained.bins, untrained.bins);
    let highest = (0..10)
        .map(|i| share(t[i], trained).max(share(u[i], untrained)))
        .fold(0.0f64, f64::max);
    let (width, left, right, top, bottom) = (760.0, 56.0, 16.0, 12.0, 220.0);
    let x = Scale::new((0.0, 100.0), (left, width - right));
    let y = Scale::new(
        (0.0, super::svg::nice_step(highest / 4.0) * 4.0),
        (bottom, top),
    );
    let bar = (x.at(10.0) - x.at(0.0)) / 2.0 - 3.0;
    let desc = format!(
        "Health scores 0 to 100. Mean: trained {}, untrained {}.",
        format::value(format::Unit::Number, trained.mean()),
        format::value(format::Unit::Number, untrained.mean())
    );
    html! {
        figure {
            svg role="img" aria-labelledby="health-title health-desc" viewBox={ "0 0 " (px(width)) " " (px(bottom + 40.0)) } width=(px(width)) height=(px(bottom + 40.0)) {
                title id="health-title" { "Health score distribution, trained and untrained" }
                desc id="health-desc" { (desc) }
                @for v in y.ticks(4) {
                    line.grid x1=(px(left)) x2=(px(width - right)) y1=(px(y.at(v))) y2=(px(y.at(v))) {}
                    text x=(px(left - 6.0)) y=(px(y.at(v) + 4.0)) text-anchor="end" { (format!("{:.0} %", 100.0 * v)) }
                }
                @for i in 0..10usize {
                    @let x0 = x.at(10.0 * i as f64) + 2.0;
                    @let (st, su) = (share(t[i], trained), share(u[i], untrained));
                    rect.bar-trained x=(px(x0)) y=(px(y.at(st))) width=(px(bar)) height=(px(bottom - y.at(st))) { title { "Trained, " (10 * i) "–" (10 * i + 10) ": " (format::count(t[i])) " accounts" } }
                    rect.bar-untrained x=(px(x0 + bar + 2.0)) y=(px(y.at(su))) width=(px(bar)) height=(px(bottom - y.at(su))) { title { "Untrained, " (10 * i) "–" (10 * i + 10) ": " (format::count(u[i])) " accounts" } }
                }
                @for v in x.ticks(10) {
                    text x=(px(x.at(v))) y=(px(bottom + 16.0)) text-anchor="middle" { (v) }
                }
                line.axis x1=(px(left)) x2=(px(width - right)) y1=(px(bottom)) y2=(px(bottom)) {}
                text x=(px((left + width - right) / 2.0)) y=(px(bottom + 34.0)) text-anchor="middle" { "Health score (share of each cohort's accounts per ten points)" }
                g.legend {
                    rect.bar-trained x=(px(width - right - 150.0)) y=(px(top)) width="12" height="12" {}
                    text x=(px(width - right - 132.0)) y=(px(top + 10.0)) { "Trained (" (format::count(trained.accounts())) ")" }
                    rect.bar-untrained x=(px(width - right - 150.0)) y=(px(top + 18.0)) width="12" height="12" {}
                    text x=(px(width - right - 132.0)) y=(px(top + 28.0)) { "Untrained (" (format::count(untrained.accounts())) ")" }
                }
            }
            table {
                caption.small { "Accounts per ten points of health score" }
                thead { tr { th { "Score" } th { "Trained" } th { "share" } th { "Untrained" } th { "share" } } }
                tbody {
                    @for i in 0..10usize {
                        tr {
                            td { (10 * i) "–" (if i == 9 { 100 } else { 10 * i + 9 }) }
                            td { (format::count(t[i])) } td { (format::value(format::Unit::Share, Some(share(t[i], trained)))) }
                            td { (format::count(u[i])) } td { (format::value(format::Unit::Share, Some(share(u[i], untrained)))) }
                        }
                    }
                    tr { th { "Mean" } td colspan="2" { (format::value(format::Unit::Number, trained.mean())) } td colspan="2" { (format::value(format::Unit::Number, untrained.mean())) } }
                }
            }
        }
    }
}
