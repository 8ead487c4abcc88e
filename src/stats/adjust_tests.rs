//! Direct standardization worked out by hand in the comments; the E-value
//! against the published worked example of VanderWeele & Ding (2017,
//! Ann Intern Med 167:268: an observed risk ratio of 3.9 has an E-value of
//! 7.26) and the normal tail from scipy (`2·norm.sf`).

use super::*;

fn share(hits: f64, units: f64) -> Totals {
    Totals {
        num: hits,
        den: units,
        n: units,
        clusters: units,
        ..Totals::default()
    }
}

fn strata(rows: &[(&str, Totals)]) -> ByStratum {
    rows.iter()
        .map(|(k, t)| (Some(k.to_string()), *t))
        .collect()
}

fn spec(min_per_arm: f64) -> AdjustSpec {
    AdjustSpec {
        method: "stratify",
        min_per_arm,
    }
}

fn close(actual: Option<f64>, expected: f64) {
    let value = actual.unwrap_or(f64::NAN);
    assert!(
        (value - expected).abs() < 1e-12,
        "{value} is not {expected}"
    );
}

#[test]
fn the_untrained_are_standardized_to_the_trained_strata() {
    // Stratum A: trained 8/10, untrained 30/50; stratum B: trained 2/20, untrained 1/10.
    // Naive: 10/30 = 0.3333 vs 31/60 = 0.5167 — the untrained are mostly in A, where the share is high.
    // Weights by trained units: w_A = 10/30, w_B = 20/30.
    // θ₁ = (1/3)·0.8 + (2/3)·0.1 = 1/3; θ₀* = (1/3)·0.6 + (2/3)·0.1 = 0.266667; difference 0.0666667.
    // Var = (1/9)·(0.8·0.2/10 + 0.6·0.4/50) + (4/9)·(0.1·0.9/20 + 0.1·0.9/10) = 0.00831111,
    // se 0.0911653, CI [−0.1120140, 0.2453474], p = 2·norm.sf(0.0666667/0.0911653) = 0.4646128.
    // E-value: RR = (1/3)/0.266667 = 1.25 → 1.25 + √(1.25·0.25) = 1.8090170.
    let trained = strata(&[("A", share(8.0, 10.0)), ("B", share(2.0, 20.0))]);
    let untrained = strata(&[("A", share(30.0, 50.0)), ("B", share(1.0, 10.0))]);
    let s = standardize(
        Measure::of(Kind::Proportion),
        &trained,
        &untrained,
        &spec(5.0),
    );
    let a = &s.adjusted;
    close(a.untrained_value, 0.2 + 0.2 / 3.0);
    close(a.abs_diff, 0.06666666666666665);
    close(a.ci_low, -0.11201403064341114);
    close(a.ci_high, 0.24534736397674445);
    close(a.p_value, 0.4646127705447973);
    close(a.e_value, 1.8090169943749475);
    assert_eq!((a.n_trained, a.n_untrained), (Some(30), Some(60)));
    assert_eq!(
        (a.method.as_deref(), a.note.as_deref()),
        (Some("stratify"), None)
    );
    assert_eq!((s.left_out, s.trained_units), (0.0, 30.0));
    // The CMH cross-check: statsmodels StratifiedTable([[8, 2], [30, 20]], [[2, 18], [1, 9]])
    // .test_null_odds(correction=False): χ² 1.0730502, p 0.3002575.
    close(s.cmh_p_value, 0.30025749357291676);
}

#[test]
fn strata_without_enough_units_are_left_out_and_counted() {
    // Stratum C has 10 trained and only 4 untrained units (< min_per_arm 5): left out.
    // The rest is the example above: the same estimate, 10 of 40 trained units left out.
    let trained = strata(&[
        ("A", share(8.0, 10.0)),
        ("B", share(2.0, 20.0)),
        ("C", share(9.0, 10.0)),
    ]);
    let untrained = strata(&[
        ("A", share(30.0, 50.0)),
        ("B", share(1.0, 10.0)),
        ("C", share(1.0, 4.0)),
    ]);
    let s = standardize(
        Measure::of(Kind::Proportion),
        &trained,
        &untrained,
        &spec(5.0),
    );
    close(s.adjusted.abs_diff, 0.06666666666666665);
    assert_eq!((s.left_out, s.trained_units), (10.0, 40.0));
    assert_eq!(s.adjusted.n_trained, Some(30));
    // With C at 40 trained units, more than half are left out: null with the reason.
    let trained = strata(&[
        ("A", share(8.0, 10.0)),
        ("B", share(2.0, 20.0)),
        ("C", share(36.0, 40.0)),
    ]);
    let s = standardize(
        Measure::of(Kind::Proportion),
        &trained,
        &untrained,
        &spec(5.0),
    );
    assert_eq!(s.adjusted.abs_diff, None);
    assert_eq!(s.adjusted.p_value, None);
    let note = s.adjusted.note.unwrap();
    assert!(
        note.contains("40 of 70 trained units (57 %)") && note.contains("fewer than 5"),
        "{note}"
    );
    // A stratum the untrained never reach counts as left out too.
    let only_trained = strata(&[("A", share(8.0, 10.0)), ("D", share(1.0, 10.0))]);
    let s = standardize(
        Measure::of(Kind::Proportion),
        &only_trained,
        &strata(&[("A", share(30.0, 50.0))]),
        &spec(5.0),
    );
    assert_eq!((s.left_out, s.trained_units), (10.0, 20.0));
    close(s.adjusted.abs_diff, 0.2);
}

