//! The formulas of SPEC §6 (z = 1.959964, two-sided): intervals, p-values,
//! association measures and survival estimates.

use std::f64::consts::SQRT_2;

use super::kind::Totals;

/// The two-sided 95% normal quantile used everywhere.
pub const Z: f64 = 1.959964;

/// SPEC §6: "p-value from z: erfc(|z|/√2). A zero standard error gives a null p-value."
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
/// SPEC §6: "var = (pP + pD − (pP − pD)²)/N".
pub fn nps(promoters: f64, detractors: f64, n: f64) -> Option<(f64, f64)> {
    if !(n > 0.0) {
        return None;
    }
    let (pp, pd) = (promoters / n, detractors / n);
    let variance = ((pp + pd - (pp - pd).powi(2)) / n).max(0.0);
    Some((100.0 * (pp - pd), variance))
}

/// SPEC §6: "CI = NPS ± 100·z·√var".
pub fn nps_interval(value: f64, variance: f64) -> (f64, f64) {
    let half = 100.0 * Z * variance.sqrt();
    (value - half, value + half)
}

/// SPEC §6: "lift z = (NPS₁ − NPS₂) / (100·√(var₁ + var₂))".
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

/// SPEC §6: "Means: CI = mean ± z·s/√n (sample s)".
pub fn mean_interval(mean: f64, variance: f64, n: f64) -> (f64, f64) {
    let half = Z * (variance / n).sqrt();
    (mean - half, mean + half)
}

/// SPEC §6: "lift: Welch z with the normal distribution".
pub fn welch_p(mean1: f64, var1: f64, n1: f64, mean2: f64, var2: f64, n2: f64) -> Option<f64> {
    p_from_diff(mean1 - mean2, (var1 / n1 + var2 / n2).sqrt())
}

/// SPEC §6: "Counts per account: CI = (c ± z√c)/n clamped at 0".
pub fn rate_interval(count: f64, n: f64) -> Option<(f64, f64)> {
    if !(n > 0.0) {
        return None;
    }
    let half = Z * count.max(0.0).sqrt();
    Some((((count - half) / n).max(0.0), (count + half) / n))
}

/// SPEC §6: "lift z = (r₁ − r₂)/√(c₁/n₁² + c₂/n₂²)".
pub fn rate_p(c1: f64, n1: f64, c2: f64, n2: f64) -> Option<f64> {
    if !(n1 > 0.0 && n2 > 0.0) {
        return None;
    }
    p_from_diff(c1 / n1 - c2 / n2, (c1 / (n1 * n1) + c2 / (n2 * n2)).sqrt())
}

/// Wald interval value ± z·√variance.
pub fn wald_interval(value: f64, variance: f64) -> (f64, f64) {
    let half = Z * variance.max(0.0).sqrt();
    (value - half, value + half)
}

/// SPEC §6, the variance of a ratio R = X/Y of sums over G accounts, where
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

