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
fn rate_per_account_with_a_poisson_interval() {
    // 4 tickets on 10 accounts: 0.4, CI (4 ± 1.959964·2)/10 = [0.0080072, 0.7919928].
    let t = totals(4.0, 10.0, 0.0, 0.0, 0.0, 10.0);
    check(Kind::Rate, &t, 0.4, (0.0080072, 0.7919928), 1e-6);
    // Against 10 on 10: z = −0.6/√(4/100 + 10/100) = −1.603567 → p = 0.1088094.
    let u = totals(10.0, 10.0, 0.0, 0.0, 0.0, 10.0);
    close(lift_p_value(Kind::Rate, &t, &u), 0.1088094, 1e-6);
}

#[test]
fn count_with_a_poisson_interval_and_no_test() {
    // 4 referrals: value 4, CI 4 ± 1.959964·2 = [0.080072, 7.919928]; no p-value.
    let t = totals(4.0, 10.0, 0.0, 0.0, 0.0, 10.0);
    check(Kind::Count, &t, 4.0, (0.080072, 7.919928), 1e-6);
    assert_eq!(lift_p_value(Kind::Count, &t, &t), None);
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
fn ratio_of_sums_in_currency_units() {
    // Σ expansion 12,500 cents over Σ MRR 10,000 cents: 1.25, shown as 125.00 / 100.00.
    let t = totals(12500.0, 10000.0, 0.0, 0.0, 0.0, 3.0);
    let e = estimate(Kind::Ratio { divisor: 100.0 }, &t);
    assert_eq!((e.numerator, e.denominator), (Some(125.0), Some(100.0)));
    close(e.value, 1.25, 1e-12);
    assert_eq!(e.interval, None);
    let zero = totals(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    assert_eq!(estimate(Kind::Ratio { divisor: 100.0 }, &zero).value, None);
    assert_eq!(lift_p_value(Kind::Ratio { divisor: 100.0 }, &t, &t), None);
}

#[test]
fn lifetime_value_from_arpa_margin_and_monthly_churn() {
    // Σ MRR 1,200,000 cents over 120 paid account-months: ARPA = 100.
    // Logo retention 81/100 over 12 months: c = 1 − 0.81^(1/12) = 0.01740681.
    // CLV = 100 · 0.8 / 0.01740681 = 4595.903.
    let kind = Kind::LifetimeValue {
        months: 12,
        margin: 0.8,
    };
    let t = totals(81.0, 100.0, 0.0, 1_200_000.0, 120.0, 100.0);
    let e = estimate(kind, &t);
    close(e.value, 4595.9034, 1e-3);
    assert_eq!((e.numerator, e.interval), (None, None));
    // Everyone retained: c = 0, no value.
    let kept = totals(100.0, 100.0, 0.0, 1_200_000.0, 120.0, 100.0);
    assert_eq!(estimate(kind, &kept).value, None);
    assert_eq!(lift_p_value(kind, &t, &kept), None);
}
