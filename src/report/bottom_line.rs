//! The bottom line above the tiles (docs/OUTPUTS.md#reporthtml): a
//! sentence per primary outcome from the leading estimate of its headline
//! row, with its interval and the money of the `impact` table; when the
//! estimate is unclear, it says so and gives the smallest difference the
//! run could detect.

use maud::{html, Markup};

use super::data::ReportData;
use super::forest::enough;
use super::format;
use super::headline::{headline, mde_words, sentence, title_of, Verdict};
use super::lead::Lead;
use crate::stats::impact::ImpactRow;
use crate::stats::{Family, LiftRow};

/// At most this many primary outcomes in the bottom line.
const MAX_SENTENCES: usize = 2;

/// An amount of `currency` (USD as `$`, other codes after the number, no
/// symbol when `money.currency` is not set).
fn amount(value: f64, currency: Option<&str>) -> String {
    let dollars = format::money(value);
    match currency {
        Some("USD") => dollars,
        Some(code) => format!("{} {code}", dollars.replacen('$', "", 1)),
        None => dollars.replacen('$', "", 1),
    }
}

/// The money of the leading estimate of `l`, in words, from its `impact`
/// rows; None when the table has none for it.
fn money_words(l: &LiftRow, estimate: &str, impact: &[ImpactRow]) -> Option<String> {
    let rows: Vec<&ImpactRow> = impact
        .iter()
        .filter(|r| r.metric == l.metric && r.dimension == l.dimension && r.estimate == estimate)
        .collect();
    let find = |quantity: &str| rows.iter().find(|r| r.quantity == quantity);
    let interval = |r: &ImpactRow, show: &dyn Fn(f64) -> String| match (r.ci_low, r.ci_high) {
        (Some(low), Some(high)) => format!(" (95 % CI {} to {})", show(low), show(high)),
        _ => String::new(),
    };
    if let Some(r) = find("revenue_kept_per_year") {
        let show = |v: f64| amount(v, r.currency.as_deref());
        let verb = if r.value >= 0.0 { "kept" } else { "lost" };
        return Some(format!(
            "about {} of MRR {verb} a year{}",
            show(r.value.abs()),
            interval(r, &show)
        ));
    }
    let tickets = find("tickets_avoided_per_year")?;
    let show = |v: f64| format!("{v:.0}");
    let more_or_fewer = if tickets.value >= 0.0 {
        "fewer"
    } else {
        "more"
    };
    let cost = find("ticket_cost_avoided_per_year")
        .map(|c| {
            format!(
                ", {} of support cost",
                amount(c.value.abs(), c.currency.as_deref())
            )
        })
        .unwrap_or_default();
    Some(format!(
        "about {} {more_or_fewer} tickets a year{}{cost}",
        show(tickets.value.abs()),
        interval(tickets, &show)
    ))
}

/// One primary outcome's sentence.
pub fn line(l: &LiftRow, alpha: f64, impact: &[ImpactRow]) -> String {
    let lead = Lead::of(l);
    let e = &lead.first;
    let unit = format::unit_of(&l.metric, l.dimension.as_deref());
    if !enough(l) {
        return format!("{}: too few accounts in a cohort to compare.", title_of(l));
    }
    match lead.verdict(l, alpha) {
        Verdict::Better | Verdict::Worse => {
            let estimate = if lead.is_adjusted() {
                "adjusted"
            } else {
                "naive"
            };
            let text = sentence(l);
            match money_words(l, estimate, impact) {
                Some(money) => format!("{}; {money}.", text.trim_end_matches('.')),
                None => text,
            }
        }
        Verdict::Unclear | Verdict::NoTest => {
            let after = if lead.is_adjusted() {
                " after adjustment"
            } else {
                ""
            };
            let detect = mde_words(unit, e.mde)
                .map(|w| format!(": this run {w}"))
                .unwrap_or_default();
            format!(
                "{}: no clear difference between trained and untrained accounts{after} (95 % CI {}){detect}.",
                title_of(l),
                format::interval(unit, e.ci.0, e.ci.1)
            )
        }
    }
}

