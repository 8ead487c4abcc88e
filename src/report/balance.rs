//! The covariate balance of an adjusted run: one line
//! with the largest standardized difference before and after adjustment,
//! and a Love plot of every covariate level.

use maud::{html, Markup};

use super::data::BalanceRow;
use super::svg::{px, Scale};

/// An absolute standardized difference below this is the usual mark of
/// balance (Austin 2009).
pub const BALANCED: f64 = crate::stats::BALANCED_SMD;

/// The largest |SMD| of the rows before and after adjustment.
pub fn largest(rows: &[BalanceRow]) -> (Option<f64>, Option<f64>) {
    let max = |pick: fn(&BalanceRow) -> Option<f64>| {
        rows.iter()
            .filter_map(pick)
            .filter(|v| v.is_finite())
            .map(f64::abs)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    (max(|r| r.smd), max(|r| r.smd_adjusted))
}

/// An absolute standardized difference with two decimals, `–` when none.
pub fn smd(v: Option<f64>) -> String {
    v.map(|v| format!("{:.2}", v.abs()))
        .unwrap_or_else(|| "–".into())
}

fn label(r: &BalanceRow) -> String {
    match &r.level {
        Some(level) => format!("{} = {level}", r.covariate),
        None => r.covariate.clone(),
    }
}

/// The Love plot: a row per covariate level, |SMD| before (hollow) and
/// after (filled) adjustment, and the line of balance.
pub fn love_plot(rows: &[BalanceRow]) -> Markup {
    let (before, after) = largest(rows);
    let high = before
        .unwrap_or(0.0)
        .max(after.unwrap_or(0.0))
        .max(BALANCED * 2.0);
    let (width, left, right, top, row) = (640.0, 200.0, 20.0, 8.0, 20.0);
    let x = Scale::new((0.0, high * 1.05), (left, width - right));
    let bottom = top + row * rows.len() as f64;
    let height = bottom + 36.0;
    html! {
        figure {
            svg.love role="img" aria-labelledby="love-title love-desc" viewBox={ "0 0 " (px(width)) " " (px(height)) } width=(px(width)) height=(px(height)) {
                title id="love-title" { "Covariate balance before and after adjustment" }
                desc id="love-desc" { "Largest absolute standardized difference: " (smd(before)) " before adjustment, " (smd(after)) " after." }
                @for t in x.ticks(5) {
                    line.grid x1=(px(x.at(t))) x2=(px(x.at(t))) y1=(px(top)) y2=(px(bottom)) {}
                    text x=(px(x.at(t))) y=(px(bottom + 14.0)) text-anchor="middle" { (t) }
                }
                line.threshold x1=(px(x.at(BALANCED))) x2=(px(x.at(BALANCED))) y1=(px(top)) y2=(px(bottom)) {}
                line.axis x1=(px(left)) x2=(px(width - right)) y1=(px(bottom)) y2=(px(bottom)) {}
                text x=(px((left + width - right) / 2.0)) y=(px(bottom + 30.0)) text-anchor="middle" { "Absolute standardized difference (dashed line: " (BALANCED) ")" }
                @for (i, r) in rows.iter().enumerate() {
                    @let y = top + row * (i as f64 + 0.5);
                    text x=(px(left - 8.0)) y=(px(y + 4.0)) text-anchor="end" { (label(r)) }
                    @if let Some(v) = r.smd.filter(|v| v.is_finite()) {
                        circle.before cx=(px(x.at(v.abs()))) cy=(px(y)) r="4" { title { (label(r)) ", before: " (smd(Some(v))) } }
                    }
                    @if let Some(v) = r.smd_adjusted.filter(|v| v.is_finite()) {
                        circle.after cx=(px(x.at(v.abs()))) cy=(px(y)) r="3" { title { (label(r)) ", after: " (smd(Some(v))) } }
                    }
                }
            }
            figcaption.small { "○ before adjustment, ● after. Levels to the left of the dashed line are balanced." }
            table {
                thead { tr { th { "Covariate level" } th { "SMD before" } th { "SMD after" } } }
                tbody {
                    @for r in rows {
                        tr { td { (label(r)) } td { (smd(r.smd)) } td { (smd(r.smd_adjusted)) } }
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
    fn the_largest_difference_is_taken_in_absolute_value() {
        let row = |smd: Option<f64>, adjusted: Option<f64>| BalanceRow {
            covariate: "plan".into(),
            level: Some("pro".into()),
            smd,
            smd_adjusted: adjusted,
        };
        let rows = [
            row(Some(-0.42), Some(0.01)),
            row(Some(0.3), Some(-0.03)),
            row(None, None),
        ];
        assert_eq!(largest(&rows), (Some(0.42), Some(0.03)));
        assert_eq!(largest(&[]), (None, None));
        let html = love_plot(&rows).into_string();
        assert_eq!(html.matches("<circle class=\"before\"").count(), 2);
        assert!(
            html.contains("0.42 before adjustment, 0.03 after"),
            "{html}"
        );
    }
}
