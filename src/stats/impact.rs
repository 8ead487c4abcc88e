//! The money a difference is worth (docs/STATISTICS.md#money, table `impact`):
//! the primary and guardrail lift rows of the metrics with a money basis,
//! carried to an amount per year with their interval. Nothing is invented:
//! without a basis, no row.

use super::rows::{Family, LiftRow, MetricRow};
use crate::config::MoneyConfig;

/// How a metric's difference turns into an amount per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyBasis {
    /// A churn share of the accounts at S: the trained cohort's starting MRR
    /// kept, −difference × starting MRR × 12 per year.
    ChurnOfRevenue,
    /// A revenue-retention ratio: difference × starting MRR × 12 per year.
    RetentionOfRevenue,
    /// Counts per account (tickets): −difference × trained accounts per
    /// year, and their cost with `money.cost_per_ticket`.
    Tickets,
}

/// A row of the `impact` table (without run_id and as_of).
#[derive(Debug, Clone, PartialEq)]
pub struct ImpactRow {
    pub metric: String,
    pub dimension: Option<String>,
    /// `naive` or `adjusted`.
    pub estimate: String,
    pub family: Family,
    /// What `value` counts: `revenue_kept_per_year`, `tickets_avoided_per_year`
    /// or `ticket_cost_avoided_per_year`.
    pub quantity: String,
    pub value: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// `money` or `tickets`.
    pub unit: String,
    pub currency: Option<String>,
    /// The conversion, in words and numbers.
    pub basis: String,
}

/// What the conversion reads besides the lift rows.
pub struct ImpactInputs<'a> {
    /// The money basis of a metric id (None: no row).
    pub basis_of: &'a dyn Fn(&str) -> Option<MoneyBasis>,
    /// The trained cohort's starting MRR (currency units) and the metric it
    /// comes from, when a revenue-retention metric ran.
    pub starting_mrr: Option<(f64, String)>,
    /// The period's months (the difference is scaled to 12 of them).
    pub months: u32,
    /// The pipeline's `money:` (currency, cost per ticket).
    pub money: &'a MoneyConfig,
}

/// The trained cohort's starting MRR: the denominator of the overall
/// trained row of the first of `metrics` that has one (net or gross revenue
/// retention: Σ MRR of M0 of the base accounts).
pub fn starting_mrr(rows: &[MetricRow], metrics: &[&str]) -> Option<(f64, String)> {
    metrics.iter().find_map(|metric| {
        rows.iter()
            .find(|r| {
                r.metric == *metric
                    && r.cohort == crate::cohort::TRAINED
                    && r.segment.is_none()
                    && r.dimension.is_none()
            })
            .and_then(|r| r.denominator)
            .filter(|d| *d > 0.0 && d.is_finite())
            .map(|d| (d, metric.to_string()))
    })
}

/// docs/STATISTICS.md#money: the impact rows of the primary and guardrail lift
/// rows, naive and adjusted.
pub fn impact_rows(lift: &[LiftRow], inputs: &ImpactInputs) -> Vec<ImpactRow> {
    let per_year = 12.0 / f64::from(inputs.months.max(1));
    let mut out = Vec::new();
    for row in lift {
        let Some(family) = row
            .family
            .filter(|f| matches!(f, Family::Primary | Family::Guardrail))
        else {
            continue;
        };
        let Some(basis) = (inputs.basis_of)(&row.metric) else {
            continue;
        };
        let estimates = [
            ("naive", row.abs_diff, row.diff_ci_low.zip(row.diff_ci_high)),
            (
                "adjusted",
                row.adjusted.abs_diff,
                row.adjusted.ci_low.zip(row.adjusted.ci_high),
            ),
        ];
        for (estimate, diff, interval) in estimates {
            let Some(diff) = diff else { continue };
            // Each conversion: (quantity, factor applied to the difference, unit, currency, basis).
            let mut conversions = Vec::new();
            match basis {
                MoneyBasis::ChurnOfRevenue | MoneyBasis::RetentionOfRevenue => {
                    let Some((mrr, source)) = &inputs.starting_mrr else {
                        continue;
                    };
                    let sign = if basis == MoneyBasis::ChurnOfRevenue {
                        -1.0
                    } else {
                        1.0
                    };
                    conversions.push((
                        "revenue_kept_per_year",
                        sign * mrr * 12.0 * per_year,
                        "money",
                        inputs.money.currency.clone(),
                        format!(
                            "{} × the trained accounts' starting MRR {mrr:.2} (the denominator of \
                             {source}) × 12 months{}",
                            if sign < 0.0 {
                                "−difference"
                            } else {
                                "difference"
                            },
                            scaled(inputs.months)
                        ),
                    ));
                }
                MoneyBasis::Tickets => {
                    let accounts = row.n_trained as f64;
                    conversions.push((
                        "tickets_avoided_per_year",
                        -accounts * per_year,
                        "tickets",
                        None,
                        format!(
                            "−difference × {} trained accounts{}",
                            row.n_trained,
                            scaled(inputs.months)
                        ),
                    ));
                    if let Some(cost) = inputs.money.cost_per_ticket {
                        conversions.push((
                            "ticket_cost_avoided_per_year",
                            -accounts * per_year * cost,
                            "money",
                            inputs.money.currency.clone(),
                            format!(
                                "−difference × {} trained accounts × money.cost_per_ticket {cost}{}",
                                row.n_trained,
                                scaled(inputs.months)
                            ),
                        ));
                    }
                }
            }
            for (quantity, factor, unit, currency, basis) in conversions {
                let limits = interval.map(|(low, high)| {
                    let (a, b) = (low * factor, high * factor);
                    (a.min(b), a.max(b))
                });
                out.push(ImpactRow {
                    metric: row.metric.clone(),
                    dimension: row.dimension.clone(),
                    estimate: estimate.to_string(),
                    family,
                    quantity: quantity.to_string(),
                    value: diff * factor,
                    ci_low: limits.map(|l| l.0),
                    ci_high: limits.map(|l| l.1),
                    unit: unit.to_string(),
                    currency,
                    basis,
                });
            }
        }
    }
    out
}

