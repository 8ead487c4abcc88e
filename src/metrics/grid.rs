//! Counts per account over a grid (each customer × each product area, each
//! customer × each month it is a customer in), summed without a row per
//! account and grid value: a grid's unit sums are the accounts' part (each
//! account adds 1 to `den` and `n` in each of its grid values) plus the
//! facts' part (each account's count adds `count` to `num` and `count²` to
//! `sq`; an account without a fact adds 0). The accounts' part is counted
//! per cohort and segment cell before it meets the grid's values, so the
//! rows are cells × values and facts, not accounts × values. The sums are
//! whole numbers, so they are the grid's exactly, in any order.
//! Per month, [`flags_by_month`] counts the accounts with a flag (a
//! customer in the month, churned during it) per cell, a column per month
//! summed in one group-by.

use chrono::NaiveDate;
use polars::prelude::*;

use super::{PlanContext, Reference, Sums};
use crate::error::{Error, Result};
use crate::time::{add_months, customer_in_period, date_lit};

/// The columns that place an account in its cell at `reference`: its
/// cohort column and the segment columns (as [`super::Units`] reads them).
pub fn cell(ctx: &PlanContext, reference: Reference) -> Vec<Expr> {
    let mut columns = vec![col(reference.column())];
    columns.extend(ctx.segment_columns());
    columns
}

/// The sums of a grid's rows (see the module): a count per account and
/// grid value, 0 where the account has no fact, as
/// [`Sums::count`] gives them for a row per account and value.
pub fn count_sums() -> Sums {
    Sums {
        num: col("num"),
        den: col("den"),
        sq: col("sq"),
        n: col("den"),
        ..Sums::zero()
    }
}

/// The grid of every account of `accounts` × every row of `values` (a
/// small frame of the columns `keys`), with `facts` (`account_id`, the
/// `keys`, `count`) counted for those accounts only (docs/METRICS.md:
/// "Counted facts count only for accounts that are customers in the
/// period"): rows with the cell columns, the `keys` and the sums of
/// [`count_sums`].
pub fn accounts_by_values(
    cell: &[Expr],
    accounts: LazyFrame,
    values: LazyFrame,
    keys: &[&str],
    facts: LazyFrame,
) -> Result<LazyFrame> {
    let cell = cell.to_vec();
    let per_cell = accounts
        .clone()
        .group_by(cell.clone())
        .agg([len().cast(DataType::Float64).alias("accounts")])
        .cross_join(values, None);
    let mut with_cell = vec![col("account_id")];
    with_cell.extend(cell.iter().cloned());
    let counted = facts.join(
        accounts.select(with_cell),
        [col("account_id")],
        [col("account_id")],
        JoinArgs::new(JoinType::Inner),
    );
    stack(&cell, per_cell, counted, keys)
}

