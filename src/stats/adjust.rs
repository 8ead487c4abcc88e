//! docs/STATISTICS.md "Adjusted comparisons (pipeline key `adjust`): the effect on the
//! trained (ATT) by direct standardization of the untrained to the trained
//! units' strata". Per lift row, from each cohort's totals per stratum:
//! θ̂₀* = Σ_k w_k θ̂₀k with w_k = the trained units' share of stratum k (the
//! trained denominator's share: units, responses, or starting MRR for a
//! ratio of sums), the adjusted difference Σ_k w_k (θ̂₁k − θ̂₀k), its
//! variance Σ_k w_k² (V₁k + V₀k) with each kind's variance, a Wald interval
//! and p-value, and the E-value of the adjusted effect.

use std::collections::BTreeMap;

use super::estimate::Measure;
use super::formulas::{self, p_from_diff, wald_interval};
use super::kind::{Kind, Totals};
use super::rows::Adjusted;

/// A cohort's totals by stratum (`None`: units without a stratum, such as
/// the one row of a median).
pub type ByStratum = BTreeMap<Option<String>, Totals>;

/// What the statistics stage needs of `adjust:`.
#[derive(Debug, Clone)]
pub struct AdjustSpec {
    pub method: &'static str,
    /// Strata with fewer trained or untrained units are left out.
    pub min_per_arm: f64,
}

impl AdjustSpec {
    /// The pipeline's `adjust:`, when it has one.
    pub fn of(pipeline: &crate::config::Pipeline) -> Option<AdjustSpec> {
        pipeline.adjust.as_ref().map(|a| AdjustSpec {
            method: a.method.name(),
            min_per_arm: a.min_per_arm as f64,
        })
    }
}

/// The adjusted comparison of one lift row and how many trained units it
/// had to leave out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standardized {
    pub adjusted: Adjusted,
    /// Trained units in strata that could not be compared.
    pub left_out: f64,
    pub trained_units: f64,
    /// Untrained units outside the comparable strata, of all untrained units.
    pub untrained_unused: f64,
    pub untrained_units: f64,
    /// Proportions of independent units: the Cochran–Mantel–Haenszel test
    /// over the same comparable strata, the cross-check docs/STATISTICS.md asks for.
    pub cmh_p_value: Option<f64>,
}

impl Standardized {
    /// The lift row's adjusted columns, with what the run's overlap warning
    /// and the CMH cross-check read.
    pub fn into_adjusted(self) -> Adjusted {
        Adjusted {
            cmh_p_value: self.cmh_p_value,
            left_out: self.left_out,
            trained_units: self.trained_units,
            untrained_unused: self.untrained_unused,
            untrained_units: self.untrained_units,
            ..self.adjusted
        }
    }

    fn new(spec: &AdjustSpec) -> Self {
        Standardized {
            adjusted: Adjusted {
                method: Some(spec.method.to_string()),
                ..Adjusted::default()
            },
            ..Standardized::default()
        }
    }

    /// Every adjusted column null but the method, with the reason.
    fn null_because(mut self, note: String) -> Self {
        self.adjusted = Adjusted {
            method: self.adjusted.method.take(),
            note: Some(note),
            ..Adjusted::default()
        };
        self
    }

    /// docs/STATISTICS.md#overlap: "above half of the trained units left out, the
    /// adjusted columns are null with the reason" (also when none is left).
    fn too_little_overlap(&self, spec: &AdjustSpec, what: &str) -> Option<String> {
        let (left, total) = (self.left_out, self.trained_units);
        if total == 0.0 {
            return Some("no trained units".to_string());
        }
        (left > 0.5 * total || left == total).then(|| {
            format!(
                "too little overlap: {left} of {total} trained units ({:.0} %) are in strata with \
                 fewer than {} trained or untrained {what}",
                100.0 * left / total,
                spec.min_per_arm
            )
        })
    }
}

