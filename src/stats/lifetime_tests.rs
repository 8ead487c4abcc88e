//! The lifetime value by hand and against a bootstrap over accounts. The
//! reference numbers were computed once with numpy (the formula summed term
//! by term, central differences of log CLV for the delta method, and 2,000
//! resamples of the accounts below with `default_rng(20261206)`) and are
//! written in.

use super::*;

fn close(actual: Option<f64>, expected: f64, tolerance: f64) {
    let value = actual.unwrap_or(f64::NAN);
    assert!(
        (value - expected).abs() <= tolerance,
        "{value} is not {expected} ± {tolerance}"
    );
}

fn lifetime(horizon: Option<u32>, discount_annual: f64) -> Lifetime {
    Lifetime {
        months: 12,
        margin: 0.8,
        horizon,
        discount_annual,
    }
}

/// Σ MRR 1,200,000 cents over 120 paid account-months (ARPA 100), retention
/// 81 of 100 over 12 months; four accounts of 30 paid months with 3,000,
/// 2,000, 4,000 and 3,000 dollars.
fn totals() -> Totals {
    Totals {
        num: 81.0,
        den: 100.0,
        a1: 1_200_000.0,
        a2: 120.0,
        n: 100.0,
        clusters: 4.0,
        cxx: 3.8e11,
        cxy: 3.6e7,
        cyy: 3600.0,
        ..Totals::default()
    }
}

#[test]
fn the_expected_margin_over_the_horizon_by_hand() {
    // c = 1 − 0.81^(1/12) = 0.01740681, q = 1 − c, so q^36 = 0.81³ = 0.531441:
    // Σ_{m<36} q^m = (1 − 0.531441)/0.01740681 = 26.918149, CLV = 100 · 0.8 · 26.918149 = 2153.451913.
    close(
        lifetime(Some(36), 0.0).estimate(&totals()).map(|e| e.value),
        2153.4519131640054,
        1e-9,
    );
    // The infinite horizon is the limit ARPA · margin / c = 80/0.01740681 = 4595.903426.
    close(
        lifetime(None, 0.0).estimate(&totals()).map(|e| e.value),
        4595.90342553233,
        1e-8,
    );
    // A 10 % annual discount: q = (1 − c)/1.1^(1/12) → 1908.552114.
    close(
        lifetime(Some(36), 0.10)
            .estimate(&totals())
            .map(|e| e.value),
        1908.5521142033974,
        1e-9,
    );
    // A horizon of one month is one month of margin: 80.
    close(
        lifetime(Some(1), 0.0).estimate(&totals()).map(|e| e.value),
        80.0,
        1e-12,
    );
}

#[test]
fn the_interval_is_on_the_log_scale_and_cannot_go_below_0() {
    // var(ARPA) = 4/3 · 2·10¹⁰/120²/100² = 185.185, var(r) = 0.81·0.19/100: var(log CLV) = 0.022491608
    // (central differences of log CLV in numpy), interval 2153.45 · exp(±1.959964·√var) =
    // [1605.013754, 2889.293086].
    let e = lifetime(Some(36), 0.0).estimate(&totals()).unwrap();
    close(e.log_variance, 0.02249160820773895, 1e-9);
    close(e.interval().map(|i| i.0), 1605.0137541756594, 1e-5);
    close(e.interval().map(|i| i.1), 2889.293085648027, 1e-5);
    close(
        e.variance(),
        2153.4519131640054f64.powi(2) * 0.02249160820773895,
        1e-3,
    );
    // Everyone retained: the horizon bounds the value (36 months of margin, no uncertainty
    // from churn); the infinite horizon has none.
    let kept = Totals {
        num: 100.0,
        ..totals()
    };
    close(
        lifetime(Some(36), 0.0).estimate(&kept).map(|e| e.value),
        2880.0,
        1e-9,
    );
    assert_eq!(lifetime(None, 0.0).estimate(&kept), None);
    // Everyone churned: one month of margin (the month before the churn).
    let lost = Totals {
        num: 0.0,
        ..totals()
    };
    let e = lifetime(Some(36), 0.0).estimate(&lost).unwrap();
    close(Some(e.value), 80.0, 1e-9);
    assert!(e.interval().unwrap().0 > 0.0);
}

#[test]
fn the_interval_is_as_wide_as_a_bootstrap_over_accounts() {
    // 200 accounts i = 0 … 199: paid months 12 (5 when i % 7 = 0), MRR 40 + (37·i mod 160) dollars,
    // churned when i % 6 = 0 (34 of 200). numpy: CLV 2630.042743; 2,000 resamples of the accounts give
    // the percentile interval [2370.489, 2893.342], width 522.852.
    let mut t = Totals {
        den: 200.0,
        n: 200.0,
        clusters: 200.0,
        ..Totals::default()
    };
    for i in 0..200u32 {
        let paid = if i % 7 != 0 { 12.0 } else { 5.0 };
        let revenue = f64::from(40 + (37 * i) % 160) * 100.0 * paid;
        t.num += if i % 6 == 0 { 0.0 } else { 1.0 };
        t.a1 += revenue;
        t.a2 += paid;
        t.cxx += revenue * revenue;
        t.cxy += revenue * paid;
        t.cyy += paid * paid;
    }
    let e = lifetime(Some(36), 0.0).estimate(&t).unwrap();
    close(Some(e.value), 2630.042743468858, 1e-6);
    let (low, high) = e.interval().unwrap();
    let width = high - low;
    assert!(
        (width - 522.852).abs() <= 0.15 * 522.852,
        "width {width} ({low}, {high}) against the bootstrap's 522.852"
    );
}
