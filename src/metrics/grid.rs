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
    let parts: Vec<(&str, MonthPart)> = parts
        .iter()
        .map(|(name, flag)| {
            let flag = *flag;
            let part: MonthPart = Box::new(move |_, start, end| {
                flag(start, end)
                    .fill_null(lit(false))
                    .cast(DataType::Float64)
            });
            (*name, part)
        })
        .collect();
    sums_by_month(cell, accounts, months, &parts)
}

/// docs/METRICS.md#support_incident_rate: the sums of [`count_sums`] per
/// cell and month of `months`, from `accounts` (every account, its count
/// of facts in month `i` in the column `count_of(i)`, null when none):
/// each account that is a customer in the month (`customer_in_period` of
/// its start and end) adds 1 to `den`, its count to `num` and the count's
/// square to `sq`. The same sums as [`customers_by_month`] over a row per
/// account and month, from one group-by of the accounts per cell.
pub fn counts_by_month(
    cell: &[Expr],
    accounts: LazyFrame,
    months: &[NaiveDate],
    count_of: fn(usize) -> String,
) -> Result<LazyFrame> {
    let counted = move |start: Expr, end: Expr, value: Expr| {
        when(customer_in_period(start, end).fill_null(lit(false)))
            .then(value.cast(DataType::Float64).fill_null(lit(0.0)))
            .otherwise(lit(0.0))
    };
    let count = move |i: usize| col(count_of(i));
    let parts: Vec<(&str, MonthPart)> = vec![
        ("num", Box::new(move |i, s, e| counted(s, e, count(i)))),
        ("den", Box::new(move |_, s, e| counted(s, e, lit(1.0)))),
        (
            "sq",
            Box::new(move |i, s, e| counted(s, e, count(i) * count(i))),
        ),
    ];
    sums_by_month(cell, accounts, months, &parts)
}

/// What an account adds to a part of [`sums_by_month`] in month `i`, from
/// the month's start and end.
type MonthPart = Box<dyn Fn(usize, Expr, Expr) -> Expr>;

/// Per cell and month of `months`: each of `parts` summed over the
/// accounts of the cell (one group-by per cell, a column per month and
/// part), then stacked by month: rows with the cell columns,
/// `month_start`, `month_end` and one column per part.
fn sums_by_month(
    cell: &[Expr],
    accounts: LazyFrame,
    months: &[NaiveDate],
    parts: &[(&str, MonthPart)],
) -> Result<LazyFrame> {
    let column = |part: &str, i: usize| format!("{part}#{i}");
    let bounds: Vec<(NaiveDate, NaiveDate)> =
        months.iter().map(|m| (*m, add_months(*m, 1))).collect();
    let mut sums = Vec::new();
    for (i, (start, end)) in bounds.iter().enumerate() {
        for (part, value) in parts {
            sums.push(
                value(i, date_lit(*start), date_lit(*end))
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
mod tests;