/// docs/METRICS.md#support_incident_rate: the grid of each account of
/// `accounts` × each month of `months` in which it is a customer
/// (`customer_in_period` of the month's start and end), with `facts`
/// (`account_id`, `month_start`, `count`) counted for those account-months
/// only: rows with the cell columns, `month_start`, `month_end` and the
/// sums of [`count_sums`]. The customers are counted per cell and month by
/// [`flags_by_month`].
pub fn customers_by_month(
    cell: &[Expr],
    accounts: LazyFrame,
    months: &[NaiveDate],
    facts: LazyFrame,
) -> Result<LazyFrame> {
    let per_cell = flags_by_month(
        cell,
        accounts.clone(),
        months,
        &[("accounts", customer_in_period)],
    )?;
    let mut with_cell = vec![col("account_id"), col("signup_date"), col("churn_date")];
    with_cell.extend(cell.iter().cloned());
    let counted = facts
        .join(
            crate::time::months_frame(months),
            [col("month_start")],
            [col("month_start")],
            JoinArgs::new(JoinType::Inner),
        )
        .join(
            accounts.select(with_cell),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(customer_in_period(col("month_start"), col("month_end")));
    stack(cell, per_cell, counted, &["month_start", "month_end"])
}

/// Per cell and month of `months`: for each of `parts` (a name and a flag
/// of an account in the month, from the month's start and end), how many
/// accounts of `accounts` have the flag: rows with the cell columns,
/// `month_start`, `month_end` and one column per part. Each account is read
/// once, its flags for every month summed in one group-by per cell (a
/// column per month and part), and the columns are then stacked by month.
pub fn flags_by_month(
    cell: &[Expr],
    accounts: LazyFrame,
    months: &[NaiveDate],
    parts: &[(&str, fn(Expr, Expr) -> Expr)],
) -> Result<LazyFrame> {
    let column = |part: &str, i: usize| format!("{part}#{i}");
    let bounds: Vec<(NaiveDate, NaiveDate)> =
        months.iter().map(|m| (*m, add_months(*m, 1))).collect();
    let mut sums = Vec::new();
    for (i, (start, end)) in bounds.iter().enumerate() {
        for (part, flag) in parts {
            sums.push(
                flag(date_lit(*start), date_lit(*end))
                    .fill_null(lit(false))
                    .cast(DataType::Float64)
                    .sum()
                    .alias(column(part, i)),
            );
        }
    }
    if sums.is_empty() {
        // No month: no rows, with the columns of the rows.
        let mut columns = cell.to_vec();
        columns.extend([
            lit(NULL).cast(DataType::Date).alias("month_start"),
            lit(NULL).cast(DataType::Date).alias("month_end"),
        ]);
        columns.extend(parts.iter().map(|(part, _)| lit(0.0).alias(*part)));
        return Ok(accounts.select(columns).slice(0, 0));
    }
    let per_cell = accounts.group_by(cell.to_vec()).agg(sums).cache();
    let by_month = bounds
        .iter()
        .enumerate()
        .map(|(i, (start, end))| {
            let mut columns = cell.to_vec();
            columns.extend([
                date_lit(*start).alias("month_start"),
                date_lit(*end).alias("month_end"),
            ]);
            columns.extend(
                parts
                    .iter()
                    .map(|(part, _)| col(column(part, i)).alias(*part)),
            );
            per_cell.clone().select(columns)
        })
        .collect::<Vec<_>>();
    concat(by_month, UnionArgs::default())
        .map_err(|e| Error::other(format!("stacking the months' counts: {e}")))
}

/// The accounts' rows (cell, `keys`, `accounts`) and the facts' rows (cell,
/// `keys`, `count`) as one frame of the sums of [`count_sums`].
fn stack(
    cell: &[Expr],
    per_cell: LazyFrame,
    counted: LazyFrame,
    keys: &[&str],
) -> Result<LazyFrame> {
    let mut columns = cell.to_vec();
    columns.extend(keys.iter().map(|k| col(*k)));
    let part = |frame: LazyFrame, num: Expr, den: Expr, sq: Expr| {
        let mut select = columns.clone();
        select.extend([num.alias("num"), den.alias("den"), sq.alias("sq")]);
        frame.select(select)
    };
    let zero = || lit(0.0);
    concat(
        [
            part(per_cell, zero(), col("accounts"), zero()),
            part(counted, col("count"), zero(), col("count") * col("count")),
        ],
        UnionArgs::default(),
    )
    .map_err(|e| Error::other(format!("stacking a grid's rows: {e}")))
}

#[cfg(test)]
mod tests {
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
    fn assert_same_sums(
        grid: &LazyFrame,
        rows: &LazyFrame,
        keys: &[&str],
        parts: Vec<(&str, Expr)>,
    ) {
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
        let grid = accounts()
            .cross_join(months_frame(&months()), None)
            .filter(customer_in_period(col("month_start"), col("month_end")))
            .join(
                facts.clone(),
                [col("account_id"), col("month_start")],
                [col("account_id"), col("month_start")],
                JoinArgs::new(JoinType::Left),
            )
            .with_column(col("count").fill_null(lit(0.0)));
        let rows =
            customers_by_month(&[col("cohort_at_start")], accounts(), &months(), facts).unwrap();
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
        let rows =
            flags_by_month(&[col("cohort_at_start")], accounts(), &months(), &parts).unwrap();
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
}
