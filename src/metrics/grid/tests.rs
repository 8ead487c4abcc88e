use super::*;
use crate::time::months_frame;

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Accounts with signups and churns on and around the months' bounds
/// (first and last days, before the first month, after the last, churn on
/// the signup day, no churn), in two cohorts and none.
fn accounts() -> LazyFrame {
    let days = [
        None,
        Some("2025-09-15"),
        Some("2025-10-31"),
        Some("2025-11-01"),
        Some("2025-11-02"),
        Some("2025-11-30"),
        Some("2025-12-01"),
        Some("2025-12-31"),
        Some("2026-01-01"),
        Some("2026-02-01"),
        Some("2026-03-10"),
    ];
    let (mut id, mut signup, mut churn, mut cohort) = (vec![], vec![], vec![], vec![]);
    for s in days.iter().flatten() {
        for c in days {
            let n = id.len() as i64;
            id.push(n);
            signup.push(d(s));
            churn.push(c.map(d));
            cohort.push(match n % 3 {
                0 => Some("trained"),
                1 => Some("untrained"),
                _ => None,
            });
        }
    }
    df!(
        "account_id" => id,
        "signup_date" => signup,
        "churn_date" => churn,
        "cohort_at_start" => cohort,
    )
    .unwrap()
    .lazy()
}

/// 1 for each row of the grid (a literal's sum would be the literal).
fn one_per_row() -> Expr {
    col("account_id").is_not_null().cast(DataType::Float64)
}

fn months() -> Vec<NaiveDate> {
    vec![
        d("2025-11-01"),
        d("2025-12-01"),
        d("2026-01-01"),
        d("2026-02-01"),
    ]
}

const BY_MONTH: [&str; 3] = ["cohort_at_start", "month_start", "month_end"];

