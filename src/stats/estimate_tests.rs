//! One test per [`Kind`]: the value and interval of a cohort's totals and
//! the lift p-value, worked out by hand in the comments and checked against
//! statsmodels 0.14 / scipy (`proportion_confint(method="wilson")`,
//! `proportions_ztest`, `DescrStatsW.zconfint_mean`,
//! `CompareMeans.ztest_ind(usevar="unequal")`, `2·norm.sf(|z|)`); the
//! reference values are written in, not recomputed.

use super::*;

fn totals(num: f64, den: f64, sq: f64, a1: f64, a2: f64, n: f64) -> Totals {
    Totals {
        num,
        den,
        sq,
        a1,
        a2,
        n,
        ..Totals::default()
    }
}

/// Totals with the per-account cluster sums (G, ΣX², ΣXY, ΣY²).
fn clustered(t: Totals, clusters: f64, cxx: f64, cxy: f64, cyy: f64) -> Totals {
    Totals {
        clusters,
        cxx,
        cxy,
        cyy,
        ..t
    }
}

fn close(actual: Option<f64>, expected: f64, tolerance: f64) {
    let value = actual.unwrap_or(f64::NAN);
    assert!(
        (value - expected).abs() <= tolerance,
        "{value} is not {expected} ± {tolerance}"
    );
}

/// The value and the interval bounds of `kind` on `t`, each within `tolerance`.
fn check(kind: Kind, t: &Totals, value: f64, interval: (f64, f64), tolerance: f64) {
    let e = estimate(kind, t);
    close(e.value, value, tolerance);
    close(e.interval.map(|i| i.0), interval.0, tolerance);
    close(e.interval.map(|i| i.1), interval.1, tolerance);
}

#[test]
fn proportion_is_a_share_with_a_wilson_interval_and_a_pooled_z_test() {
    // 8 of 10: p = 0.8; Wilson: centre (0.8 + 1.920729/10)/1.384146 = 0.716740,
    // half 1.959964·√(0.016 + 0.009604)/1.384146 = 0.226578 → [0.490162, 0.943318]
    // (statsmodels: 0.4901625, 0.9433178).
    let t = totals(8.0, 10.0, 0.0, 0.0, 0.0, 10.0);
    check(Kind::Proportion, &t, 0.8, (0.4901625, 0.9433178), 1e-6);
    assert_eq!(
        (
            estimate(Kind::Proportion, &t).numerator,
            estimate(Kind::Proportion, &t).denominator
        ),
        (Some(8.0), Some(10.0))
    );
    // Against 5 of 10: pooled 13/20 = 0.65, se = √(0.65·0.35·(1/10 + 1/10)) = 0.213307,
    // z = 0.3/0.213307 = 1.406422 → p = 0.1595989 (statsmodels proportions_ztest).
    let u = totals(5.0, 10.0, 0.0, 0.0, 0.0, 10.0);
    close(lift_p_value(Kind::Proportion, &t, &u), 0.1595989, 1e-6);
    // No units: no value, no interval, no p-value.
    let empty = Totals::default();
    assert_eq!(estimate(Kind::Proportion, &empty).value, None);
    assert_eq!(estimate(Kind::Proportion, &empty).interval, None);
    assert_eq!(lift_p_value(Kind::Proportion, &t, &empty), None);
}

#[test]
fn percent_is_the_proportion_times_100() {
    // 8 of 10 → 80 with [49.01625, 94.33178]; the lift test is the proportion's.
    let t = totals(8.0, 10.0, 0.0, 0.0, 0.0, 10.0);
    check(Kind::Percent, &t, 80.0, (49.01625, 94.33178), 1e-4);
    let u = totals(5.0, 10.0, 0.0, 0.0, 0.0, 10.0);
    close(lift_p_value(Kind::Percent, &t, &u), 0.1595989, 1e-6);
}