#[test]
fn ratios_of_sums_are_weighted_by_the_trained_base() {
    // NRR in two strata: trained base 300 (X 330) and 100 (X 80); untrained 200 (X 200), 400 (X 280).
    // w = 300/400, 100/400: θ₁ = 0.75·1.1 + 0.25·0.8 = 1.025 = 410/400 (the trained NRR);
    // θ₀* = 0.75·1.0 + 0.25·0.7 = 0.925; difference 0.1. No E-value for a ratio of sums.
    let ratio = |x: f64, y: f64| Totals {
        num: x,
        den: y,
        n: 10.0,
        clusters: 10.0,
        cxx: x * x / 10.0 + 1.0,
        cxy: x * y / 10.0,
        cyy: y * y / 10.0,
        ..Totals::default()
    };
    let trained = strata(&[("A", ratio(330.0, 300.0)), ("B", ratio(80.0, 100.0))]);
    let untrained = strata(&[("A", ratio(200.0, 200.0)), ("B", ratio(280.0, 400.0))]);
    let kind = Kind::Ratio { divisor: 100.0 };
    let s = standardize(Measure::of(kind), &trained, &untrained, &spec(5.0));
    close(s.adjusted.untrained_value, 0.925);
    close(s.adjusted.abs_diff, 0.1);
    assert!(s.adjusted.p_value.is_some());
    assert_eq!(s.adjusted.e_value, None);
}

#[test]
fn medians_and_lifetime_values_are_not_adjusted_and_say_why() {
    let t = strata(&[("A", share(1.0, 10.0))]);
    for kind in [
        Kind::Median,
        Kind::LifetimeValue(crate::stats::lifetime::Lifetime {
            months: 12,
            margin: 1.0,
            horizon: Some(36),
            discount_annual: 0.0,
        }),
    ] {
        let s = standardize(Measure::of(kind), &t, &t, &spec(1.0));
        assert_eq!(s.adjusted.abs_diff, None);
        assert!(s.adjusted.note.unwrap().starts_with("not adjusted"));
    }
}