/// How the period's difference is scaled to a year, in words.
fn scaled(months: u32) -> String {
    if months == 12 {
        String::new()
    } else {
        format!(", scaled from the {months}-month period to 12 months (× 12/{months})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rows::{RowKey, Side};
    use crate::stats::Direction;

    fn row(
        metric: &str,
        diff: f64,
        low: f64,
        high: f64,
        n_trained: f64,
        family: Family,
    ) -> LiftRow {
        let key = RowKey {
            segment: None,
            dimension: None,
            period_start: 0,
            period_end: 365,
        };
        // Variances chosen so that the interval is diff ± (high − low)/2.
        let half = (high - low) / 2.0;
        let variance = (half / super::super::formulas::Z).powi(2) / 2.0;
        let side = |value: f64, n: f64| Side {
            value: Some(value),
            variance: Some(variance),
            n,
        };
        let mut r = LiftRow::compare(
            metric,
            &key,
            side(0.5 + diff, n_trained),
            side(0.5, 400.0),
            Some(0.01),
            0.05,
            Direction::LowerIsBetter,
        );
        r.family = Some(family);
        r
    }

    #[test]
    fn churn_revenue_retention_and_tickets_by_hand() {
        let basis = |metric: &str| match metric {
            "churn_rate" => Some(MoneyBasis::ChurnOfRevenue),
            "net_revenue_retention" => Some(MoneyBasis::RetentionOfRevenue),
            "support_incident_rate" => Some(MoneyBasis::Tickets),
            _ => None,
        };
        let money = MoneyConfig {
            currency: Some("EUR".into()),
            cost_per_ticket: Some(25.0),
        };
        let inputs = ImpactInputs {
            basis_of: &basis,
            starting_mrr: Some((20_000.0, "net_revenue_retention".into())),
            months: 12,
            money: &money,
        };
        let rows = [
            row("churn_rate", -0.15, -0.20, -0.10, 263.0, Family::Primary),
            row(
                "net_revenue_retention",
                0.2,
                0.06,
                0.34,
                250.0,
                Family::Primary,
            ),
            row(
                "support_incident_rate",
                -1.7,
                -2.2,
                -1.2,
                263.0,
                Family::Guardrail,
            ),
            // Exploratory rows and metrics without a basis give no row.
            row("churn_rate", -0.3, -0.5, -0.1, 50.0, Family::Exploratory),
            row("nps", 20.0, 10.0, 30.0, 100.0, Family::Guardrail),
        ];
        let out = impact_rows(&rows, &inputs);
        assert_eq!(out.len(), 4, "{out:#?}");
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        // Churn −0.15 × −1 × 20,000 × 12 = 36,000 a year, interval (24,000, 48,000).
        let churn = &out[0];
        assert_eq!(
            (
                churn.quantity.as_str(),
                churn.unit.as_str(),
                churn.estimate.as_str()
            ),
            ("revenue_kept_per_year", "money", "naive")
        );
        close(churn.value, 36_000.0);
        close(churn.ci_low.unwrap(), 24_000.0);
        close(churn.ci_high.unwrap(), 48_000.0);
        assert_eq!(churn.currency.as_deref(), Some("EUR"));
        assert!(
            churn.basis.contains("starting MRR 20000.00"),
            "{}",
            churn.basis
        );
        // NRR +0.2 × 20,000 × 12 = 48,000 (14,400 to 81,600).
        close(out[1].value, 48_000.0);
        close(out[1].ci_low.unwrap(), 14_400.0);
        // Tickets: 1.7 × 263 = 447.1 avoided (315.6 to 578.6), × 25 = 11,177.5.
        assert_eq!(out[2].quantity, "tickets_avoided_per_year");
        close(out[2].value, 447.1);
        close(out[2].ci_low.unwrap(), 315.6);
        close(out[2].ci_high.unwrap(), 578.6);
        assert_eq!(out[2].currency, None);
        close(out[3].value, 11_177.5);
        // A six-month period doubles the yearly amounts; no starting MRR, no revenue rows.
        let half_year = ImpactInputs {
            starting_mrr: None,
            months: 6,
            ..inputs
        };
        let out = impact_rows(&rows, &half_year);
        assert_eq!(out.len(), 2);
        close(out[0].value, 894.2);
        assert!(out[0].basis.contains("× 12/6"));
    }
}
