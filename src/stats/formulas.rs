//! The formulas of docs/STATISTICS.md (z = 1.959964, two-sided): intervals, p-values,
//! association measures (survival estimates are in [`super::survival`]).

use std::f64::consts::SQRT_2;

use super::kind::Totals;

/// The two-sided 95% normal quantile used everywhere.
pub const Z: f64 = 1.959964;

/// The one-sided normal quantile of 80 % power, z₀.₈.
pub const Z_POWER: f64 = 0.8416212335729143;

/// docs/STATISTICS.md#power: the smallest absolute difference a two-sided
/// test at 5 % detects with 80 % power, (z₀.₉₇₅ + z₀.₈)·√V, V the variance
/// of the difference; null where V is unknown, 0 or not finite.
pub fn minimum_detectable(variance: Option<f64>) -> Option<f64> {
    variance
        .filter(|v| *v > 0.0 && v.is_finite())
        .map(|v| (Z + Z_POWER) * v.sqrt())
}

/// docs/STATISTICS.md: "p-value from z: erfc(|z|/√2). A zero standard error gives a null p-value."
pub fn p_from_diff(diff: f64, standard_error: f64) -> Option<f64> {
    if !(standard_error > 0.0) || !diff.is_finite() || !standard_error.is_finite() {
        return None;
    }
    Some(libm::erfc((diff / standard_error).abs() / SQRT_2))
}

/// Wilson score interval of the proportion x/n.
pub fn wilson(x: f64, n: f64) -> Option<(f64, f64)> {
    if !(n > 0.0) {
        return None;
    }
    let p = x / n;
    let z2 = Z * Z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).max(0.0).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Pooled two-proportion z-test of x1/n1 against x2/n2.
pub fn two_proportion_p(x1: f64, n1: f64, x2: f64, n2: f64) -> Option<f64> {
    if !(n1 > 0.0 && n2 > 0.0) {
        return None;
    }
    let pooled = (x1 + x2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
        .max(0.0)
        .sqrt();
    p_from_diff(x1 / n1 - x2 / n2, se)
}

/// NPS and its variance from promoter and detractor counts out of n responses.
/// docs/STATISTICS.md: "var = (pP + pD − (pP − pD)²)/N".
pub fn nps(promoters: f64, detractors: f64, n: f64) -> Option<(f64, f64)> {
    if !(n > 0.0) {
        return None;
    }
    let (pp, pd) = (promoters / n, detractors / n);
    let variance = ((pp + pd - (pp - pd).powi(2)) / n).max(0.0);
    Some((100.0 * (pp - pd), variance))
}

/// docs/STATISTICS.md: "CI = NPS ± 100·z·√var".
pub fn nps_interval(value: f64, variance: f64) -> (f64, f64) {
    let half = 100.0 * Z * variance.sqrt();
    (value - half, value + half)
}

/// docs/STATISTICS.md: "lift z = (NPS₁ − NPS₂) / (100·√(var₁ + var₂))".
pub fn nps_p(value1: f64, var1: f64, value2: f64, var2: f64) -> Option<f64> {
    p_from_diff(value1 - value2, 100.0 * (var1 + var2).sqrt())
}

/// Mean and sample variance from Σx, Σx² and n (variance needs n ≥ 2).
pub fn mean_and_variance(sum: f64, sum_squares: f64, n: f64) -> Option<(f64, Option<f64>)> {
    if !(n > 0.0) {
        return None;
    }
    let mean = sum / n;
    let variance = if n >= 2.0 {
        Some(((sum_squares - n * mean * mean) / (n - 1.0)).max(0.0))
    } else {
        None
    };
    Some((mean, variance))
}

/// docs/STATISTICS.md: "Means: CI = mean ± z·s/√n (sample s)".
pub fn mean_interval(mean: f64, variance: f64, n: f64) -> (f64, f64) {
    let half = Z * (variance / n).sqrt();
    (mean - half, mean + half)
}

/// docs/STATISTICS.md: "lift: Welch z with the normal distribution".
pub fn welch_p(mean1: f64, var1: f64, n1: f64, mean2: f64, var2: f64, n2: f64) -> Option<f64> {
    p_from_diff(mean1 - mean2, (var1 / n1 + var2 / n2).sqrt())
}

/// Wald interval value ± z·√variance.
pub fn wald_interval(value: f64, variance: f64) -> (f64, f64) {
    let half = Z * variance.max(0.0).sqrt();
    (value - half, value + half)
}

/// docs/STATISTICS.md, the variance of a ratio R = X/Y of sums over G accounts, where
/// account g contributes X_g and Y_g: G/(G−1) · Σ_g (X_g − R·Y_g)² / Y²,
/// expanded as (Σ X_g² − 2R Σ X_g Y_g + R² Σ Y_g²) from the totals' cluster
/// sums. It is the delta-method variance of a ratio of sums (NRR, GRR,
/// expansion: "from the per-account sums (Σx, Σy, Σx², Σy², Σxy, n)") and,
/// with Y_g the account's units, the CR1 cluster-robust variance of a mean of
/// units nested in accounts ("G/(G−1) · Σ_g (Σ_{i∈g} (x_i − x̄))² / N²").
/// Null with fewer than two accounts or Y = 0.
pub fn ratio_variance(x: f64, y: f64, t: &Totals) -> Option<f64> {
    if !(t.clusters >= 2.0) || y == 0.0 || !y.is_finite() {
        return None;
    }
    let r = x / y;
    let squares = (t.cxx - 2.0 * r * t.cxy + r * r * t.cyy).max(0.0);
    Some(t.clusters / (t.clusters - 1.0) * squares / (y * y))
}

/// Benjamini–Hochberg q-values (step-up adjusted p-values) of `p_values`;
/// null entries stay null and are not counted in the family.
/// q_(i) = min_{j ≥ i} min(1, m·p_(j)/j) over the m non-null p-values sorted
/// ascending.
pub fn benjamini_hochberg(p_values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<(usize, f64)> = p_values
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.filter(|p| p.is_finite()).map(|p| (i, p)))
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let m = order.len() as f64;
    let mut q = vec![None; p_values.len()];
    let mut running = 1.0_f64;
    for (rank, (index, p)) in order.iter().enumerate().rev() {
        running = running.min(m * p / (rank as f64 + 1.0)).min(1.0);
        q[*index] = Some(running);
    }
    q
}

