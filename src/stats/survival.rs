//! Survival estimates (docs/STATISTICS.md, "Survival"): Kaplan–Meier with
//! Greenwood variances, the restricted mean survival time, the log-rank
//! test, plain and stratified.

use super::formulas::{p_from_diff, Z};

/// Events and censorings per time of one group: time → (events, censored).
pub type Lifetimes = std::collections::BTreeMap<i64, (f64, f64)>;

/// The accounts of a group: its events and censorings.
pub fn accounts(group: &Lifetimes) -> f64 {
    group.values().map(|(d, c)| d + c).sum()
}

/// Kaplan–Meier S(t) and its Greenwood variance
/// S(t)² Σ dᵢ/(nᵢ(nᵢ − dᵢ)) over event times tᵢ ≤ t. `None` when nobody is
/// under observation at t (no time ≥ t).
pub fn kaplan_meier(group: &Lifetimes, t: i64) -> Option<(f64, f64)> {
    let total = accounts(group);
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
    let total = accounts(group);
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
/// censoring (docs/OUTPUTS.md#survival_curve), with the same estimate and
/// Greenwood interval as [`kaplan_meier`].
pub fn kaplan_meier_curve(group: &Lifetimes) -> Vec<CurvePoint> {
    let mut at_risk = accounts(group);
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
