//! docs/STATISTICS.md per [`Kind`]: a cohort's value and interval from its totals, and
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

/// How a plan's cohorts are estimated: what its sums measure, and whether
/// its units are nested in accounts (survey responses, tickets, users).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    pub kind: Kind,
    /// docs/STATISTICS.md: "Units nested in accounts (survey responses, tickets, users):
    /// the variance is cluster-robust by account, CR1 […] This replaces the
    /// two rules above for such metrics".
    pub nested: bool,
}

impl Measure {
    /// A measure whose units are accounts (or independent of each other).
    pub fn of(kind: Kind) -> Self {
        Measure {
            kind,
            nested: false,
        }
    }

    /// A measure whose units are nested in accounts.
    pub fn nested(kind: Kind) -> Self {
        Measure { kind, nested: true }
    }

    /// Value, interval, numerator and denominator of one cohort's totals.
    pub fn estimate(self, t: &Totals) -> Estimate {
        let plain = |value: Option<f64>, interval: Option<(f64, f64)>| Estimate {
            numerator: Some(t.num),
            denominator: Some(t.den),
            value,
            interval,
        };
        // The value and its Wald interval from the kind's variance.
        let wald = || {
            let point = self.point_and_variance(t);
            (
                point.map(|(v, _)| v),
                point.and_then(|(v, var)| var.map(|var| formulas::wald_interval(v, var))),
            )
        };
        if self.nested && self.kind.clusterable() {
            let (value, interval) = wald();
            return plain(value, interval);
        }
        match self.kind {
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
            Kind::Rate => {
                let (value, interval) = wald();
                plain(value, interval.map(|(low, high)| (low.max(0.0), high)))
            }
            Kind::Median => Estimate {
                numerator: None,
                denominator: None,
                value: (t.n > 0.0).then_some(t.num),
                interval: None,
            },
            Kind::Association(_) => Estimate::default(),
            Kind::Ratio { divisor } => {
                let (value, interval) = wald();
                Estimate {
                    numerator: Some(t.num / divisor),
                    denominator: Some(t.den / divisor),
                    value,
                    interval,
                }
            }
            Kind::LifetimeValue(lifetime) => {
                let estimate = lifetime.estimate(t);
                Estimate {
                    numerator: None,
                    denominator: None,
                    value: estimate.map(|e| e.value),
                    interval: estimate.and_then(|e| e.interval()),
                }
            }
        }
    }

    /// A cohort's value and the variance of that value (unpooled), the
    /// building block of the difference's interval, the Wald tests and the
    /// adjusted comparison. The variance is null where docs/STATISTICS.md gives none
    /// (medians, associations) or where the data cannot give one (one unit,
    /// one account).
    pub fn point_and_variance(self, t: &Totals) -> Option<(f64, Option<f64>)> {
        let clustered = || formulas::ratio_variance(t.num, t.den, t);
        match self.kind {
            Kind::Proportion | Kind::Percent => {
                let scale = if self.kind == Kind::Percent {
                    100.0
                } else {
                    1.0
                };
                let p = ratio(t.num, t.den)?;
                let variance = if self.nested {
                    clustered()
                } else {
                    Some(p * (1.0 - p) / t.den)
                };
                Some((scale * p, variance.map(|v| scale * scale * v)))
            }
            Kind::Nps => {
                let (value, variance) = formulas::nps(t.a1, t.a2, t.den)?;
                let variance = if self.nested {
                    clustered()
                } else {
                    Some(variance)
                };
                Some((value, variance.map(|v| 100.0 * 100.0 * v)))
            }
            Kind::Mean => {
                let (mean, variance) = formulas::mean_and_variance(t.num, t.sq, t.den)?;
                let variance = if self.nested {
                    clustered()
                } else {
                    variance.map(|v| v / t.den)
                };
                Some((mean, variance))
            }
            Kind::Rate => {
                let (rate, variance) = formulas::mean_and_variance(t.num, t.sq, t.den)?;
                Some((rate, variance.map(|v| v / t.den)))
            }
            Kind::Ratio { .. } => Some((ratio(t.num, t.den)?, clustered())),
            Kind::LifetimeValue(lifetime) => lifetime.estimate(t).map(|e| (e.value, e.variance())),
            Kind::Median | Kind::Association(_) => None,
        }
    }

    /// The lift p-value of trained against untrained (null where docs/STATISTICS.md
    /// gives none): the pooled two-proportion z-test for proportions of
    /// independent units, otherwise the Wald z of the difference with the
    /// two cohorts' variances (Welch for means, the counts rule for rates,
    /// the NPS rule, the delta method, CR1).
    pub fn lift_p_value(self, t: &Totals, u: &Totals) -> Option<f64> {
        match self.kind {
            Kind::Proportion | Kind::Percent if !self.nested => {
                formulas::two_proportion_p(t.num, t.den, u.num, u.den)
            }
            _ => {
                let (v1, var1) = self.point_and_variance(t)?;
                let (v2, var2) = self.point_and_variance(u)?;
                formulas::p_from_diff(v1 - v2, (var1? + var2?).sqrt())
            }
        }
    }
}

/// Value, interval, numerator and denominator of one cohort's totals, for
/// units that are accounts ([`Measure::of`]).
pub fn estimate(kind: Kind, t: &Totals) -> Estimate {
    Measure::of(kind).estimate(t)
}

/// The lift p-value of trained against untrained, for units that are
/// accounts ([`Measure::of`]).
pub fn lift_p_value(kind: Kind, t: &Totals, u: &Totals) -> Option<f64> {
    Measure::of(kind).lift_p_value(t, u)
}

/// docs/METRICS.md#key_action_correlation: the association of the 2×2 table
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
