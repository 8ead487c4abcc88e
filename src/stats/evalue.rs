//! E-values (docs/STATISTICS.md#e-values; VanderWeele & Ding 2017): how
//! strong an unmeasured confounder would have to be — its risk ratio with
//! both training and the outcome — to explain a difference away, for the
//! estimate (`e_value`) and for the confidence limit nearest the null
//! (`e_value_ci`).

use super::formulas;
use super::kind::{Kind, Totals};

/// How a difference d (trained − untrained, in the metric's units) reads
/// as a risk ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// RR = (reference + d)/reference: shares and counts per account, with
    /// the untrained value as the reference. With `flip`, the outcome is the
    /// complement of the value (the risk 1 − S of a survival share): RR =
    /// (reference − d)/reference with the reference 1 − S₀.
    Ratio { reference: f64, flip: bool },
    /// RR ≈ exp(0.91·|d|/sd): means and NPS, with the pooled standard
    /// deviation of the units.
    Standardized { sd: f64 },
}

impl Scale {
    /// The scale of `kind` against the untrained (or adjusted untrained)
    /// value `control`, with the two sides' totals for the pooled SD; null
    /// where no risk-ratio reading applies (ratios of sums, lifetime values,
    /// medians, associations) or the reference is not positive.
    pub fn of(kind: Kind, control: f64, t: &Totals, u: &Totals) -> Option<Scale> {
        match kind {
            Kind::Proportion | Kind::Percent | Kind::Rate => {
                (control > 0.0).then_some(Scale::Ratio {
                    reference: control,
                    flip: false,
                })
            }
            Kind::Mean => {
                let (_, var1) = formulas::mean_and_variance(t.num, t.sq, t.den)?;
                let (_, var0) = formulas::mean_and_variance(u.num, u.sq, u.den)?;
                pooled_sd(var1?, t.den, var0?, u.den).map(|sd| Scale::Standardized { sd })
            }
            Kind::Nps => {
                let unit_variance = |t: &Totals| {
                    let (pp, pd) = (t.a1 / t.den, t.a2 / t.den);
                    100.0 * 100.0 * (pp + pd - (pp - pd).powi(2))
                };
                if !(t.den > 0.0 && u.den > 0.0) {
                    return None;
                }
                pooled_sd(unit_variance(t), t.den, unit_variance(u), u.den)
                    .map(|sd| Scale::Standardized { sd })
            }
            _ => None,
        }
    }

    /// A survival share S(t) against the untrained S₀: the risk of the event
    /// by t, 1 − S, is the outcome.
    pub fn survival(control: f64) -> Option<Scale> {
        let reference = 1.0 - control;
        (reference > 0.0).then_some(Scale::Ratio {
            reference,
            flip: true,
        })
    }

    /// The risk ratio of the difference `d`.
    fn risk_ratio(self, d: f64) -> Option<f64> {
        let rr = match self {
            Scale::Ratio { reference, flip } => {
                let d = if flip { -d } else { d };
                (reference + d) / reference
            }
            Scale::Standardized { sd } => (0.91 * d.abs() / sd).exp(),
        };
        (rr > 0.0 && rr.is_finite()).then_some(rr)
    }

    /// The E-value of the difference `d`.
    pub fn e_value(self, d: f64) -> Option<f64> {
        e_value_of_ratio(self.risk_ratio(d)?)
    }

    /// The E-value of the interval's limit nearest the null: 1 when the
    /// interval holds 0.
    pub fn e_value_of_interval(self, low: f64, high: f64) -> Option<f64> {
        if !(low.is_finite() && high.is_finite()) {
            return None;
        }
        if low <= 0.0 && high >= 0.0 {
            return Some(1.0);
        }
        let nearest = if low > 0.0 { low } else { high };
        self.e_value(nearest)
    }
}

/// The E-values of a difference and of its interval (`e_value`,
/// `e_value_ci`); null where the scale, the difference or the interval is.
pub fn pair(
    scale: Option<Scale>,
    diff: Option<f64>,
    interval: Option<(f64, f64)>,
) -> (Option<f64>, Option<f64>) {
    let Some(scale) = scale else {
        return (None, None);
    };
    (
        diff.and_then(|d| scale.e_value(d)),
        interval.and_then(|(low, high)| scale.e_value_of_interval(low, high)),
    )
}

/// E = RR + √(RR·(RR − 1)) with RR inverted first when below 1.
pub fn e_value_of_ratio(rr: f64) -> Option<f64> {
    if !(rr > 0.0 && rr.is_finite()) {
        return None;
    }
    let rr = if rr < 1.0 { 1.0 / rr } else { rr };
    Some(rr + (rr * (rr - 1.0)).max(0.0).sqrt())
}

