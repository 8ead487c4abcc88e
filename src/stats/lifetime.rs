//! The customer lifetime value over a horizon (docs/METRICS.md#customer_lifetime_value
//! and docs/STATISTICS.md#customer-lifetime-value): the expected margin of an
//! account over the next H months at the period's monthly churn,
//! ARPA × margin × Σ_{m<H} q^m with q = (1 − c)/(1 + d), and its interval on
//! the log scale.

use super::formulas::{ratio_variance, Z};
use super::kind::Totals;

/// How a lifetime value is computed: the period's months (to turn the
/// period's retention into a monthly churn), the gross margin, the horizon
/// in months (None: the infinite-horizon limit) and the annual discount rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifetime {
    pub months: u32,
    pub margin: f64,
    pub horizon: Option<u32>,
    pub discount_annual: f64,
}

/// A lifetime value and the variance of its logarithm (null when ARPA's
/// variance is unknown: fewer than two accounts with revenue).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifetimeEstimate {
    pub value: f64,
    pub log_variance: Option<f64>,
}

impl LifetimeEstimate {
    /// The interval value·exp(±z·√var(log value)): never below 0.
    pub fn interval(&self) -> Option<(f64, f64)> {
        let half = Z * self.log_variance?.sqrt();
        Some((self.value * (-half).exp(), self.value * half.exp()))
    }

    /// The variance of the value itself (delta method, value² · var(log
    /// value)): what the difference's interval and the Wald test read.
    pub fn variance(&self) -> Option<f64> {
        self.log_variance.map(|v| self.value * self.value * v)
    }
}

impl Lifetime {
    /// The monthly rate of the annual discount rate: (1 + annual)^(1/12) − 1.
    fn monthly_discount(&self) -> f64 {
        (1.0 + self.discount_annual).powf(1.0 / 12.0) - 1.0
    }

    /// The annuity factor A(c) = Σ_{m<H} q^m, q = (1 − c)/(1 + d), and its
    /// derivative dA/dc; the infinite horizon gives 1/(1 − q), null when
    /// q = 1 (no churn, no discount: an unbounded value).
    fn annuity(&self, c: f64) -> Option<(f64, f64)> {
        let d = self.monthly_discount();
        let q = (1.0 - c) / (1.0 + d);
        let dq_dc = -1.0 / (1.0 + d);
        let (a, da_dq) = match self.horizon {
            Some(h) => {
                // Summed term by term: exact as q → 1, where the closed form cancels.
                let (mut a, mut da, mut power) = (0.0, 0.0, 1.0);
                for m in 0..h {
                    a += power;
                    if m + 1 < h {
                        da += (m + 1) as f64 * power;
                    }
                    power *= q;
                }
                (a, da)
            }
            None => {
                if !(q < 1.0) {
                    return None;
                }
                (1.0 / (1.0 - q), 1.0 / ((1.0 - q) * (1.0 - q)))
            }
        };
        Some((a, da_dq * dq_dc))
    }

    /// The value of one cohort's totals: `a1` = Σ MRR in cents, `a2` = paid
    /// account-months (ARPA = a1/100/a2, the plan's cluster pair), `num`/`den`
    /// = retained/pop(S) (r). c = 1 − r^(1/months). Null without a paid
    /// month or without `pop(S)`, and for the infinite horizon when c = d = 0.
    ///
    /// var(log CLV) = var(ARPA)/ARPA² + (A′(c)/A)² · var(c), with var(ARPA)
    /// the ratio variance of the accounts' (MRR, paid months),
    /// var(r) = r(1 − r)/pop(S) and var(c) = (r^(1/m − 1)/m)² · var(r);
    /// ARPA and r are taken as independent.
    pub fn estimate(&self, t: &Totals) -> Option<LifetimeEstimate> {
        if !(t.a2 > 0.0 && t.den > 0.0) {
            return None;
        }
        let arpa = t.a1 / 100.0 / t.a2;
        let r = t.num / t.den;
        let m = self.months.max(1) as f64;
        let c = 1.0 - r.powf(1.0 / m);
        let (annuity, slope) = self.annuity(c)?;
        let value = arpa * self.margin * annuity;
        let var_r = r * (1.0 - r) / t.den;
        let var_c = if var_r > 0.0 {
            (r.powf(1.0 / m - 1.0) / m).powi(2) * var_r
        } else {
            0.0
        };
        let log_variance = ratio_variance(t.a1, t.a2, t)
            .map(|v| v / (100.0 * 100.0))
            .filter(|_| arpa > 0.0 && annuity > 0.0)
            .map(|var_arpa| var_arpa / (arpa * arpa) + (slope / annuity).powi(2) * var_c)
            .filter(|v| v.is_finite());
        Some(LifetimeEstimate {
            value,
            log_variance,
        })
    }
}

#[cfg(test)]
#[path = "lifetime_tests.rs"]
mod tests;