/// The units a stratum's size is counted in: accounts for units nested in
/// accounts (their variance needs accounts), otherwise the units.
fn units(measure: Measure, t: &Totals) -> f64 {
    if measure.nested {
        t.clusters
    } else {
        t.n
    }
}

/// docs/STATISTICS.md standardization of `untrained` to `trained`'s strata.
pub fn standardize(
    measure: Measure,
    trained: &ByStratum,
    untrained: &ByStratum,
    spec: &AdjustSpec,
) -> Standardized {
    let mut result = Standardized::new(spec);
    let note = |result: Standardized, note: String| result.null_because(note);
    match measure.kind {
        Kind::Median => {
            return note(
                result,
                "not adjusted: a median does not add up over strata".into(),
            )
        }
        Kind::LifetimeValue(_) => {
            return note(
                result,
                "not adjusted: the lifetime value combines several ratios; read the adjusted \
                 net_revenue_retention and churn rows"
                    .into(),
            )
        }
        Kind::Association(_) => return note(result, "not adjusted".into()),
        _ => {}
    }
    let empty = Totals::default();
    // Comparable strata: enough units on both sides, and a value on both.
    let mut comparable = Vec::new();
    for (stratum, t) in trained {
        let u = untrained.get(stratum).unwrap_or(&empty);
        result.trained_units += units(measure, t);
        let points = measure
            .point_and_variance(t)
            .zip(measure.point_and_variance(u));
        let enough = units(measure, t) >= spec.min_per_arm
            && units(measure, u) >= spec.min_per_arm
            && stratum.is_some();
        match points {
            Some((p1, p0)) if enough && t.den > 0.0 => comparable.push((t, u, p1, p0)),
            _ => result.left_out += units(measure, t),
        }
    }
    result.untrained_units = untrained.values().map(|u| units(measure, u)).sum();
    result.untrained_unused =
        result.untrained_units - comparable.iter().map(|c| units(measure, c.1)).sum::<f64>();
    if let Some(reason) = result.too_little_overlap(spec, "units") {
        return note(result, reason);
    }
    let strata: Vec<Compared> = comparable
        .iter()
        .map(|(t, u, trained, untrained)| Compared {
            weight: t.den,
            n1: t.n,
            n0: u.n,
            trained: *trained,
            untrained: *untrained,
        })
        .collect();
    let (mut pooled1, mut pooled0) = (Totals::default(), Totals::default());
    for (t, u, ..) in &comparable {
        pooled1 += **t;
        pooled0 += **u;
    }
    if matches!(measure.kind, Kind::Proportion | Kind::Percent) && !measure.nested {
        let tables: Vec<_> = comparable.iter().map(|(t, u, ..)| (**t, **u)).collect();
        result.cmh_p_value = cmh_p(&tables);
    }
    let combined = combine(&strata, &mut result.adjusted);
    let control = combined.control;
    let a = &mut result.adjusted;
    match combined.variance {
        Some(_) => a.p_value = combined.p_value(),
        None => {
            a.note = Some(
                "no interval: the variance of a stratum is unknown (one account or one unit) or 0"
                    .into(),
            )
        }
    }
    let scale = super::evalue::Scale::of(measure.kind, control, &pooled1, &pooled0);
    a.read_as(scale);
    a.mde = formulas::minimum_detectable(combined.variance);
    result
}

/// The Cochran–Mantel–Haenszel test of no association over 2×2 tables
/// (trained, untrained) × (hit, miss), one per stratum, without continuity
/// correction: Σ_k (a_k − E_k) over √Σ_k V_k with E_k = n₁k·m₁k/N_k and
/// V_k = n₁k·n₀k·m₁k·(N_k − m₁k)/(N_k²·(N_k − 1)).
pub fn cmh_p(tables: &[(Totals, Totals)]) -> Option<f64> {
    let (mut difference, mut variance) = (0.0, 0.0);
    for (t, u) in tables {
        let (n1, n0) = (t.den, u.den);
        let (total, hits) = (n1 + n0, t.num + u.num);
        if total < 2.0 {
            continue;
        }
        difference += t.num - n1 * hits / total;
        variance += n1 * n0 * hits * (total - hits) / (total * total * (total - 1.0));
    }
    p_from_diff(difference, variance.sqrt())
}