#[test]
fn nps_from_promoters_and_detractors() {
    // 5 promoters, 2 detractors of 10: NPS 30, var = (0.5 + 0.2 − 0.3²)/10 = 0.061,
    // CI = 30 ± 100·1.959964·√0.061 = [−18.40754, 78.40754].
    let t = totals(3.0, 10.0, 0.0, 5.0, 2.0, 10.0);
    check(Kind::Nps, &t, 30.0, (-18.40754, 78.40754), 1e-4);
    // Against 2 promoters, 4 detractors of 8: NPS −25, var = (0.25 + 0.5 − 0.0625)/8 = 0.0859375;
    // z = 55/(100·√0.1469375) = 1.434817 → p = 0.1513394 (2·norm.sf).
    let u = totals(-2.0, 8.0, 0.0, 2.0, 4.0, 8.0);
    close(lift_p_value(Kind::Nps, &t, &u), 0.1513394, 1e-6);
    assert_eq!(estimate(Kind::Nps, &Totals::default()).value, None);
}

#[test]
fn mean_with_a_normal_interval_and_a_welch_z_test() {
    // x = 1, 2, 3, 4: Σx = 10, Σx² = 30, n = 4 → mean 2.5, s² = (30 − 25)/3 = 5/3,
    // CI = 2.5 ± 1.959964·√(5/12) = [1.234849, 3.765151] (statsmodels zconfint_mean).
    let t = totals(10.0, 4.0, 30.0, 0.0, 0.0, 4.0);
    check(Kind::Mean, &t, 2.5, (1.2348487, 3.7651513), 1e-6);
    // Against x = 0, 1, 1, 2 (Σx 4, Σx² 6): mean 1, s² = 2/3;
    // z = 1.5/√(5/12 + 1/6) = 1.963961 → p = 0.0495346 (statsmodels ztest_ind, unequal).
    let u = totals(4.0, 4.0, 6.0, 0.0, 0.0, 4.0);
    close(lift_p_value(Kind::Mean, &t, &u), 0.0495346, 1e-6);
    // One value: a mean without a variance, so no interval and no p-value.
    let one = totals(7.0, 1.0, 49.0, 0.0, 0.0, 1.0);
    let e = estimate(Kind::Mean, &one);
    assert_eq!((e.value, e.interval), (Some(7.0), None));
    assert_eq!(lift_p_value(Kind::Mean, &one, &u), None);
}

#[test]
fn counts_per_account_take_the_sample_variance_of_the_accounts_counts() {
    // Tickets of 7 accounts 0, 0, 1, 2, 5, 0, 3: Σ 11, Σ² 39, mean 1.571429,
    // s² = (39 − 11²/7)/6 = 3.619048, CI = mean ± 1.959964·√(s²/7) =
    // [0.1621520, 2.9807051] (statsmodels DescrStatsW.zconfint_mean). The
    // Poisson rule (11 ± z√11)/7 would give [0.6428, 2.5001]: too narrow for
    // these overdispersed counts.
    let t = totals(11.0, 7.0, 39.0, 0.0, 0.0, 7.0);
    check(Kind::Rate, &t, 11.0 / 7.0, (0.1621520, 2.9807051), 1e-6);
    // 6 accounts 1, 0, 0, 0, 2, 0: Σ 3, Σ² 5; the lower bound −0.1694551 clamps at 0.
    let u = totals(3.0, 6.0, 5.0, 0.0, 0.0, 6.0);
    check(Kind::Rate, &u, 0.5, (0.0, 1.1694551), 1e-6);
    // z = (1.571429 − 0.5)/√(s₁²/7 + s₀²/6) = 1.3459548 → p = 0.1783171
    // (statsmodels CompareMeans.ztest_ind(usevar="unequal")).
    close(lift_p_value(Kind::Rate, &t, &u), 0.1783171, 1e-6);
    // One account: no variance, so no interval and no p-value.
    let one = totals(4.0, 1.0, 16.0, 0.0, 0.0, 1.0);
    assert_eq!(estimate(Kind::Rate, &one).interval, None);
    assert_eq!(lift_p_value(Kind::Rate, &one, &u), None);
}

