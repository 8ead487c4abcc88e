//! View 5: MRR movements per month as stacked bars, one small panel per
//! cohort on one shared axis, net new MRR as a line.

use maud::{html, Markup};

use super::data::{MonthMovements, MOVEMENTS};
use super::format;
use super::svg::{px, Scale};

/// The movements' names for people, in the order of [`MOVEMENTS`].
const LABELS: [&str; 5] = ["New", "Reactivation", "Expansion", "Contraction", "Churn"];

/// Pixels of one panel.
const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 244.0;

/// The lowest and highest point of any cohort's stacks and net line, and 0.
fn domain(panels: &[(&str, &[MonthMovements])]) -> (f64, f64) {
    let values = panels.iter().flat_map(|(_, months)| {
        months.iter().flat_map(|m| {
            [
                m.mrr[0] + m.mrr[1] + m.mrr[2],
                -(m.mrr[3] + m.mrr[4]),
                m.net_new(),
            ]
        })
    });
    let (low, high) = super::svg::extent(values, Some(0.0), 0.0);
    let step = super::svg::nice_step((high - low) / 5.0);
    ((low / step).floor() * step, (high / step).ceil() * step)
}

/// The bars of one month as (movement, from, to) in money: the gains
/// stacked up from zero in the order new, reactivation, expansion; the
/// losses down from it, contraction then churn. Empty movements have none.
fn stack(m: &MonthMovements) -> Vec<(usize, f64, f64)> {
    let mut bars = Vec::new();
    for (sign, range) in [(1.0, 0..3usize), (-1.0, 3..5)] {
        let mut base = 0.0;
        for k in range {
            if m.mrr[k] > 0.0 {
                let top = base + sign * m.mrr[k];
                bars.push((k, base, top));
                base = top;
            }
        }
    }
    bars
}

/// One cohort's panel: for each month the gains stacked up from zero, the
/// losses down from it, and net new MRR as a line with points.
fn panel(cohort: &str, months: &[MonthMovements], y: &Scale) -> Markup {
    let band = (WIDTH - LEFT - RIGHT) / months.len().max(1) as f64;
    let x = |i: usize| LEFT + band * i as f64;
    let bar = (band * 0.7).max(1.0);
    let label_every = months.len().div_ceil(6).max(1);
    let name = if cohort == "trained" {
        "Trained"
    } else {
        "Untrained"
    };
    let total: f64 = months.iter().map(MonthMovements::net_new).sum();
    let net: Vec<String> = months
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{},{}", px(x(i) + band / 2.0), px(y.at(m.net_new()))))
        .collect();
    let id = format!("mrr-{cohort}");
    html! {
        svg role="img" aria-labelledby={ (id) "-title " (id) "-desc" } viewBox={ "0 0 " (px(WIDTH)) " " (px(HEIGHT)) } width=(px(WIDTH)) height=(px(HEIGHT)) data-cohort=(cohort) {
            title id={ (id) "-title" } { "MRR movements per month, " (name.to_lowercase()) " accounts" }
            desc id={ (id) "-desc" } {
                (name) " accounts, " (months.first().map(|m| &m.month[..7]).unwrap_or("")) " to " (months.last().map(|m| &m.month[..7]).unwrap_or("")) ": net new MRR " (format::money(total)) " in all; "
                "new " (format::money(months.iter().map(|m| m.mrr[0]).sum())) ", churned " (format::money(months.iter().map(|m| m.mrr[4]).sum())) "."
            }
            text x=(px(LEFT)) y="16" class={ "swatch-" (cohort) } { (name) }
            @for v in y.ticks(5) {
                line.grid x1=(px(LEFT)) x2=(px(WIDTH - RIGHT)) y1=(px(y.at(v))) y2=(px(y.at(v))) {}
                text x=(px(LEFT - 6.0)) y=(px(y.at(v) + 4.0)) text-anchor="end" { (format::money_short(v)) }
            }
            @for (i, m) in months.iter().enumerate() {
                g data-month=(m.month) {
                    @for (k, from, to) in stack(m) {
                        @let (y0, y1) = (y.at(from).min(y.at(to)), y.at(from).max(y.at(to)));
                        rect class={ "mv-" (MOVEMENTS[k]) } x=(px(x(i) + (band - bar) / 2.0)) y=(px(y0)) width=(px(bar)) height=(px((y1 - y0).max(0.5))) {
                            title { (name) ", " (&m.month[..7]) ", " (LABELS[k].to_lowercase()) ": " (format::money(m.mrr[k])) " (" (format::count(m.accounts[k])) " accounts)" }
                        }
                    }
                }
                @if i % label_every == 0 {
                    text x=(px(x(i) + band / 2.0)) y=(px(BOTTOM + 16.0)) text-anchor="middle" { (&m.month[..7]) }
                }
            }
            line.axis x1=(px(LEFT)) x2=(px(WIDTH - RIGHT)) y1=(px(y.at(0.0))) y2=(px(y.at(0.0))) {}
            line.axis x1=(px(LEFT)) x2=(px(LEFT)) y1=(px(TOP)) y2=(px(BOTTOM)) {}
            polyline.net points=(net.join(" ")) {}
            @for (i, m) in months.iter().enumerate() {
                circle.net cx=(px(x(i) + band / 2.0)) cy=(px(y.at(m.net_new()))) r="3" {
                    title { (name) ", " (&m.month[..7]) ", net new MRR: " (format::money(m.net_new())) }
                }
            }
            text x=(px((LEFT + WIDTH - RIGHT) / 2.0)) y=(px(BOTTOM + 32.0)) text-anchor="middle" { "Month" }
            @let (label_x, label_y) = (14.0, (TOP + BOTTOM) / 2.0);
            text x=(px(label_x)) y=(px(label_y)) text-anchor="middle" transform={ "rotate(-90 " (px(label_x)) " " (px(label_y)) ")" } { "MRR moved in the month" }
        }
    }
}