/// SPEC §5 `customer_lifetime_value` = ARPA · margin / c with ARPA = Σ MRR
/// (`a1`, cents) / paid account-months (`a2`) and c = 1 − r^(1/m), r =
/// retained / pop(S) (`num`/`den`); and its delta-method variance (SPEC §6
/// "CLV: delta method on its formula"): var(CLV) = CLV² · (var(ARPA)/ARPA² +
/// var(c)/c²), with var(ARPA) the ratio variance of the accounts' (MRR,
/// months), var(c) = (c′(r))² · r(1 − r)/pop(S) and c′(r) = −r^(1/m − 1)/m.
/// ARPA and r are taken as independent (their covariance is not estimated).
/// Null when c = 0 (nobody churned) or there is no paid month.
pub fn lifetime_value(t: &Totals, months: u32, margin: f64) -> Option<(f64, Option<f64>)> {
    if !(t.a2 > 0.0 && t.den > 0.0) {
        return None;
    }
    let arpa = t.a1 / 100.0 / t.a2;
    let r = t.num / t.den;
    let m = months.max(1) as f64;
    let c = 1.0 - r.powf(1.0 / m);
    if !(c > 0.0) {
        return None;
    }
    let value = arpa * margin / c;
    let var_arpa = ratio_variance(t.a1, t.a2, t).map(|v| v / (100.0 * 100.0));
    let var_r = r * (1.0 - r) / t.den;
    let var_c = if var_r > 0.0 {
        (r.powf(1.0 / m - 1.0) / m).powi(2) * var_r
    } else {
        0.0
    };
    let variance = var_arpa.and_then(|v| {
        if arpa > 0.0 {
            Some(value * value * (v / (arpa * arpa) + var_c / (c * c)))
        } else {
            None
        }
    });
    Some((value, variance))
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

/// Events and censorings per time of one group: time → (events, censored).
pub type Lifetimes = std::collections::BTreeMap<i64, (f64, f64)>;

/// Kaplan–Meier S(t) and its Greenwood variance
/// S(t)² Σ dᵢ/(nᵢ(nᵢ − dᵢ)) over event times tᵢ ≤ t. `None` when nobody is
/// under observation at t (no time ≥ t).
pub fn kaplan_meier(group: &Lifetimes, t: i64) -> Option<(f64, f64)> {
    let total: f64 = group.values().map(|(d, c)| d + c).sum();
    let still_observed: f64 = group.range(t..).map(|(_, (d, c))| d + c).sum();
    if !(still_observed > 0.0) {
        return None;
    }
    let (mut survival, mut greenwood, mut at_risk) = (1.0, 0.0, total);
    for (_, (d, c)) in group.range(..=t) {
        if *d > 0.0 {
            survival *= 1.0 - d / at_risk;
            if at_risk > *d {
                greenwood += d / (at_risk * (at_risk - d));
            }
        }
        at_risk -= d + c;
    }
    Some((survival, survival * survival * greenwood))
}

/// The restricted mean survival time up to `tau`, ∫₀^τ S(u) du of the
/// Kaplan–Meier step function (the expected days survived out of the first
/// τ), and its variance Σ_{tᵢ ≤ τ} Aᵢ² dᵢ/(nᵢ(nᵢ − dᵢ)) with
/// Aᵢ = ∫_{tᵢ}^τ S(u) du (Klein & Moeschberger, §4.5; a term with nᵢ = dᵢ
/// has Aᵢ = 0). `None` when nobody is under observation at τ.
pub fn restricted_mean(group: &Lifetimes, tau: i64) -> Option<(f64, f64)> {
    let total: f64 = group.values().map(|(d, c)| d + c).sum();
    let still_observed: f64 = group.range(tau..).map(|(_, (d, c))| d + c).sum();
    if !(still_observed > 0.0) {
        return None;
    }
    // The steps: from each event time on, S and the event's (d, n).
    let (mut survival, mut at_risk) = (1.0, total);
    let mut steps: Vec<(i64, f64, f64, f64)> = vec![(0, 1.0, 0.0, 0.0)];
    for (t, (d, c)) in group.range(..=tau) {
        if *d > 0.0 {
            survival *= 1.0 - d / at_risk;
            steps.push((*t, survival, *d, at_risk));
        }
        at_risk -= d + c;
    }
    // Areas from each step to τ, from the last step back.
    let (mut area, mut end, mut variance) = (0.0, tau, 0.0);
    for &(t, s, d, n) in steps.iter().rev() {
        area += s * (end - t) as f64;
        end = t;
        if d > 0.0 && n > d {
            variance += area * area * d / (n * (n - d));
        }
    }
    Some((area, variance))
}

/// One point of a Kaplan–Meier curve: a time with an event or a censoring.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub time: i64,
    pub at_risk: f64,
    pub events: f64,
    pub censored: f64,
    pub survival: f64,
    /// Greenwood 95 % interval (as [`survival_interval`]).
    pub interval: (f64, f64),
}

/// The Kaplan–Meier curve of a group at every time with an event or a
/// censoring (SPEC §7 `survival_curve`), with the same estimate and
/// Greenwood interval as [`kaplan_meier`].
pub fn kaplan_meier_curve(group: &Lifetimes) -> Vec<CurvePoint> {
    let mut at_risk: f64 = group.values().map(|(d, c)| d + c).sum();
    let (mut survival, mut greenwood) = (1.0, 0.0);
    let mut points = Vec::with_capacity(group.len());
    for (t, (d, c)) in group {
        if *d > 0.0 {
            survival *= 1.0 - d / at_risk;
            if at_risk > *d {
                greenwood += d / (at_risk * (at_risk - d));
            }
        }
        let variance = survival * survival * greenwood;
        points.push(CurvePoint {
            time: *t,
            at_risk,
            events: *d,
            censored: *c,
            survival,
            interval: survival_interval(survival, variance),
        });
        at_risk -= d + c;
    }
    points
}

