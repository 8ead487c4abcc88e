//! SPEC §6 per [`Kind`]: a cohort's value and interval from its totals, and
//! the lift p-value of trained against untrained.

use super::formulas;
use super::kind::{Association, Kind, Totals};

/// Value and interval of one cohort.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Estimate {
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub interval: Option<(f64, f64)>,
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    if den != 0.0 {
        Some(num / den)
    } else {
        None
    }
}

/// Value, interval, numerator and denominator of one cohort's totals.
pub fn estimate(kind: Kind, t: &Totals) -> Estimate {
    let plain = |value: Option<f64>, interval: Option<(f64, f64)>| Estimate {
        numerator: Some(t.num),
        denominator: Some(t.den),
        value,
        interval,
    };
    match kind {
        Kind::Proportion => plain(ratio(t.num, t.den), formulas::wilson(t.num, t.den)),
        Kind::Percent => plain(
            ratio(t.num, t.den).map(|v| 100.0 * v),
            formulas::wilson(t.num, t.den).map(|(lo, hi)| (100.0 * lo, 100.0 * hi)),
        ),
        Kind::Nps => match formulas::nps(t.a1, t.a2, t.den) {
            Some((value, variance)) => {
                plain(Some(value), Some(formulas::nps_interval(value, variance)))
            }
            None => plain(None, None),
        },
        Kind::Mean => match formulas::mean_and_variance(t.num, t.sq, t.den) {
            Some((mean, variance)) => plain(
                Some(mean),
                variance.map(|v| formulas::mean_interval(mean, v, t.den)),
            ),
            None => plain(None, None),
        },
        Kind::Rate => plain(ratio(t.num, t.den), formulas::rate_interval(t.num, t.den)),
        Kind::Count => plain(Some(t.num), formulas::rate_interval(t.num, 1.0)),
        Kind::Median => Estimate {
            numerator: None,
            denominator: None,
            value: (t.n > 0.0).then_some(t.num),
            interval: None,
        },
        Kind::Association(_) => Estimate::default(),
        Kind::Ratio { divisor } => Estimate {
            numerator: Some(t.num / divisor),
            denominator: Some(t.den / divisor),
            value: ratio(t.num, t.den),
            interval: None,
        },
        Kind::LifetimeValue { months, margin } => {
            let arpa = ratio(t.a1 / 100.0, t.a2);
            let retention = ratio(t.num, t.den);
            let churn = retention.map(|r| 1.0 - r.powf(1.0 / months.max(1) as f64));
            let value = arpa.zip(churn).and_then(|(arpa, c)| {
                if c > 0.0 {
                    Some(arpa * margin / c)
                } else {
                    None
                }
            });
            Estimate {
                numerator: None,
                denominator: None,
                value,
                interval: None,
            }
        }
    }
}

/// The lift p-value of trained against untrained (null where SPEC §6 gives none).
pub fn lift_p_value(kind: Kind, t: &Totals, u: &Totals) -> Option<f64> {
    match kind {
        Kind::Proportion | Kind::Percent => formulas::two_proportion_p(t.num, t.den, u.num, u.den),
        Kind::Nps => {
            let (v1, var1) = formulas::nps(t.a1, t.a2, t.den)?;
            let (v2, var2) = formulas::nps(u.a1, u.a2, u.den)?;
            formulas::nps_p(v1, var1, v2, var2)
        }
        Kind::Mean => {
            let (m1, var1) = formulas::mean_and_variance(t.num, t.sq, t.den)?;
            let (m2, var2) = formulas::mean_and_variance(u.num, u.sq, u.den)?;
            formulas::welch_p(m1, var1?, t.den, m2, var2?, u.den)
        }
        Kind::Rate => formulas::rate_p(t.num, t.den, u.num, u.den),
        Kind::Count
        | Kind::Median
        | Kind::Association(_)
        | Kind::Ratio { .. }
        | Kind::LifetimeValue { .. } => None,
    }
}

/// SPEC §5 `key_action_correlation`: the association of the 2×2 table
/// a = trained & did, b = trained & not, c = untrained & did,
/// d = untrained & not.
pub fn association(measure: Association, trained: &Totals, untrained: &Totals) -> Option<f64> {
    let (a, b) = (trained.num, trained.den - trained.num);
    let (c, d) = (untrained.num, untrained.den - untrained.num);
    match measure {
        Association::Phi => formulas::phi(a, b, c, d),
        Association::Tetrachoric => formulas::tetrachoric(a, b, c, d),
    }
}

#[cfg(test)]
#[path = "estimate_tests.rs"]
mod tests;
