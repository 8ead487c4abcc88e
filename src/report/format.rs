//! How the report writes numbers: each metric in its natural unit, the
//! difference in that unit's difference (percentage points for shares),
//! p-values and counts.

pub use crate::metrics::presentation::Unit;

/// The unit of a metric's row (`dimension` as in `lift`), from the catalog.
pub fn unit_of(metric: &str, dimension: Option<&str>) -> Unit {
    crate::catalog::unit(metric, dimension)
}

/// `value` with `places` decimals (ASCII minus); a zero loses its sign.
fn decimals(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    // "-0.0" reads as a sign without a number.
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text
    }
}

/// A value in its unit: `11.0 %`, `26.7`, `340.6 days`, `$1,234`.
pub fn value(unit: Unit, v: Option<f64>) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else {
        return "–".to_string();
    };
    let text = match unit {
        Unit::Share => format!("{} %", decimals(100.0 * v, 1)),
        Unit::Percent => format!("{} %", decimals(v, 1)),
        Unit::Nps => decimals(v, 1),
        Unit::Days => format!("{} days", decimals(v, 1)),
        Unit::Money => money(v),
        Unit::Number => decimals(v, if v.abs() >= 100.0 { 0 } else { 2 }),
    };
    text.replacen('-', "−", 1)
}

/// A difference in its unit, with its sign: `−15.0 pts`, `+31.2 days`.
pub fn difference(unit: Unit, d: Option<f64>) -> String {
    let Some(d) = d.filter(|d| d.is_finite()) else {
        return "–".to_string();
    };
    let sign = |text: String| {
        if text.starts_with('-') {
            format!("−{}", &text[1..])
        } else if text.chars().all(|c| c == '0' || c == '.') {
            text
        } else {
            format!("+{text}")
        }
    };
    match unit {
        Unit::Share => format!("{} pts", sign(decimals(100.0 * d, 1))),
        Unit::Percent | Unit::Nps => format!("{} pts", sign(decimals(d, 1))),
        Unit::Days => format!("{} days", sign(decimals(d, 1))),
        Unit::Money => sign(money(d).replace('−', "-")),
        Unit::Number => sign(decimals(d, 2)),
    }
}

/// A relative change with its sign: `−57.7 %`, `+4.2 %`.
pub fn relative(r: f64) -> String {
    let text = decimals(100.0 * r, 1);
    match text.strip_prefix('-') {
        Some(rest) => format!("−{rest} %"),
        None if text.chars().all(|c| c == '0' || c == '.') => format!("{text} %"),
        None => format!("+{text} %"),
    }
}

/// An interval of differences: `−16.7 to −6.0 pts`.
pub fn interval(unit: Unit, low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(l), Some(h)) if l.is_finite() && h.is_finite() => {
            let (l, h) = (difference(unit, Some(l)), difference(unit, Some(h)));
            let suffix = [" pts", " days"].into_iter().find(|s| h.ends_with(s));
            match suffix {
                Some(s) => format!("{} to {h}", l.trim_end_matches(s)),
                None => format!("{l} to {h}"),
            }
        }
        _ => "no interval".to_string(),
    }
}

/// A difference with its interval: `−15.0 pts (−20.6 to −9.4 pts)`.
pub fn estimate(unit: Unit, diff: Option<f64>, ci: (Option<f64>, Option<f64>)) -> String {
    format!(
        "{} ({})",
        difference(unit, diff),
        interval(unit, ci.0, ci.1)
    )
}

/// Digits grouped by thousands: `1234567` → `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Money with thousands separators, no cents: `$1,234`, `−$56`.
pub fn money(v: f64) -> String {
    let rounded = v.abs().round() as u64;
    let sign = if v < 0.0 && rounded > 0 { "−" } else { "" };
    format!("{sign}${}", grouped(rounded))
}

/// Money for an axis: `$0`, `$950`, `$12k`, `$1.5M`, `−$40k`.
pub fn money_short(v: f64) -> String {
    let sign = if v < 0.0 { "−" } else { "" };
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e6 {
        (a / 1e6, "M")
    } else if a >= 1e3 {
        (a / 1e3, "k")
    } else {
        (a, "")
    };
    let text = if suffix.is_empty() || scaled >= 10.0 {
        format!("{scaled:.0}")
    } else {
        decimals(scaled, 1).trim_end_matches(".0").to_string()
    };
    if text == "0" {
        return "$0".to_string();
    }
    format!("{sign}${text}{suffix}")
}