/// `value` summed per `keys`, sorted by them.
fn summed(frame: LazyFrame, keys: &[&str], value: Expr) -> DataFrame {
    frame
        .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .agg([value.sum().alias("value")])
        .sort(
            keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .collect()
        .unwrap()
}

/// Each part of `rows` summed per `keys` equals its expression summed
/// over `grid`.
fn assert_same_sums(grid: &LazyFrame, rows: &LazyFrame, keys: &[&str], parts: Vec<(&str, Expr)>) {
    for (part, on_grid) in parts {
        let expected = summed(grid.clone(), keys, on_grid);
        let actual = summed(rows.clone(), keys, col(part));
        assert!(
            expected.equals_missing(&actual),
            "{part}: {expected} {actual}"
        );
    }
}

/// The sum of a [`summed`] frame's values.
fn total(sums: DataFrame) -> f64 {
    sums.column("value")
        .unwrap()
        .f64()
        .unwrap()
        .sum()
        .unwrap_or(0.0)
}

/// A count per grid row (0 where none) as the grid's parts.
fn count_parts() -> Vec<(&'static str, Expr)> {
    vec![
        ("den", one_per_row()),
        ("num", col("count")),
        ("sq", col("count") * col("count")),
    ]
}

/// The grid of every account × every month it is a customer in
/// (`customer_in_period`), with its count of `facts` or 0.
fn customer_months(facts: &LazyFrame) -> LazyFrame {
    accounts()
        .cross_join(months_frame(&months()), None)
        .filter(customer_in_period(col("month_start"), col("month_end")))
        .join(
            facts.clone(),
            [col("account_id"), col("month_start")],
            [col("account_id"), col("month_start")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("count").fill_null(lit(0.0)))
}

/// The accounts' and the facts' sums per cell and month are those of
/// the grid of every account × every month it is a customer in
/// (`customer_in_period`), with a count or 0 per account-month.
#[test]
fn customers_by_month_sums_the_grid_of_customer_months() {
    let facts = df!(
        "account_id" => [3i64, 3, 14, 40, 40, 77, 200],
        "month_start" => [d("2025-11-01"), d("2025-12-01"), d("2026-01-01"), d("2025-11-01"), d("2025-10-01"), d("2026-02-01"), d("2025-11-01")],
        "count" => [2.0, 1.0, 3.0, 5.0, 7.0, 1.0, 4.0],
    )
    .unwrap()
    .lazy();
    let grid = customer_months(&facts);
    let rows = customers_by_month(&[col("cohort_at_start")], accounts(), &months(), facts).unwrap();
    assert_same_sums(&grid, &rows, &BY_MONTH, count_parts());
    // The grid is not trivial: months differ, and some facts are dropped
    // (a month outside the list, an account that is not a customer).
    let den = summed(grid.clone(), &BY_MONTH, one_per_row());
    assert_eq!(den.height(), 12);
    let counted = total(summed(grid, &BY_MONTH, col("count")));
    assert!(counted > 0.0 && counted < 23.0, "{counted}");
}

/// Every account × every value, with facts of those accounts only.
#[test]
fn accounts_by_values_sums_the_grid_of_accounts_and_values() {
    let customers = accounts().filter(col("account_id").lt(lit(60i64)));
    let values = df!("area" => ["billing", "admin", "api"]).unwrap().lazy();
    let facts = df!(
        "account_id" => [1i64, 1, 2, 59, 60, 99],
        "area" => ["billing", "admin", "billing", "api", "billing", "admin"],
        "count" => [2.0, 1.0, 3.0, 4.0, 8.0, 9.0],
    )
    .unwrap()
    .lazy();
    let grid = customers
        .clone()
        .cross_join(values.clone(), None)
        .join(
            facts.clone(),
            [col("account_id"), col("area")],
            [col("account_id"), col("area")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("count").fill_null(lit(0.0)));
    let rows = accounts_by_values(
        &[col("cohort_at_start")],
        customers,
        values,
        &["area"],
        facts,
    )
    .unwrap();
    assert_same_sums(&grid, &rows, &["cohort_at_start", "area"], count_parts());
}

/// The flags' counts per cell and month are those of the grid of every
/// account × every month.
#[test]
fn flags_by_month_count_the_grid_of_account_months() {
    let parts: [(&str, fn(Expr, Expr) -> Expr); 2] = [
        ("den", |start, _| crate::time::customer_at(start)),
        ("num", crate::time::churned_during),
    ];
    let grid = accounts()
        .cross_join(months_frame(&months()), None)
        .filter(crate::time::customer_at(col("month_start")));
    let rows = flags_by_month(&[col("cohort_at_start")], accounts(), &months(), &parts).unwrap();
    let churned_during = crate::time::churned_during(col("month_start"), col("month_end"));
    assert_same_sums(
        &grid,
        &rows,
        &BY_MONTH,
        vec![
            ("den", one_per_row()),
            ("num", churned_during.cast(DataType::Float64)),
        ],
    );
    assert!(total(summed(rows.clone(), &BY_MONTH, col("num"))) > 0.0);
    let none = flags_by_month(&[col("cohort_at_start")], accounts(), &[], &parts)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(none.height(), 0);
    assert_eq!(
        none.get_column_names(),
        ["cohort_at_start", "month_start", "month_end", "den", "num"]
    );
}

/// The sums from a column of counts per account and month are those of
/// the grid of every account × every month it is a customer in, with its
/// count or 0 (what [`customers_by_month`] sums from a row per fact).
#[test]
fn counts_by_month_sums_the_grid_of_customer_months() {
    let facts = df!(
        "account_id" => [3i64, 3, 14, 40, 40, 77, 200, 5],
        "month_start" => [d("2025-11-01"), d("2025-12-01"), d("2026-01-01"), d("2025-11-01"), d("2025-10-01"), d("2026-02-01"), d("2025-11-01"), d("2026-01-01")],
        "count" => [2.0, 1.0, 3.0, 5.0, 7.0, 1.0, 4.0, 6.0],
    )
    .unwrap()
    .lazy();
    let grid = customer_months(&facts);
    // The same facts as a column per month of each account (null: none).
    let mut wide = accounts();
    for (i, month) in months().iter().enumerate() {
        let of_month = facts
            .clone()
            .filter(col("month_start").eq(crate::time::date_lit(*month)))
            .select([col("account_id"), col("count").alias(format!("c{i}"))]);
        wide = wide.join(
            of_month,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        );
    }
    fn column_of(i: usize) -> String {
        format!("c{i}")
    }
    let rows = counts_by_month(&[col("cohort_at_start")], wide, &months(), column_of).unwrap();
    assert_same_sums(&grid, &rows, &BY_MONTH, count_parts());
    let counted = total(summed(grid, &BY_MONTH, col("count")));
    assert!(counted > 0.0 && counted < 29.0, "{counted}");
    let old = customers_by_month(&[col("cohort_at_start")], accounts(), &months(), facts).unwrap();
    for part in ["num", "den", "sq"] {
        let expected = summed(old.clone(), &BY_MONTH, col(part));
        assert!(
            summed(rows.clone(), &BY_MONTH, col(part)).equals_missing(&expected),
            "{part}"
        );
    }
}