#[test]
fn median_is_passed_through_without_interval_or_test() {
    // The aggregate carries the median in `num` and the count in `n`.
    let t = totals(7.5, 3.0, 0.0, 0.0, 0.0, 3.0);
    let e = estimate(Kind::Median, &t);
    assert_eq!(
        e,
        Estimate {
            numerator: None,
            denominator: None,
            value: Some(7.5),
            interval: None,
        }
    );
    assert_eq!(estimate(Kind::Median, &Totals::default()).value, None);
    assert_eq!(lift_p_value(Kind::Median, &t, &t), None);
}

#[test]
fn association_of_cohort_and_outcome() {
    // a = 100 trained & did (of 150), c = 90 untrained & did (of 1,090): b = 50, d = 1000.
    // phi = (100·1000 − 50·90)/√(150·1090·190·1050) = 0.5287776;
    // tetrachoric cos(π/(1 + √(100000/4500))) = 0.8526281.
    let trained = totals(100.0, 150.0, 0.0, 0.0, 0.0, 150.0);
    let untrained = totals(90.0, 1090.0, 0.0, 0.0, 0.0, 1090.0);
    close(
        association(Association::Phi, &trained, &untrained),
        0.5287776,
        1e-6,
    );
    close(
        association(Association::Tetrachoric, &trained, &untrained),
        0.8526281,
        1e-6,
    );
    let kind = Kind::Association(Association::Phi);
    assert_eq!(estimate(kind, &trained), Estimate::default());
    assert_eq!(lift_p_value(kind, &trained, &untrained), None);
}