/// The rows the bottom line speaks of: the headline rows of the primary
/// family (the pipeline's `primary`), in headline order.
pub fn rows(data: &ReportData) -> Vec<&LiftRow> {
    headline(data)
        .into_iter()
        .filter(|l| l.family == Some(Family::Primary))
        .take(MAX_SENTENCES)
        .collect()
}

/// The section.
pub fn section(data: &ReportData, alpha: f64) -> Markup {
    let rows = rows(data);
    html! {
        @if !rows.is_empty() {
            section id="bottom-line" {
                h2 { "Bottom line" }
                @for l in &rows {
                    p.bottom-line data-metric=(l.metric) { (line(l, alpha, &data.impact)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn churn() -> LiftRow {
        crate::testkit::churn_lift_row()
    }

    fn kept(estimate: &str, value: f64, low: f64, high: f64) -> ImpactRow {
        ImpactRow {
            metric: "churn_rate".into(),
            dimension: None,
            estimate: estimate.into(),
            family: Family::Primary,
            quantity: "revenue_kept_per_year".into(),
            value,
            ci_low: Some(low),
            ci_high: Some(high),
            unit: "money".into(),
            currency: Some("USD".into()),
            basis: String::new(),
        }
    }

    #[test]
    fn a_clear_primary_outcome_gives_its_interval_and_money() {
        let impact = [kept("naive", 658_357.4, 412_678.2, 904_036.0)];
        assert_eq!(
            line(&churn(), 0.05, &impact),
            "Churn rate was 15.0 pts lower for trained accounts (95 % CI −20.6 to −9.4 pts); \
             an association: customers chose to train; about $658,357 of MRR kept a year \
             (95 % CI $412,678 to $904,036)."
        );
    }

    #[test]
    fn with_adjust_the_sentence_and_the_money_are_the_adjusted_ones() {
        let mut l = crate::testkit::adjusted_churn_lift_row();
        l.adjusted.q_value = Some(0.001);
        let impact = [
            kept("naive", 658_357.0, 412_678.0, 904_036.0),
            kept("adjusted", 495_000.0, 263_000.0, 727_000.0),
        ];
        assert_eq!(
            line(&l, 0.05, &impact),
            "Churn rate was 11.3 pts lower for trained accounts after adjustment (stratify, \
             95 % CI −16.7 to −6.0 pts); about $495,000 of MRR kept a year (95 % CI $263,000 \
             to $727,000)."
        );
    }

    #[test]
    fn an_unclear_primary_outcome_says_so_with_its_detectable_difference() {
        let mut l = churn();
        (l.diff_ci_low, l.diff_ci_high, l.q_value) = (Some(-0.30), Some(0.01), Some(0.2));
        assert_eq!(
            line(&l, 0.05, &[]),
            "Churn rate: no clear difference between trained and untrained accounts \
             (95 % CI −30.0 to +1.0 pts): this run could not detect differences smaller than \
             4.1 pts (80 % power)."
        );
    }

    #[test]
    fn tickets_and_their_cost_in_words() {
        let mut l = churn();
        l.metric = "support_incident_rate".into();
        let tickets = ImpactRow {
            metric: "support_incident_rate".into(),
            quantity: "tickets_avoided_per_year".into(),
            unit: "tickets".into(),
            currency: None,
            ..kept("naive", 444.6, 315.5, 573.6)
        };
        let cost = ImpactRow {
            metric: "support_incident_rate".into(),
            quantity: "ticket_cost_avoided_per_year".into(),
            ..kept("naive", 13_337.0, 9_465.0, 17_208.0)
        };
        assert_eq!(
            money_words(&l, "naive", &[tickets, cost]).unwrap(),
            "about 445 fewer tickets a year (95 % CI 316 to 574), $13,337 of support cost"
        );
        assert_eq!(amount(1234.4, Some("EUR")), "1,234 EUR");
        assert_eq!(amount(1234.4, None), "1,234");
    }
}