/// Phi coefficient of a 2×2 table: (ad − bc)/√((a+b)(c+d)(a+c)(b+d)); null
/// when a margin is 0.
pub fn phi(a: f64, b: f64, c: f64, d: f64) -> Option<f64> {
    let margins = (a + b) * (c + d) * (a + c) * (b + d);
    if margins > 0.0 {
        Some((a * d - b * c) / margins.sqrt())
    } else {
        None
    }
}

/// Tetrachoric correlation by the cos-π approximation: cos(π / (1 + √(ad/bc)));
/// 1 when bc = 0 < ad, −1 when ad = 0 < bc, null when both are 0.
pub fn tetrachoric(a: f64, b: f64, c: f64, d: f64) -> Option<f64> {
    let (ad, bc) = (a * d, b * c);
    match (ad > 0.0, bc > 0.0) {
        (false, false) => None,
        (true, false) => Some(1.0),
        (false, true) => Some(-1.0),
        (true, true) => Some((std::f64::consts::PI / (1.0 + (ad / bc).sqrt())).cos()),
    }
}

pub use super::survival::{
    accounts, kaplan_meier, kaplan_meier_curve, log_rank_p, restricted_mean, stratified_log_rank_p,
    survival_interval, CurvePoint, Lifetimes,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn wilson_matches_hand_computation() {
        // x = 8, n = 10: p = 0.8, z² = 3.841459; denominator = 1.3841459;
        // centre = (0.8 + 0.1920729)/1.3841459 = 0.716740;
        // half = 1.959964·√(0.016 + 0.0096036)/1.3841459 = 0.226578 → [0.490162, 0.943318].
        let (lo, hi) = wilson(8.0, 10.0).unwrap();
        assert!(close(lo, 0.490162, 1e-5), "{lo}");
        assert!(close(hi, 0.943318, 1e-5), "{hi}");
        assert!(wilson(0.0, 0.0).is_none());
        let (lo0, _) = wilson(0.0, 5.0).unwrap();
        assert_eq!(lo0, 0.0);
    }

    #[test]
    fn two_proportion_test() {
        // 30/100 vs 50/100: pooled 0.4, se = √(0.24·0.02) = 0.0692820; z = −2.886751;
        // p = erfc(2.886751/√2) = 0.0038924.
        let p = two_proportion_p(30.0, 100.0, 50.0, 100.0).unwrap();
        assert!(close(p, 0.0038924, 1e-6), "{p}");
        // Identical zero rates: se = 0 → null.
        assert!(two_proportion_p(0.0, 10.0, 0.0, 10.0).is_none());
    }

    #[test]
    fn nps_variance_and_interval() {
        // 5 promoters, 3 passives, 2 detractors of 10: NPS = 30; var = (0.5 + 0.2 − 0.09)/10 = 0.061;
        // CI = 30 ± 100·1.959964·0.246982 = 30 ± 48.40754.
        let (value, var) = nps(5.0, 2.0, 10.0).unwrap();
        assert!(close(value, 30.0, 1e-12));
        assert!(close(var, 0.061, 1e-12));
        let (lo, hi) = nps_interval(value, var);
        assert!(
            close(lo, -18.40754, 1e-4) && close(hi, 78.40754, 1e-4),
            "{lo} {hi}"
        );
        // Against 0 with var 0.05: z = 30/(100·√0.111) = 0.900450 → p = 0.367881.
        let p = nps_p(30.0, 0.061, 0.0, 0.05).unwrap();
        assert!(close(p, 0.367881, 1e-5), "{p}");
    }

    #[test]
    fn mean_interval_and_welch() {
        // x = 1, 2, 3, 4: mean 2.5, s² = (30 − 25)/3 = 1.666667; half = 1.959964·√(1.666667/4) = 1.265151.
        let (mean, var) = mean_and_variance(10.0, 30.0, 4.0).unwrap();
        let var = var.unwrap();
        assert!(close(mean, 2.5, 1e-12) && close(var, 5.0 / 3.0, 1e-12));
        let (lo, hi) = mean_interval(mean, var, 4.0);
        assert!(
            close(lo, 1.234849, 1e-5) && close(hi, 3.765151, 1e-5),
            "{lo} {hi}"
        );
        // 2.5 (s² 5/3, n 4) vs 1.0 (s² 1, n 4): z = 1.5/√(0.416667 + 0.25) = 1.837117 → p = 0.066193.
        let p = welch_p(2.5, 5.0 / 3.0, 4.0, 1.0, 1.0, 4.0).unwrap();
        assert!(close(p, 0.066193, 1e-5), "{p}");
    }

    #[test]
    fn association_measures() {
        // A worked example: a=100, b=50, c=90, d=1000 → tetrachoric 0.8526.
        // ad/bc = 100000/4500 = 22.2222, √ = 4.714045, cos(π/5.714045) = 0.852590.
        let t = tetrachoric(100.0, 50.0, 90.0, 1000.0).unwrap();
        assert!((t - 0.8526).abs() < 5e-5, "{t}");
        // phi = (100000 − 4500)/√(150·1090·190·1050) = 95500/180605.2 = 0.528778.
        let p = phi(100.0, 50.0, 90.0, 1000.0).unwrap();
        assert!((p - 95500.0 / (150.0f64 * 1090.0 * 190.0 * 1050.0).sqrt()).abs() < 1e-12);
        assert!((p - 0.528778).abs() < 1e-6, "{p}");
        assert_eq!(tetrachoric(5.0, 0.0, 3.0, 2.0), Some(1.0));
        assert_eq!(tetrachoric(0.0, 4.0, 3.0, 2.0), Some(-1.0));
        assert_eq!(tetrachoric(0.0, 0.0, 3.0, 2.0), None);
        assert_eq!(phi(0.0, 0.0, 3.0, 2.0), None);
    }
}
