//! The retention heatmap: signup month × months since signup, per cohort,
//! as a table whose cells are shaded by the share still customers (the
//! numbers are the cells). Months not yet observable stay blank.

use std::collections::BTreeMap;

use maud::{html, Markup};

use super::data::RetentionCell;
use super::format;

/// Cells with fewer accounts at risk are greyed: their share moves by
/// whole tens of points with one account.
pub const FEW: i64 = 10;

/// A cell's background: white at `low`, Okabe–Ito blue at 100 %.
fn shade(rate: f64, low: f64) -> String {
    let t = ((rate - low) / (1.0 - low).max(1e-9)).clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * t).round() as u8;
    format!(
        "background:#{:02x}{:02x}{:02x};color:{}",
        mix(255.0, 0.0),
        mix(255.0, 114.0),
        mix(255.0, 178.0),
        if t > 0.55 { "#fff" } else { "#1a1a1a" }
    )
}

/// A cell's accounts at risk, under its share: the hover title says it on
/// screen, this line on paper (the print stylesheet shows `span.n`).
fn at_risk(c: &RetentionCell) -> Markup {
    html! { span.n { "n " (format::count(c.at_risk)) } }
}

/// One cohort's heatmap: a row per signup month (newest first, then all
/// signups pooled), a column per month since signup, the cohort size first.
pub fn heatmap(cohort: &str, cells: &[RetentionCell]) -> Markup {
    let months = cells.iter().map(|c| c.k).max().unwrap_or(0);
    let low = cells
        .iter()
        .filter_map(|c| c.rate)
        .fold(1.0f64, f64::min)
        .min(0.5);
    let mut rows: BTreeMap<Option<&str>, BTreeMap<i64, &RetentionCell>> = BTreeMap::new();
    for c in cells {
        rows.entry(c.signup_month.as_deref())
            .or_default()
            .insert(c.k, c);
    }
    // Newest signup month first; the pooled row (None) last.
    let mut order: Vec<Option<&str>> = rows.keys().copied().filter(Option::is_some).collect();
    order.reverse();
    if rows.contains_key(&None) {
        order.push(None);
    }
    html! {
        table.heatmap data-cohort=(cohort) {
            caption { "Share of " (cohort) " accounts still customers, by signup month and months since signup" }
            thead {
                tr {
                    th { "Signup month" }
                    th { "Accounts" }
                    @for k in 0..=months { th { (k) } }
                }
            }
            tbody {
                @for key in order {
                    @let row = &rows[&key];
                    tr {
                        th { (key.map(|m| m.get(..7).unwrap_or(m).to_string()).unwrap_or_else(|| "All signups".into())) }
                        td { (format::count(row.get(&0).map(|c| c.at_risk).unwrap_or(0))) }
                        @for k in 0..=months {
                            @match row.get(&k).and_then(|c| c.rate.map(|r| (c, r))) {
                                Some((c, rate)) if c.at_risk < FEW => td.cell.few title={ (format::count(c.retained)) " of " (format::count(c.at_risk)) " (fewer than " (FEW) ")" } { (format!("{:.0}", 100.0 * rate)) (at_risk(c)) },
                                Some((c, rate)) => td.cell style=(shade(rate, low)) title={ (format::count(c.retained)) " of " (format::count(c.at_risk)) } { (format!("{:.0}", 100.0 * rate)) (at_risk(c)) },
                                None => td.blank {},
                            }
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
    fn shades_run_from_white_to_blue() {
        assert_eq!(shade(0.5, 0.5), "background:#ffffff;color:#1a1a1a");
        assert_eq!(shade(1.0, 0.5), "background:#0072b2;color:#fff");
    }
}