/// The view: a legend, the two panels on one axis, and the numbers in a
/// table.
pub fn movements(trained: &[MonthMovements], untrained: &[MonthMovements]) -> Markup {
    let panels: [(&str, &[MonthMovements]); 2] = [("trained", trained), ("untrained", untrained)];
    let y = Scale::new(domain(&panels), (BOTTOM, TOP));
    html! {
        figure {
            p.legend.small {
                @for (k, label) in LABELS.iter().enumerate() {
                    span.key { span class={ "sw mv-" (MOVEMENTS[k]) } {} (label) @if k >= 3 { " (below zero)" } }
                }
                span.key { span.sw.net-key {} "Net new MRR (line)" }
            }
            div.panels {
                @for (cohort, months) in panels {
                    (panel(cohort, months, &y))
                }
            }
            figcaption.small { "Both panels share one axis. The cohorts differ in size, so a taller bar can mean more accounts rather than more MRR per account; the table gives the amounts and, under each, the accounts behind it." }
            table.movements {
                caption.small { "MRR movements per month, with the accounts behind each amount" }
                thead {
                    tr { th {} th.group.swatch-trained colspan="6" { "Trained" } th.group.swatch-untrained colspan="6" { "Untrained" } }
                    tr {
                        th { "Month" }
                        @for _ in 0..2 {
                            @for label in LABELS { th { (label) } }
                            th { "Net new" }
                        }
                    }
                }
                tbody {
                    @for month in months_of(&panels) {
                        tr {
                            td { (&month[..7]) }
                            @for (_, months) in panels {
                                @match months.iter().find(|m| m.month == month) {
                                    Some(m) => {
                                        @for k in 0..5 { td { (format::money(m.mrr[k])) span.n { (format::count(m.accounts[k])) " acc." } } }
                                        td { (format::money(m.net_new())) }
                                    }
                                    None => { @for _ in 0..6 { td { "–" } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every month of either cohort, in order.
fn months_of(panels: &[(&str, &[MonthMovements])]) -> Vec<String> {
    let mut months: Vec<String> = panels
        .iter()
        .flat_map(|(_, ms)| ms.iter().map(|m| m.month.clone()))
        .collect();
    months.sort();
    months.dedup();
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(month: &str, mrr: [f64; 5]) -> MonthMovements {
        MonthMovements {
            month: month.into(),
            mrr,
            accounts: [1; 5],
        }
    }

    #[test]
    fn the_axis_holds_every_stack_and_the_net_line() {
        // Gains 100 + 20 + 30 = 150 up, losses 10 + 240 = 250 down, net −100.
        let t = [month("2026-01-01", [100.0, 20.0, 30.0, 10.0, 240.0])];
        let u = [month("2026-01-01", [400.0, 0.0, 0.0, 0.0, 0.0])];
        assert_eq!(t[0].net_new(), -100.0);
        // Step nice(650 / 5) = 200: from −400 to 400.
        assert_eq!(
            domain(&[("trained", &t), ("untrained", &u)]),
            (-400.0, 400.0)
        );
    }

    #[test]
    fn gains_stack_up_and_losses_down() {
        let m = month("2026-01-01", [100.0, 0.0, 50.0, 10.0, 30.0]);
        assert_eq!(
            stack(&m),
            [
                (0, 0.0, 100.0),
                (2, 100.0, 150.0),
                (3, 0.0, -10.0),
                (4, -10.0, -40.0)
            ]
        );
    }

    #[test]
    fn bars_stack_from_zero_and_the_table_lists_every_month() {
        let t = [
            month("2026-01-01", [100.0, 0.0, 50.0, 0.0, 30.0]),
            month("2026-02-01", [0.0, 0.0, 0.0, 0.0, 0.0]),
        ];
        let u = [month("2026-02-01", [10.0, 0.0, 0.0, 5.0, 0.0])];
        let html = movements(&t, &u).into_string();
        // One rect per positive amount: 100, 50, 30 and 10, 5.
        assert_eq!(html.matches("<rect class=\"mv-").count(), 5);
        assert_eq!(html.matches("<circle class=\"net\"").count(), 3);
        // The untrained have no January: a dash, not a zero.
        // Each amount with the accounts behind it (1 in every cell here).
        let cell = |amount: &str| format!("<td>{amount}<span class=\"n\">1 acc.</span></td>");
        let january = ["$100", "$0", "$50", "$0", "$30"].map(cell).concat();
        assert!(
            html.contains(&format!("<td>2026-01</td>{january}<td>$120</td><td>–</td>")),
            "{html}"
        );
    }
}