/// √(((n₁ − 1)s₁² + (n₀ − 1)s₀²)/(n₁ + n₀ − 2)); null when it is 0.
fn pooled_sd(var1: f64, n1: f64, var0: f64, n0: f64) -> Option<f64> {
    let sd = (((n1 - 1.0) * var1 + (n0 - 1.0) * var0) / (n1 + n0 - 2.0)).sqrt();
    (sd > 0.0 && sd.is_finite()).then_some(sd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: Option<f64>, expected: f64, tolerance: f64) {
        let value = actual.unwrap_or(f64::NAN);
        assert!(
            (value - expected).abs() <= tolerance,
            "{value} is not {expected} ± {tolerance}"
        );
    }

    #[test]
    fn vanderweele_and_dings_worked_example() {
        // VanderWeele & Ding (2017), Ann Intern Med 167:268, the breastfeeding example:
        // RR 3.9 with 95 % CI 1.8 to 8.7 gives the E-value 7.26 for the estimate and 3.0
        // for the lower limit (the limit nearest the null).
        close(e_value_of_ratio(3.9), 7.26, 0.005);
        close(e_value_of_ratio(1.8), 3.0, 1e-12);
        // A protective ratio is inverted first: RR 0.8 reads as 1.25 → 1.25 + √(1.25·0.25) = 1.809017.
        close(e_value_of_ratio(0.8), 1.809017, 1e-6);
        assert_eq!(e_value_of_ratio(0.0), None);
    }

    #[test]
    fn risks_invert_and_means_use_the_pooled_standard_deviation() {
        // RR 3.9 → 3.9 + √(3.9·2.9) = 7.2630; a protective RR of 1/3.9 the same.
        let risk = |p1: f64, p0: f64| {
            Scale::of(Kind::Proportion, p0, &Totals::default(), &Totals::default())
                .and_then(|s| s.e_value(p1 - p0))
        };
        close(risk(0.39, 0.1), 7.263034344160047, 1e-9);
        close(risk(0.1, 0.39), 7.263034344160047, 1e-9);
        assert_eq!(risk(0.0, 0.1), None);
        // Means: d = difference / pooled SD, RR ≈ exp(0.91·d). Values 1..4 (s² 5/3) and 0,1,1,2
        // (s² 2/3): pooled SD √((3·5/3 + 3·2/3)/6) = √(7/6) = 1.0801234; difference 1.5 → d = 1.3887301,
        // RR = exp(1.2637444) = 3.5386469, E = RR + √(RR·(RR − 1)) = 6.5358749.
        let t = Totals {
            num: 10.0,
            sq: 30.0,
            den: 4.0,
            n: 4.0,
            ..Totals::default()
        };
        let u = Totals {
            num: 4.0,
            sq: 6.0,
            den: 4.0,
            n: 4.0,
            ..Totals::default()
        };
        let scale = Scale::of(Kind::Mean, 1.0, &t, &u).unwrap();
        close(scale.e_value(1.5), 6.535874881036355, 1e-9);
    }

    #[test]
    fn the_limit_nearest_the_null_or_1_when_the_interval_holds_it() {
        // A share of 0.2 against 0.1: d = 0.1, RR = 2 → E = 2 + √2 = 3.414214. The interval
        // (0.08, 0.12) reads as RR 1.8 at its nearest limit → E = 3.0 exactly, as above.
        let scale = Scale::of(
            Kind::Proportion,
            0.1,
            &Totals::default(),
            &Totals::default(),
        )
        .unwrap();
        close(scale.e_value(0.1), 2.0 + 2f64.sqrt(), 1e-12);
        close(scale.e_value_of_interval(0.08, 0.12), 3.0, 1e-12);
        // A protective difference −0.05 (RR 0.5 → 2 → 3.414214), interval (−0.08, −0.02):
        // the nearest limit −0.02 is RR 0.8 → 1.809017.
        close(scale.e_value(-0.05), 2.0 + 2f64.sqrt(), 1e-12);
        close(scale.e_value_of_interval(-0.08, -0.02), 1.809017, 1e-6);
        assert_eq!(scale.e_value_of_interval(-0.01, 0.03), Some(1.0));
        // Survival: S₁ 0.9 against S₀ 0.8 is a risk of 0.1 against 0.2, RR 0.5.
        let survival = Scale::survival(0.8).unwrap();
        close(survival.e_value(0.1), 2.0 + 2f64.sqrt(), 1e-12);
        // The limit 0.04 nearest the null: risk 0.16 against 0.2, RR 0.8.
        close(survival.e_value_of_interval(0.04, 0.16), 1.809017, 1e-6);
        // Means: d = 0.5 with a pooled SD of 1 → RR exp(0.455) = 1.576173 → E 2.529142.
        let mean = Scale::Standardized { sd: 1.0 };
        let rr = (0.455f64).exp();
        close(mean.e_value(0.5), rr + (rr * (rr - 1.0)).sqrt(), 1e-12);
        close(mean.e_value(0.5), 2.529142, 1e-6);
        // No reading for ratios of sums.
        assert_eq!(
            Scale::of(
                Kind::Ratio { divisor: 1.0 },
                1.0,
                &Totals::default(),
                &Totals::default()
            ),
            None
        );
    }
}
