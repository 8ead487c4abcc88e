//! What the adjusted comparison warns about (docs/STATISTICS.md, "Overlap"
//! and "Cochran–Mantel–Haenszel cross-check"): trained units in strata the
//! untrained do not reach, untrained units unused, and the CMH cross-check
//! in the log.

use super::adjust::AdjustSpec;

/// docs/STATISTICS.md#overlap: trained units in strata that cannot be compared are
/// "left out of the adjusted estimate, counted, and warned about" — one
/// warning per run over every lift row (survival's too), naming how many
/// rows lost units, the largest share lost and the rows left null.
pub fn overlap_warnings(rows: &[super::rows::LiftRow], spec: Option<&AdjustSpec>) -> Vec<String> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let mut warnings = trained_left_out(rows, spec);
    warnings.extend(untrained_unused(rows, spec));
    warnings
}

/// The warning about untrained units in strata where too few (or no)
/// accounts trained: the ATT weighs those strata by zero, so the adjusted
/// estimate says nothing about them (a plan where nobody trains).
fn untrained_unused(rows: &[super::rows::LiftRow], spec: &AdjustSpec) -> Option<String> {
    let share = |r: &super::rows::LiftRow| r.adjusted.untrained_unused / r.adjusted.untrained_units;
    let touched: Vec<_> = rows
        .iter()
        .filter(|r| r.adjusted.untrained_unused > 0.0 && r.adjusted.untrained_units > 0.0)
        .collect();
    let worst = touched
        .iter()
        .max_by(|a, b| share(a).total_cmp(&share(b)))?;
    Some(format!(
        "adjust: in {} lift row(s) some untrained units are in strata with fewer than {} trained \
         units: the adjusted estimate, the effect on the trained, says nothing about them (up to \
         {:.1} % of the untrained units, in `{}`; see n_untrained_adjusted and the balance table)",
        touched.len(),
        spec.min_per_arm,
        100.0 * share(worst),
        worst.metric
    ))
}

/// The warning about trained units left out of the adjusted estimate.
fn trained_left_out(rows: &[super::rows::LiftRow], spec: &AdjustSpec) -> Vec<String> {
    let touched: Vec<_> = rows
        .iter()
        .filter(|r| r.adjusted.left_out > 0.0 && r.adjusted.trained_units > 0.0)
        .collect();
    let Some(worst) = touched.iter().max_by(|a, b| {
        let share = |r: &&&super::rows::LiftRow| r.adjusted.left_out / r.adjusted.trained_units;
        share(a).total_cmp(&share(b))
    }) else {
        return Vec::new();
    };
    let null = touched
        .iter()
        .filter(|r| r.adjusted.abs_diff.is_none())
        .count();
    vec![format!(
        "adjust: in {} lift row(s) some trained units are in strata with fewer than {} trained or \
         untrained units and are left out of the adjusted estimate (up to {:.1} % of the trained \
         units, in `{}`; see n_trained_adjusted); {null} row(s) have null adjusted columns \
         because more than half were left out",
        touched.len(),
        spec.min_per_arm,
        100.0 * worst.adjusted.left_out / worst.adjusted.trained_units,
        worst.metric
    )]
}

/// The CMH cross-check in the log (docs/STATISTICS.md, "Adjustment"): how
/// many proportion rows have one, and the overall rows' Wald and CMH
/// p-values side by side.
pub fn log_cmh(lift_rows: &[super::LiftRow], period_start: i32) {
    let checked: Vec<_> = lift_rows
        .iter()
        .filter(|r| r.adjusted.cmh_p_value.is_some())
        .collect();
    if checked.is_empty() {
        return;
    }
    let overall: Vec<String> = checked
        .iter()
        .filter(|r| r.segment.is_none() && r.dimension.is_none() && r.period_start == period_start)
        .map(|r| {
            format!(
                "{} {:.2e} / {:.2e}",
                r.metric,
                r.adjusted.p_value.unwrap_or(f64::NAN),
                r.adjusted.cmh_p_value.unwrap_or(f64::NAN)
            )
        })
        .collect();
    crate::log::info(
        "statistics",
        &format!(
            "adjust: Cochran–Mantel–Haenszel cross-check of {} proportion row(s) in the manifest \
             (adjust.cmh); adjusted Wald p / CMH p of the overall rows: {}",
            checked.len(),
            overall.join(", ")
        ),
    );
}