/// One comparable stratum: its weight before normalizing (the trained
/// denominator), its units, and each side's value with its variance.
struct Compared {
    weight: f64,
    n1: f64,
    n0: f64,
    trained: (f64, Option<f64>),
    untrained: (f64, Option<f64>),
}

/// The standardized values: Σ w θ̂₁k, Σ w θ̂₀k and Σ w²(V₁k + V₀k) (null when
/// a variance is unknown, or it is 0 or not finite).
struct Combined {
    treated: f64,
    control: f64,
    variance: Option<f64>,
}

impl Combined {
    /// The Wald test of the standardized difference.
    fn p_value(&self) -> Option<f64> {
        p_from_diff(self.treated - self.control, self.variance?.sqrt())
    }
}

/// docs/STATISTICS.md direct standardization over the comparable strata, with weights
/// w_k = weight_k / Σ weight: fills the adjusted untrained value, the
/// difference, the units kept and, when the variance is known and positive,
/// the Wald interval.
fn combine(strata: &[Compared], a: &mut Adjusted) -> Combined {
    let weight_total: f64 = strata.iter().map(|c| c.weight).sum();
    let (mut treated, mut control, mut variance) = (0.0, 0.0, Some(0.0));
    let (mut n1, mut n0) = (0.0, 0.0);
    for c in strata {
        let w = c.weight / weight_total;
        treated += w * c.trained.0;
        control += w * c.untrained.0;
        variance = variance
            .zip(c.trained.1.zip(c.untrained.1))
            .map(|(sum, (a, b))| sum + w * w * (a + b));
        n1 += c.n1;
        n0 += c.n0;
    }
    let variance = variance.filter(|v| *v > 0.0 && v.is_finite());
    let diff = treated - control;
    a.untrained_value = Some(control);
    a.abs_diff = Some(diff);
    a.n_trained = Some(n1.round() as i64);
    a.n_untrained = Some(n0.round() as i64);
    if let Some(v) = variance {
        let (low, high) = wald_interval(diff, v);
        a.ci_low = Some(low);
        a.ci_high = Some(high);
    }
    Combined {
        treated,
        control,
        variance,
    }
}

/// Lifetimes of a cohort by stratum.
pub type LifetimesByStratum = BTreeMap<Option<String>, formulas::Lifetimes>;

/// What a survival lift row compares: S(t) or the restricted mean survival
/// time up to τ (the whole curves' log-rank row: [`standardize_log_rank`]).
#[derive(Debug, Clone, Copy)]
pub enum SurvivalMeasure {
    At(i64),
    RestrictedMean(i64),
}

impl SurvivalMeasure {
    fn day(self) -> i64 {
        match self {
            SurvivalMeasure::At(t) | SurvivalMeasure::RestrictedMean(t) => t,
        }
    }

    fn estimate(self, group: &formulas::Lifetimes) -> Option<(f64, f64)> {
        match self {
            SurvivalMeasure::At(t) => formulas::kaplan_meier(group, t),
            SurvivalMeasure::RestrictedMean(tau) => formulas::restricted_mean(group, tau),
        }
    }
}

/// One comparable stratum of a survival comparison: both sides' lifetimes,
/// accounts and estimates.
type SurvivalStratum<'a, T> = (
    &'a formulas::Lifetimes,
    &'a formulas::Lifetimes,
    f64,
    f64,
    T,
    T,
);