/// A p- or q-value: `0.0018`, `< 0.0001`, `0.31`.
pub fn p_value(p: Option<f64>) -> String {
    match p {
        None => "–".to_string(),
        Some(p) if p < 0.0001 => "< 0.0001".to_string(),
        Some(p) if p < 0.01 => format!("{p:.4}"),
        Some(p) => format!("{p:.2}"),
    }
}

/// A count with thousands separators: `1,099`.
pub fn count(n: i64) -> String {
    let sign = if n < 0 { "−" } else { "" };
    format!("{sign}{}", grouped(n.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_differences_in_their_units() {
        assert_eq!(value(Unit::Share, Some(0.110266)), "11.0 %");
        assert_eq!(value(Unit::Share, None), "–");
        assert_eq!(value(Unit::Nps, Some(-32.6)), "−32.6");
        assert_eq!(value(Unit::Days, Some(340.565)), "340.6 days");
        assert_eq!(value(Unit::Number, Some(4.376426)), "4.38");
        assert_eq!(value(Unit::Money, Some(12345.6)), "$12,346");
        assert_eq!(difference(Unit::Share, Some(-0.150103)), "−15.0 pts");
        assert_eq!(difference(Unit::Days, Some(31.165)), "+31.2 days");
        assert_eq!(difference(Unit::Nps, Some(59.3)), "+59.3 pts");
        assert_eq!(difference(Unit::Share, Some(-0.00001)), "0.0 pts");
        assert_eq!(difference(Unit::Money, Some(-56.2)), "−$56");
        assert_eq!(
            interval(Unit::Share, Some(-0.167), Some(-0.060)),
            "−16.7 to −6.0 pts"
        );
        assert_eq!(
            interval(Unit::Number, Some(-1.7), Some(0.25)),
            "−1.70 to +0.25"
        );
        assert_eq!(interval(Unit::Share, None, Some(0.1)), "no interval");
        assert_eq!(relative(-0.576923), "−57.7 %");
        assert_eq!(relative(0.042), "+4.2 %");
        assert_eq!(relative(0.0), "0.0 %");
    }

    #[test]
    fn p_values_and_counts() {
        assert_eq!(p_value(Some(0.0017721)), "0.0018");
        assert_eq!(p_value(Some(6.7e-11)), "< 0.0001");
        assert_eq!(p_value(Some(0.3129)), "0.31");
        assert_eq!(p_value(None), "–");
        assert_eq!(count(1099), "1,099");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(money(999.4), "$999");
        assert_eq!(money(1000.0), "$1,000");
        assert_eq!(money_short(0.0), "$0");
        assert_eq!(money_short(950.0), "$950");
        assert_eq!(money_short(1500.0), "$1.5k");
        assert_eq!(money_short(12_000.0), "$12k");
        assert_eq!(money_short(-40_000.0), "−$40k");
        assert_eq!(money_short(2_000_000.0), "$2M");
    }

    #[test]
    fn units_of_the_catalog() {
        assert_eq!(unit_of("churn_rate", None), Unit::Share);
        assert_eq!(unit_of("survival", Some("days=365")), Unit::Share);
        assert_eq!(unit_of("survival", Some("rmst_days=365")), Unit::Days);
        assert_eq!(unit_of("nps", None), Unit::Nps);
        assert_eq!(unit_of("support_incident_rate", None), Unit::Number);
        assert_eq!(unit_of("customer_lifetime_value", None), Unit::Money);
        // A bare number says what it counts; a share does not need to.
        assert_eq!(
            crate::catalog::counting("support_incident_rate", None),
            Some("tickets per account in the period")
        );
        assert_eq!(
            crate::catalog::counting("support_incident_rate", Some("product_area=billing")),
            Some("tickets per account in the period")
        );
        assert_eq!(crate::catalog::counting("churn_rate", None), None);
    }
}
