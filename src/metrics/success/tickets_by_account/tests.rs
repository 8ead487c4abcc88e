use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;

use super::{fold_rows, month_count};
use crate::ids::IdSet;
use crate::time::{date_lit, in_range, Period};

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// Tickets on the period's bounds (S, the day before A, A), on the first
/// and last days of months, in the partial months at both ends, several
/// in one month, and one of an account that is not known.
fn tickets() -> LazyFrame {
    let rows: [(i64, &str); 14] = [
        (1, "2025-10-14"),
        (1, "2025-10-15"),
        (1, "2025-10-31"),
        (1, "2025-11-01"),
        (1, "2025-11-30"),
        (1, "2025-11-30"),
        (2, "2025-12-01"),
        (2, "2026-01-14"),
        (2, "2026-01-15"),
        (3, "2025-12-31"),
        (3, "2026-01-01"),
        (4, "2025-09-30"),
        (9, "2025-11-10"),
        (5, "2026-02-01"),
    ];
    df!(
        "account_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "created_at" => rows.iter().map(|r| d(r.1)).collect::<Vec<_>>(),
    )
    .expect("rows")
    .lazy()
}

/// The counts by hand at A = 2026-01-15 (S = 2025-10-15; complete months
/// November and December): 1 → 5 in the period (10-14 is before S), 3 in
/// November; 2 → 2 (01-15 is A), 1 in December; 3 → 2, 1 in December (the
/// ticket of 01-01 is in January, a partial month); 4 and 5 none; 9 is no
/// account. The same as the group-bys the metric makes without the fold.
#[test]
fn tickets_are_counted_per_account_and_complete_month() {
    let period = Period::new(d("2026-01-15"), 3);
    assert_eq!(period.start, d("2025-10-15"));
    assert_eq!(period.complete_months(), [d("2025-11-01"), d("2025-12-01")]);
    let known = Series::new("account_id".into(), [1i64, 2, 3, 4, 5]);
    let accounts = Arc::new(IdSet::of(&known).expect("set"));
    let folded = fold_rows(tickets(), &accounts, &period, &DataType::Int64)
        .sort(["account_id"], Default::default())
        .expect("sorted");
    let column = |name: &str| -> Vec<Option<f64>> {
        folded.column(name).unwrap().f64().unwrap().iter().collect()
    };
    let ids: Vec<Option<i64>> = folded
        .column("account_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3)]);
    assert_eq!(column("count"), [Some(5.0), Some(2.0), Some(2.0)]);
    assert_eq!(column(&month_count(0)), [Some(3.0), Some(0.0), Some(0.0)]);
    assert_eq!(column(&month_count(1)), [Some(0.0), Some(1.0), Some(1.0)]);
    // The group-by over the known accounts' tickets in [S, A).
    let in_period = tickets()
        .filter(col("account_id").is_in(lit(known).implode(false), false))
        .filter(in_range(
            col("created_at"),
            date_lit(period.start),
            date_lit(period.as_of),
        ));
    let expected = in_period
        .group_by([col("account_id")])
        .agg([len().cast(DataType::Float64).alias("count")])
        .sort(["account_id"], Default::default())
        .collect()
        .expect("group-by");
    assert!(
        folded
            .select(["account_id", "count"])
            .unwrap()
            .equals_missing(&expected),
        "{expected}"
    );
}