#[test]
fn ratio_of_sums_with_the_delta_method() {
    // Five accounts (end MRR X, start MRR Y in cents): (120, 100), (0, 50), (200, 200), (45, 30),
    // (80, 100): R = 445/480 = 0.9270833. ΣX² = 62825, ΣXY = 61350, ΣY² = 63400;
    // Σ(X − RY)² = 62825 − 2R·61350 + R²·63400 = 3483.9627; var = 5/4 · 3483.9627/480² = 0.01933121,
    // se 0.1390367 (statsmodels WLS of X/Y on 1 with weights Y, cov_type="HC1": 0.13903673568051914).
    let kind = Kind::Ratio { divisor: 100.0 };
    let t = clustered(
        totals(445.0, 480.0, 0.0, 0.0, 0.0, 5.0),
        5.0,
        62825.0,
        61350.0,
        63400.0,
    );
    let e = estimate(kind, &t);
    assert_eq!((e.numerator, e.denominator), (Some(4.45), Some(4.8)));
    close(e.value, 0.9270833333333334, 1e-15);
    let (_, var) = Measure::of(kind).point_and_variance(&t).unwrap();
    close(var.map(f64::sqrt), 0.13903673568051914, 1e-13);
    close(
        e.interval.map(|i| i.0),
        0.9270833 - 1.959964 * 0.1390367,
        1e-6,
    );
    // Against (90, 100), (60, 50), (10, 40): R = 160/190, se 0.1949516710239657 (statsmodels);
    // z = 0.0849781/√(0.1390367² + 0.1949517²) → p = 0.7226755 (2·norm.sf).
    let u = clustered(
        totals(160.0, 190.0, 0.0, 0.0, 0.0, 3.0),
        3.0,
        11800.0,
        12400.0,
        14100.0,
    );
    let (_, var_u) = Measure::of(kind).point_and_variance(&u).unwrap();
    close(var_u.map(f64::sqrt), 0.1949516710239657, 1e-13);
    close(lift_p_value(kind, &t, &u), 0.7226755353497462, 1e-12);
    // One account: no variance, so no interval and no p-value.
    let one = clustered(
        totals(120.0, 100.0, 0.0, 0.0, 0.0, 1.0),
        1.0,
        14400.0,
        12000.0,
        10000.0,
    );
    assert_eq!(estimate(kind, &one).interval, None);
    assert_eq!(lift_p_value(kind, &one, &u), None);
    let zero = totals(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    assert_eq!(estimate(kind, &zero).value, None);
}

#[test]
fn nested_units_take_the_cluster_robust_variance() {
    // Ten responses in four accounts, x = 1,1,0 | 0 | 1,0 | 1,1,1,0: p = 0.6; account totals
    // X = 2, 0, 1, 3 and Y = 3, 1, 2, 4: ΣX² = 14, ΣXY = 20, ΣY² = 30;
    // var = 4/3 · (14 − 2·0.6·20 + 0.36·30)/10² = 0.0106667, se 0.1032796
    // (statsmodels OLS on a constant, cov_type="cluster": 0.10327955589886442).
    let nested = Measure::nested(Kind::Proportion);
    let t = clustered(
        totals(6.0, 10.0, 0.0, 0.0, 0.0, 10.0),
        4.0,
        14.0,
        20.0,
        30.0,
    );
    let (p, var) = nested.point_and_variance(&t).unwrap();
    close(Some(p), 0.6, 1e-15);
    close(var.map(f64::sqrt), 0.10327955589886442, 1e-13);
    let e = nested.estimate(&t);
    close(
        e.interval.map(|i| i.0),
        0.6 - 1.959964 * 0.10327955589886442,
        1e-12,
    );
    close(
        e.interval.map(|i| i.1),
        0.6 + 1.959964 * 0.10327955589886442,
        1e-12,
    );
    // Against 0,0,1 | 0,0 | 1,0,0: p = 0.25, se 0.09375 (statsmodels 0.09374999999999999);
    // Wald z = 0.35/√(0.1032796² + 0.09375²) → p = 0.01209871 (2·norm.sf); the difference's
    // interval is [0.0766168, 0.6233832].
    let u = clustered(totals(2.0, 8.0, 0.0, 0.0, 0.0, 8.0), 3.0, 2.0, 6.0, 22.0);
    close(nested.lift_p_value(&t, &u), 0.012098711956422818, 1e-12);
    let sides = |t: &Totals| nested.point_and_variance(t).unwrap();
    let ((v1, var1), (v2, var2)) = (sides(&t), sides(&u));
    let ci = super::super::rows::difference_interval(Some(v1 - v2), var1, var2).unwrap();
    close(Some(ci.0), 0.07661678252061399, 1e-12);
    close(Some(ci.1), 0.623383217479386, 1e-12);
    // Percent: the same × 100.
    let percent = Measure::nested(Kind::Percent)
        .point_and_variance(&t)
        .unwrap();
    close(percent.1.map(f64::sqrt), 10.327955589886442, 1e-11);

    // NPS, scores 10,9,3 | 7 | 10,2 | 9,9,6,8: 5 promoters, 3 detractors of 10 → 20;
    // x = 100·(promoter − detractor), account totals X/100 = 1, 0, 0, 1: ΣX² = 2, ΣXY = 7, ΣY² = 30;
    // var = 100² · 4/3 · (2 − 2·0.2·7 + 0.04·30)/10² = 53.3333, se 7.302967 (statsmodels 7.302967433402212).
    let nps = clustered(totals(2.0, 10.0, 0.0, 5.0, 3.0, 10.0), 4.0, 2.0, 7.0, 30.0);
    let (value, var) = Measure::nested(Kind::Nps).point_and_variance(&nps).unwrap();
    close(Some(value), 20.0, 1e-12);
    close(var.map(f64::sqrt), 7.302967433402212, 1e-12);

    // Mean of scores 80, 90 | 70 | 60, 100, 95: 82.5; X = 170, 70, 255, Y = 2, 1, 3:
    // ΣX² = 98825, ΣXY = 1175, ΣY² = 14; var = 3/2 · 237.5/36 = 9.895833,
    // se 3.145764 (statsmodels 3.145764348029473).
    let mean = clustered(
        totals(495.0, 6.0, 42025.0, 0.0, 0.0, 6.0),
        3.0,
        98825.0,
        1175.0,
        14.0,
    );
    let (value, var) = Measure::nested(Kind::Mean)
        .point_and_variance(&mean)
        .unwrap();
    close(Some(value), 82.5, 1e-12);
    close(var.map(f64::sqrt), 3.145764348029473, 1e-12);
    // With one unit per account CR1 is the plain rule: s²/n.
    let plain = clustered(totals(10.0, 4.0, 30.0, 0.0, 0.0, 4.0), 4.0, 30.0, 10.0, 4.0);
    let cr1 = Measure::nested(Kind::Mean)
        .point_and_variance(&plain)
        .unwrap()
        .1;
    let iid = Measure::of(Kind::Mean)
        .point_and_variance(&plain)
        .unwrap()
        .1;
    close(cr1, iid.unwrap(), 1e-12);
}

#[test]
fn difference_interval_needs_both_variances_and_a_nonzero_error() {
    use super::super::rows::difference_interval;
    // 0.3 ± 1.959964·√(0.01 + 0.0125) = [0.0060000, 0.5940000].
    let ci = difference_interval(Some(0.3), Some(0.01), Some(0.0125)).unwrap();
    close(Some(ci.0), 0.3 - 1.959964 * 0.15, 1e-12);
    close(Some(ci.1), 0.3 + 1.959964 * 0.15, 1e-12);
    assert_eq!(difference_interval(Some(0.3), None, Some(0.01)), None);
    assert_eq!(difference_interval(Some(0.0), Some(0.0), Some(0.0)), None);
    assert_eq!(difference_interval(None, Some(0.1), Some(0.1)), None);
}

#[test]
fn benjamini_hochberg_matches_statsmodels() {
    // statsmodels multipletests(method="fdr_bh") of [0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9]:
    // [0.035, 0.056, 0.056, 0.035, 0.23333333333333336, 0.056, 0.9]; nulls are outside the family.
    let p = [
        Some(0.01),
        None,
        Some(0.04),
        Some(0.03),
        Some(0.005),
        Some(0.2),
        None,
        Some(0.04),
        Some(0.9),
    ];
    let q = formulas::benjamini_hochberg(&p);
    let expected = [
        Some(0.035),
        None,
        Some(0.056),
        Some(0.056),
        Some(0.035),
        Some(0.23333333333333336),
        None,
        Some(0.056),
        Some(0.9),
    ];
    for (q, e) in q.iter().zip(expected) {
        match (q, e) {
            (Some(q), Some(e)) => assert!((q - e).abs() < 1e-15, "{q} vs {e}"),
            (None, None) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(formulas::benjamini_hochberg(&[]).is_empty());
}

#[test]
fn lifetime_value_takes_its_log_scale_interval_and_the_delta_variance() {
    // The totals of `stats::lifetime`'s hand computation: CLV 2153.451913 over 36 months,
    // var(log CLV) = 0.022491608, interval [1605.013754, 2889.293086]; the variance the
    // difference's interval and Wald test read is CLV² · var(log CLV).
    let kind = Kind::LifetimeValue(crate::stats::lifetime::Lifetime {
        months: 12,
        margin: 0.8,
        horizon: Some(36),
        discount_annual: 0.0,
    });
    // 100 accounts at S, `retained` of them kept; four of them with revenue.
    let with_retained = |retained: f64| {
        clustered(
            totals(retained, 100.0, 0.0, 1_200_000.0, 120.0, 100.0),
            4.0,
            3.8e11,
            3.6e7,
            3600.0,
        )
    };
    let t = with_retained(81.0);
    let e = estimate(kind, &t);
    close(e.value, 2153.4519131640054, 1e-9);
    close(e.interval.map(|i| i.0), 1605.0137541756594, 1e-5);
    close(e.interval.map(|i| i.1), 2889.293085648027, 1e-5);
    assert_eq!((e.numerator, e.denominator), (None, None));
    let (_, var) = Measure::of(kind).point_and_variance(&t).unwrap();
    close(
        var,
        2153.4519131640054f64.powi(2) * 0.02249160820773895,
        1e-3,
    );
    // Everyone retained: 36 months of margin, compared like any other value.
    let kept = with_retained(100.0);
    close(estimate(kind, &kept).value, 2880.0, 1e-9);
    assert!(lift_p_value(kind, &t, &kept).is_some());
}