/// Greenwood 95% interval S ± z·√var, clamped to [0, 1].
pub fn survival_interval(survival: f64, variance: f64) -> (f64, f64) {
    let half = Z * variance.sqrt();
    ((survival - half).max(0.0), (survival + half).min(1.0))
}

/// Log-rank test of two groups (1 degree of freedom): χ² = (O₁ − E₁)²/V,
/// p = erfc(√χ²/√2). `None` when the variance is 0.
pub fn log_rank_p(first: &Lifetimes, second: &Lifetimes) -> Option<f64> {
    let (difference, variance) = log_rank_parts(first, second);
    p_from_diff(difference, variance.sqrt())
}

/// The stratified log-rank test: Σ_k (O₁k − E₁k) over Σ_k V_k, one
/// degree of freedom, each stratum's expectation from its own risk sets.
pub fn stratified_log_rank_p(strata: &[(&Lifetimes, &Lifetimes)]) -> Option<f64> {
    let (difference, variance) = strata
        .iter()
        .map(|(first, second)| log_rank_parts(first, second))
        .fold((0.0, 0.0), |(d, v), (dk, vk)| (d + dk, v + vk));
    p_from_diff(difference, variance.sqrt())
}

/// O₁ − E₁ and its variance V of the log-rank test of two groups.
fn log_rank_parts(first: &Lifetimes, second: &Lifetimes) -> (f64, f64) {
    let mut times: Vec<i64> = first
        .iter()
        .chain(second.iter())
        .filter(|(_, (d, _))| *d > 0.0)
        .map(|(t, _)| *t)
        .collect();
    times.sort_unstable();
    times.dedup();
    let at_risk = |g: &Lifetimes, t: i64| -> f64 { g.range(t..).map(|(_, (d, c))| d + c).sum() };
    let events = |g: &Lifetimes, t: i64| -> f64 { g.get(&t).map(|(d, _)| *d).unwrap_or(0.0) };
    let (mut observed, mut expected, mut variance) = (0.0, 0.0, 0.0);
    for t in times {
        let (n1, n2) = (at_risk(first, t), at_risk(second, t));
        let (n, d) = (n1 + n2, events(first, t) + events(second, t));
        if n <= 0.0 {
            continue;
        }
        observed += events(first, t);
        expected += d * n1 / n;
        if n > 1.0 {
            variance += d * (n1 / n) * (1.0 - n1 / n) * (n - d) / (n - 1.0);
        }
    }
    (observed - expected, variance)
}

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
        // SPEC example: a=100, b=50, c=90, d=1000 → tetrachoric 0.8526.
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

    fn lifetimes(rows: &[(i64, bool)]) -> Lifetimes {
        let mut group = Lifetimes::new();
        for (t, event) in rows {
            let entry = group.entry(*t).or_insert((0.0, 0.0));
            if *event {
                entry.0 += 1.0
            } else {
                entry.1 += 1.0
            }
        }
        group
    }

    #[test]
    fn kaplan_meier_greenwood_and_log_rank() {
        // Group 1: 1, 2+, 3, 4, 5+ (+ = censored). S(1) = 4/5; S(3) = 0.8·2/3 = 0.533333;
        // Greenwood var(3) = 0.533333²·(1/(5·4) + 1/(3·2)) = 0.0616296; S(4) = 0.266667; nobody observed after 5.
        let g1 = lifetimes(&[(1, true), (2, false), (3, true), (4, true), (5, false)]);
        let (s1, _) = kaplan_meier(&g1, 1).unwrap();
        assert!(close(s1, 0.8, 1e-12));
        let (s3, v3) = kaplan_meier(&g1, 3).unwrap();
        assert!(
            close(s3, 0.533333, 1e-6) && close(v3, 0.0616296, 1e-7),
            "{s3} {v3}"
        );
        assert!(close(kaplan_meier(&g1, 2).unwrap().0, 0.8, 1e-12));
        assert!(close(kaplan_meier(&g1, 4).unwrap().0, 0.266667, 1e-6));
        assert!(kaplan_meier(&g1, 6).is_none());
        let (lo, hi) = survival_interval(s3, v3);
        // 0.533333 ± 1.959964·0.248253: the upper bound clamps at 1.
        assert!(
            close(lo, 0.533333 - 1.959964 * 0.248253, 1e-5) && hi == 1.0,
            "{lo} {hi}"
        );
        // Group 2: 2, 3, 4+, 6. Log-rank: O₁ = 3, E₁ = 2.555556, V = 1.146914, χ² = 0.172228 → p = 0.678139.
        let g2 = lifetimes(&[(2, true), (3, true), (4, false), (6, true)]);
        let p = log_rank_p(&g1, &g2).unwrap();
        assert!(close(p, 0.678139, 1e-6), "{p}");
    }

    #[test]
    fn poisson_rate() {
        // 4 tickets on 10 accounts: (4 ± 1.959964·2)/10 = [0.0080072, 0.7919928].
        let (lo, hi) = rate_interval(4.0, 10.0).unwrap();
        assert!(close(lo, 0.0080072, 1e-6) && close(hi, 0.7919928, 1e-6));
        // 1 ticket: lower bound clamps at 0.
        assert_eq!(rate_interval(1.0, 10.0).unwrap().0, 0.0);
        // 4/10 vs 10/10: z = −0.6/√(0.04 + 0.1) = −1.603567 → p = 0.108809.
        let p = rate_p(4.0, 10.0, 10.0, 10.0).unwrap();
        assert!(close(p, 0.108809, 1e-5), "{p}");
    }

    #[test]
    fn restricted_mean_matches_lifelines_and_the_uncensored_identity() {
        // T = [2, 3, 5, 5, 8, 9, 12, 12, 15], E = [1, 0, 1, 1, 0, 1, 0, 1, 0]. lifelines 0.30
        // restricted_mean_survival_time(KaplanMeierFitter().fit(T, E), t=τ): 7.682539682539681 (τ 10),
        // 8.634920634920633 (τ 12, an event on τ), 9.587301587301585 (τ 15, the last time).
        // Variances: Klein & Moeschberger's Σ Aᵢ² dᵢ/(nᵢ(nᵢ − dᵢ)) in exact fractions:
        // 0.9871284198570669, 1.6813179122325004, 2.8067063392082288.
        let group = lifetimes(&[
            (2, true),
            (3, false),
            (5, true),
            (5, true),
            (8, false),
            (9, true),
            (12, false),
            (12, true),
            (15, false),
        ]);
        for (tau, mean, variance) in [
            (10, 7.682539682539681, 0.9871284198570669),
            (12, 8.634920634920633, 1.6813179122325004),
            (15, 9.587301587301585, 2.8067063392082288),
        ] {
            let (m, v) = restricted_mean(&group, tau).unwrap();
            assert!(
                close(m, mean, 1e-12) && close(v, variance, 1e-12),
                "τ {tau}: {m} {v}"
            );
        }
        // Nobody observed after 15.
        assert_eq!(restricted_mean(&group, 16), None);
        // Without censoring the RMST is the mean of min(T, τ) and the variance its
        // variance with denominator n, over n: T = [1, 3, 3, 6, 10], τ 7 → min = [1, 3, 3, 6, 7],
        // mean 4, Σ(x − 4)² = 24, 24/5² = 0.96 (lifelines: 4.0).
        let uncensored = lifetimes(&[(1, true), (3, true), (3, true), (6, true), (10, true)]);
        let (m, v) = restricted_mean(&uncensored, 7).unwrap();
        assert!(close(m, 4.0, 1e-12) && close(v, 0.96, 1e-12), "{m} {v}");
    }

    #[test]
    fn the_curve_has_a_point_per_time_with_the_metric_rows_estimate() {
        let group = lifetimes(&[
            (2, true),
            (3, false),
            (5, true),
            (5, true),
            (9, true),
            (9, false),
        ]);
        let curve = kaplan_meier_curve(&group);
        let times: Vec<i64> = curve.iter().map(|p| p.time).collect();
        assert_eq!(times, [2, 3, 5, 9]);
        let at_risk: Vec<f64> = curve.iter().map(|p| p.at_risk).collect();
        assert_eq!(at_risk, [6.0, 5.0, 4.0, 2.0]);
        // S(5) = (5/6)(1 − 2/4) = 5/12; S(9) = 5/12 · 1/2 = 5/24.
        assert!(close(curve[2].survival, 5.0 / 12.0, 1e-15));
        assert!(close(curve[3].survival, 5.0 / 24.0, 1e-15));
        for point in &curve {
            let (s, v) = kaplan_meier(&group, point.time).unwrap();
            assert_eq!(
                (point.survival, point.interval),
                (s, survival_interval(s, v))
            );
        }
        assert_eq!((curve[3].events, curve[3].censored), (1.0, 1.0));
    }
}
