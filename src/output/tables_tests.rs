//! The `lift` table read back gives the rows that were written.

use super::*;
use crate::stats::{RowKey, Side};

fn key(segment: Option<&str>, dimension: Option<&str>) -> RowKey {
    RowKey {
        segment: segment.map(String::from),
        dimension: dimension.map(String::from),
        period_start: 20_393,
        period_end: 20_758,
    }
}

#[test]
fn the_lift_table_reads_back_into_the_rows_it_was_written_from() {
    let side = |value: f64, variance: f64, n: f64| Side {
        value: Some(value),
        variance: Some(variance),
        n,
    };
    let mut plain = LiftRow::compare(
        "churn_rate",
        &key(None, None),
        side(0.11, 0.0004, 263.0),
        side(0.26, 0.0005, 434.0),
        Some(0.00002),
        0.05,
        Direction::LowerIsBetter,
    );
    plain.q_value = Some(0.0001);
    plain.family = Some(crate::stats::Family::Guardrail);
    plain.e_value = Some(2.4);
    plain.e_value_ci = Some(1.0);
    let mut adjusted = LiftRow::compare(
        "nps",
        &key(Some("plan=pro"), Some("days=30")),
        side(26.7, 40.0, 120.0),
        Side::default(),
        None,
        0.05,
        Direction::HigherIsBetter,
    );
    adjusted.adjusted = Adjusted {
        untrained_value: Some(10.0),
        abs_diff: Some(16.7),
        ci_low: Some(2.0),
        ci_high: Some(31.4),
        p_value: Some(0.026),
        method: Some("stratify".into()),
        n_trained: Some(118),
        n_untrained: Some(400),
        note: None,
        e_value: Some(1.9),
        e_value_ci: Some(1.2),
        mde: Some(13.9),
        q_value: Some(0.04),
        ..Adjusted::default()
    };
    let mut unadjusted = plain.clone();
    unadjusted.metric = "tickets_per_account".into();
    unadjusted.adjusted.method = Some("stratify".into());
    unadjusted.adjusted.note = Some("no stratum has both cohorts".into());
    let rows = vec![plain, adjusted, unadjusted];
    let run = RunColumns {
        run_id: "r".into(),
        as_of: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    };
    let table = lift_table(&run, &rows).unwrap();
    assert_eq!(read_lift(&table).unwrap(), rows);
    assert!(rows[0].adjustment().is_none());
    assert_eq!(rows[2].adjustment().and_then(|a| a.abs_diff), None);
}

#[test]
fn a_lift_table_with_an_unknown_direction_is_an_error_naming_the_row() {
    let row = LiftRow::compare(
        "nps",
        &key(None, None),
        Side::default(),
        Side::default(),
        None,
        0.05,
        Direction::HigherIsBetter,
    );
    let run = RunColumns {
        run_id: "r".into(),
        as_of: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    };
    let mut table = lift_table(&run, &[row]).unwrap();
    table
        .with_column(Column::new("direction".into(), ["up"]))
        .unwrap();
    let message = read_lift(&table).unwrap_err().to_string();
    assert!(
        message.contains("row 1") && message.contains("`up`"),
        "{message}"
    );
}