/// The strata with at least `min_per_arm` accounts on each side and an
/// `estimate` on each side; the trained accounts of the others are left
/// out. None (with `result` null and its reason) when too few are kept.
fn comparable_strata<'a, T>(
    trained: &'a LifetimesByStratum,
    untrained: &'a LifetimesByStratum,
    spec: &AdjustSpec,
    result: &mut Standardized,
    needs: &str,
    estimate: impl Fn(&formulas::Lifetimes) -> Option<T>,
) -> Option<Vec<SurvivalStratum<'a, T>>> {
    static EMPTY: formulas::Lifetimes = formulas::Lifetimes::new();
    let mut comparable = Vec::new();
    for (stratum, g1) in trained {
        let g0 = untrained.get(stratum).unwrap_or(&EMPTY);
        let (n1, n0) = (formulas::accounts(g1), formulas::accounts(g0));
        result.trained_units += n1;
        match estimate(g1).zip(estimate(g0)) {
            Some((e1, e0)) if n1 >= spec.min_per_arm && n0 >= spec.min_per_arm => {
                comparable.push((g1, g0, n1, n0, e1, e0))
            }
            _ => result.left_out += n1,
        }
    }
    result.untrained_units = untrained.values().map(formulas::accounts).sum();
    result.untrained_unused = result.untrained_units - comparable.iter().map(|c| c.3).sum::<f64>();
    match result.too_little_overlap(spec, needs) {
        Some(reason) => {
            *result = std::mem::take(result).null_because(reason);
            None
        }
        None => Some(comparable),
    }
}

/// docs/STATISTICS.md#survival-adjusted, the `log_rank` row: the stratified
/// log-rank test over the strata with `min_per_arm` accounts on each side;
/// no estimate.
pub fn standardize_log_rank(
    trained: &LifetimesByStratum,
    untrained: &LifetimesByStratum,
    spec: &AdjustSpec,
) -> Standardized {
    let mut result = Standardized::new(spec);
    let Some(comparable) =
        comparable_strata(trained, untrained, spec, &mut result, "accounts", |_| {
            Some(())
        })
    else {
        return result;
    };
    let pairs: Vec<_> = comparable.iter().map(|c| (c.0, c.1)).collect();
    let a = &mut result.adjusted;
    a.p_value = formulas::stratified_log_rank_p(&pairs);
    a.n_trained = Some(comparable.iter().map(|c| c.2).sum::<f64>().round() as i64);
    a.n_untrained = Some(comparable.iter().map(|c| c.3).sum::<f64>().round() as i64);
    result
}

/// docs/STATISTICS.md#survival-adjusted: the stratified Kaplan–Meier
/// average Σ_k w_k Ŝ₀k(t). Weights are the trained accounts' shares of the
/// comparable strata (at least `min_per_arm` accounts on each side, and
/// someone still observed at `t` on each side); the variance is
/// Σ_k w_k² (V₁k + V₀k) with Greenwood's and the p-value its Wald test; the
/// E-value is that of the risk of the event by `t`, 1 − S. The restricted
/// mean is standardized the same way, with its own variance and no E-value.
pub fn standardize_survival(
    trained: &LifetimesByStratum,
    untrained: &LifetimesByStratum,
    measure: SurvivalMeasure,
    spec: &AdjustSpec,
) -> Standardized {
    let mut result = Standardized::new(spec);
    let needs = format!("accounts, or none still observed at day {}", measure.day());
    let Some(comparable) = comparable_strata(trained, untrained, spec, &mut result, &needs, |g| {
        measure.estimate(g)
    }) else {
        return result;
    };
    let strata: Vec<Compared> = comparable
        .iter()
        .map(|(_, _, n1, n0, (e1, v1), (e0, v0))| Compared {
            weight: *n1,
            n1: *n1,
            n0: *n0,
            trained: (*e1, Some(*v1)),
            untrained: (*e0, Some(*v0)),
        })
        .collect();
    let combined = combine(&strata, &mut result.adjusted);
    let s0 = combined.control;
    let a = &mut result.adjusted;
    a.p_value = combined.p_value();
    a.mde = formulas::minimum_detectable(combined.variance);
    if let SurvivalMeasure::At(_) = measure {
        a.read_as(super::evalue::Scale::survival(s0));
    }
    result
}

pub use super::overlap::{log_cmh, overlap_warnings};

#[cfg(test)]
#[path = "adjust_tests.rs"]
mod tests;