#[test]
fn survival_is_standardized_with_greenwood_and_the_stratified_log_rank_test() {
    // Stratum X: trained 1, 2+, 3, 4, 5+; untrained 2, 3, 4+, 6.
    // Stratum Y: trained 2, 4+, 6+, 8; untrained 1, 1, 3, 5+, 7 (+ = censored).
    // At day 3: S₁X 0.533333 (Greenwood 0.0616296), S₀X 0.5 (0.0625), S₁Y 0.75 (0.046875),
    // S₀Y 0.4 (0.048) — statsmodels SurvfuncRight. w = 5/9, 4/9:
    // S₁ = 0.6296296, S₀* = 0.4555556, difference 0.1740741, var = Σ w²(V₁ + V₀) = 0.0570524
    // (exact fractions: 0.05705235482395976), Wald z = 0.728784 → p = 0.4661354 (scipy 2·norm.sf).
    // The log-rank row: stratified log-rank p = 0.5051606 (statsmodels survdiff(strata=…)).
    let lifetimes = |rows: &[(i64, bool)]| {
        let mut g = formulas::Lifetimes::new();
        for (t, event) in rows {
            let e = g.entry(*t).or_insert((0.0, 0.0));
            if *event {
                e.0 += 1.0
            } else {
                e.1 += 1.0
            }
        }
        g
    };
    let by = |x: formulas::Lifetimes, y: formulas::Lifetimes| -> LifetimesByStratum {
        [(Some("X".to_string()), x), (Some("Y".to_string()), y)]
            .into_iter()
            .collect()
    };
    let trained = by(
        lifetimes(&[(1, true), (2, false), (3, true), (4, true), (5, false)]),
        lifetimes(&[(2, true), (4, false), (6, false), (8, true)]),
    );
    let untrained = by(
        lifetimes(&[(2, true), (3, true), (4, false), (6, true)]),
        lifetimes(&[(1, true), (1, true), (3, true), (5, false), (7, true)]),
    );
    let s = standardize_survival(&trained, &untrained, SurvivalMeasure::At(3), &spec(4.0));
    let a = &s.adjusted;
    close(a.untrained_value, 0.4555555555555556);
    close(a.abs_diff, 0.17407407407407416);
    close(a.ci_low, -0.29407576853761674);
    close(a.ci_high, 0.6422239166857651);
    close(a.p_value, 0.4661353637559158);
    assert_eq!((a.n_trained, a.n_untrained), (Some(9), Some(9)));
    let log_rank = standardize_log_rank(&trained, &untrained, &spec(4.0));
    let a = &log_rank.adjusted;
    close(a.p_value, 0.5051606050753541);
    assert_eq!((a.abs_diff, a.ci_low, a.e_value), (None, None, None));
    assert_eq!((a.n_trained, a.n_untrained), (Some(9), Some(9)));
    // min_per_arm 5 leaves stratum Y (4 trained) and X (4 untrained) out: null with the reason.
    let s = standardize_survival(&trained, &untrained, SurvivalMeasure::At(3), &spec(5.0));
    assert_eq!(s.adjusted.abs_diff, None);
    assert!(s.adjusted.note.unwrap().contains("9 of 9 trained units"));
}

#[test]
fn the_overlap_warning_counts_every_lift_row_with_units_left_out() {
    use super::super::rows::{LiftRow, RowKey, Side};
    use super::super::Direction;
    let key = RowKey {
        segment: None,
        dimension: None,
        period_start: 0,
        period_end: 1,
    };
    let row = |metric: &str, left_out: f64, null: bool| {
        let mut r = LiftRow::compare(
            metric,
            &key,
            Side::default(),
            Side::default(),
            None,
            0.05,
            Direction::HigherIsBetter,
        );
        r.adjusted.left_out = left_out;
        r.adjusted.trained_units = 100.0;
        r.adjusted.abs_diff = (!null).then_some(0.1);
        r
    };
    // Survival rows are finished by their metric, not the stage: they count too.
    let rows = [
        row("churn_rate", 0.0, false),
        row("nps", 10.0, false),
        row("survival", 60.0, true),
    ];
    let warnings = overlap_warnings(&rows, Some(&spec(5.0)));
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("in 2 lift row(s)")
            && warnings[0].contains("up to 60.0 %")
            && warnings[0].contains("in `survival`")
            && warnings[0].contains("1 row(s) have null"),
        "{}",
        warnings[0]
    );
    assert!(overlap_warnings(&rows[..1], Some(&spec(5.0))).is_empty());
    assert!(overlap_warnings(&rows, None).is_empty());
}

#[test]
fn a_stratum_where_nobody_trained_is_counted_and_warned_about() {
    use super::super::rows::{LiftRow, RowKey, Side};
    use super::super::Direction;
    // Nobody in B trained: the ATT weighs B by zero (the estimate is A's),
    // and B's 40 of 90 untrained units are outside the comparison.
    let trained = strata(&[("A", share(8.0, 10.0))]);
    let untrained = strata(&[("A", share(30.0, 50.0)), ("B", share(4.0, 40.0))]);
    let s = standardize(
        Measure::of(Kind::Proportion),
        &trained,
        &untrained,
        &spec(5.0),
    );
    close(s.adjusted.abs_diff, 0.2);
    assert_eq!((s.left_out, s.trained_units), (0.0, 10.0));
    assert_eq!((s.untrained_unused, s.untrained_units), (40.0, 90.0));
    let key = RowKey {
        segment: None,
        dimension: None,
        period_start: 0,
        period_end: 1,
    };
    let mut row = LiftRow::compare(
        "churn_rate",
        &key,
        Side::default(),
        Side::default(),
        None,
        0.05,
        Direction::LowerIsBetter,
    );
    row.adjusted = s.into_adjusted();
    let warnings = overlap_warnings(std::slice::from_ref(&row), Some(&spec(5.0)));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("in 1 lift row(s) some untrained units")
            && warnings[0].contains("fewer than 5 trained")
            && warnings[0].contains("up to 44.4 %")
            && warnings[0].contains("in `churn_rate`"),
        "{}",
        warnings[0]
    );
}
