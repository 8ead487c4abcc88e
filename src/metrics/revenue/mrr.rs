//! Shared revenue logic (docs/METRICS.md "Revenue"): MRR per account and month, and
//! the movement of each account in each complete month. Amounts are kept in
//! whole cents so that sums are exact whatever order they are added in.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::PlanContext;
use crate::time::date_lit;

/// A month's movement of one account (docs/METRICS.md#revenue_movements).
/// [`monthly_movements`] carries it as its small integer code, so that
/// the per-row work compares integers; [`Movement::label_of`] turns the
/// codes of an aggregated table into the published labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Movement {
    New,
    Reactivation,
    Expansion,
    Contraction,
    Churn,
}

impl Movement {
    pub const ALL: [Movement; 5] = [
        Movement::New,
        Movement::Reactivation,
        Movement::Expansion,
        Movement::Contraction,
        Movement::Churn,
    ];

    /// The published label.
    pub fn label(self) -> &'static str {
        match self {
            Movement::New => "new",
            Movement::Reactivation => "reactivation",
            Movement::Expansion => "expansion",
            Movement::Contraction => "contraction",
            Movement::Churn => "churn",
        }
    }

    /// The code as a UInt8 literal.
    fn code(self) -> Expr {
        lit(self as u8)
    }

    /// The label of each code in `codes` (null stays null).
    pub fn label_of(codes: Expr) -> Expr {
        Movement::ALL
            .iter()
            .rev()
            .fold(lit(NULL).cast(DataType::String), |rest, m| {
                when(codes.clone().eq(m.code()))
                    .then(lit(m.label()))
                    .otherwise(rest)
            })
    }
}

/// The revenue columns every revenue metric needs.
pub fn requirements() -> Vec<(SourceName, &'static str)> {
    vec![
        (SourceName::Revenue, "account_id"),
        (SourceName::Revenue, "month"),
        (SourceName::Revenue, "mrr"),
    ]
}

/// docs/INPUTS.md revenue: "month truncated to its first day; rows of one
/// account-month are summed; a missing month is 0". Months that start on or
/// after A are not observed yet and are dropped. Columns: `account_id`,
/// `month`, `mrr_cents` (Float64 holding whole cents), one row per revenue
/// row (not yet summed per account-month).
fn revenue_rows(ctx: &PlanContext) -> Result<LazyFrame> {
    Ok(rows_of(ctx.source(SourceName::Revenue)?, ctx.period.as_of))
}

/// [`revenue_rows`] of the typed revenue rows `frame`.
pub(super) fn rows_of(frame: LazyFrame, as_of: NaiveDate) -> LazyFrame {
    frame
        .select([
            col("account_id"),
            col("month").dt().month_start().alias("month"),
            (col("mrr") * lit(100.0))
                .round(0, RoundMode::HalfAwayFromZero)
                .alias("mrr_cents"),
        ])
        .filter(col("month").lt(date_lit(as_of)))
}

/// Whether revenue is a monthly MRR table (every `mrr` ≥ 0, a data rule),
/// not invoices (credit notes are negative).
fn never_negative(ctx: &PlanContext) -> bool {
    ctx.inputs
        .get(SourceName::Revenue)
        .is_some_and(|r| r.spec.iter().any(|c| c.name == "mrr"))
}

/// The rows [`monthly_by_account`] groups: with a monthly MRR table
/// ([`never_negative`]) the revenue rows themselves, since a month's sum
/// is then > 0 exactly when one of its rows is; with invoices the
/// account-months, summed first.
fn rows_by_account(ctx: &PlanContext) -> Result<LazyFrame> {
    let rows = revenue_rows(ctx)?;
    Ok(if never_negative(ctx) {
        rows
    } else {
        rows.group_by([col("account_id"), col("month")])
            .agg([col("mrr_cents").sum()])
    })
}

/// One row per account with revenue and complete month M in M1…Mk:
/// `account_id`, `month`, `prev` = MRR(a, M−1), `cur` = MRR(a, M) (cents),
/// `movement` (the [`Movement`] code, UInt8; null when none) and `amount`
/// (positive cents, 0 when none).
///
/// | movement | condition | amount |
/// |---|---|---|
/// | new | prev = 0, cur > 0, no month before M with MRR > 0 | cur |
/// | reactivation | prev = 0, cur > 0, some month before M−1 with MRR > 0 | cur |
/// | expansion | prev > 0, cur > prev | cur − prev |
/// | contraction | prev > 0, 0 < cur < prev | prev − cur |
/// | churn | prev > 0, cur = 0 | prev |
pub fn monthly_movements(ctx: &PlanContext) -> Result<LazyFrame> {
    ctx.shared("monthly_movements", || {
        Ok(build_monthly_movements(ctx, monthly_by_account(ctx)?))
    })
}

/// The column of [`monthly_by_account`] with the MRR of month `i` (M0 = 0).
pub(super) fn mrr_of(i: usize) -> String {
    format!("mrr_{i}")
}

/// One row per account with revenue: its MRR in each month M0, M1 … Mk
/// (`mrr_0` … `mrr_k`, cents, 0 for a missing month) and
/// `first_paid_month`, the first month with MRR > 0 (null when none). One
/// group-by on the account ([`rows_by_account`]): the movements and the
/// per-account sums are expressions over its columns, not a grid of
/// accounts × months joined to the months before (docs/BENCHMARKS.md,
/// "Revenue by account").
fn monthly_by_account(ctx: &PlanContext) -> Result<LazyFrame> {
    ctx.shared("monthly_by_account", || {
        // Folded from the rows by the revenue data rules' pass, when it
        // carried the fold ([`super::by_account`]); else the group-by.
        if let Some(folded) = ctx.inputs.folded(super::by_account::FOLDED) {
            return Ok(folded.clone().lazy());
        }
        Ok(grouped_by_account(
            rows_by_account(ctx)?,
            &months_from_m0(ctx),
        ))
    })
}

/// [`monthly_by_account`] as a group-by of `rows` ([`rows_by_account`]) on
/// the account, for the months `months` (M0 … Mk).
pub(super) fn grouped_by_account(rows: LazyFrame, months: &[NaiveDate]) -> LazyFrame {
    // when/then keeps the aggregation vectorized (a filter inside `agg` runs per group).
    let mut aggs: Vec<Expr> = months
        .iter()
        .enumerate()
        .map(|(i, month)| {
            when(col("month").eq(date_lit(*month)))
                .then(col("mrr_cents"))
                .otherwise(lit(0.0))
                .sum()
                .alias(mrr_of(i))
        })
        .collect();
    aggs.push(
        when(col("mrr_cents").gt(lit(0.0)))
            .then(col("month"))
            .otherwise(lit(NULL).cast(DataType::Date))
            .min()
            .alias("first_paid_month"),
    );
    rows.group_by([col("account_id")]).agg(aggs)
}

/// M0 (the month before M1), M1 … Mk; empty without a complete month.
fn months_from_m0(ctx: &PlanContext) -> Vec<NaiveDate> {
    months_of(ctx.period)
}

/// M0, M1 … Mk of `period`; empty without a complete month.
pub(super) fn months_of(period: &crate::time::Period) -> Vec<NaiveDate> {
    period
        .month_zero()
        .into_iter()
        .chain(period.complete_months())
        .collect()
}

fn build_monthly_movements(ctx: &PlanContext, by_account: LazyFrame) -> LazyFrame {
    let months = ctx.period.complete_months();
    let (prev_c, cur_c) = (col("prev"), col("cur"));
    let movement = when(prev_c.clone().eq(lit(0.0)).and(cur_c.clone().gt(lit(0.0))))
        .then(
            when(col("first_paid_month").eq(col("month")))
                .then(Movement::New.code())
                .otherwise(Movement::Reactivation.code()),
        )
        .when(
            prev_c
                .clone()
                .gt(lit(0.0))
                .and(cur_c.clone().gt(prev_c.clone())),
        )
        .then(Movement::Expansion.code())
        .when(
            prev_c
                .clone()
                .gt(lit(0.0))
                .and(cur_c.clone().gt(lit(0.0)))
                .and(cur_c.clone().lt(prev_c.clone())),
        )
        .then(Movement::Contraction.code())
        .when(prev_c.clone().gt(lit(0.0)).and(cur_c.clone().eq(lit(0.0))))
        .then(Movement::Churn.code())
        .otherwise(lit(NULL).cast(DataType::UInt8));
    let is = |m: Movement| col("movement").eq(m.code());
    let amount = when(is(Movement::New).or(is(Movement::Reactivation)))
        .then(cur_c.clone())
        .when(is(Movement::Expansion))
        .then(cur_c.clone() - prev_c.clone())
        .when(is(Movement::Contraction).or(is(Movement::Churn)))
        .then((prev_c.clone() - cur_c.clone()).abs())
        .otherwise(lit(0.0));
    // Month i of M1 … Mk: its MRR and that of the month before, per account.
    let month_rows = |i: usize, month: Expr| {
        by_account.clone().select([
            col("account_id"),
            month.alias("month"),
            col(mrr_of(i - 1)).alias("prev"),
            col(mrr_of(i)).alias("cur"),
            col("first_paid_month"),
        ])
    };
    let frames: Vec<LazyFrame> = months
        .iter()
        .enumerate()
        .map(|(i, month)| month_rows(i + 1, date_lit(*month)))
        .collect();
    let rows = if frames.is_empty() {
        // No complete month: no rows, with the columns.
        by_account
            .select([
                col("account_id"),
                lit(NULL).cast(DataType::Date).alias("month"),
                lit(0.0).alias("prev"),
                lit(0.0).alias("cur"),
                lit(NULL).cast(DataType::Date).alias("first_paid_month"),
            ])
            .filter(lit(false))
    } else {
        concat(frames, UnionArgs::default()).expect("frames of one schema")
    };
    rows.with_column(movement.alias("movement"))
        .with_column(amount.alias("amount"))
        .select([
            col("account_id"),
            col("month"),
            col("prev"),
            col("cur"),
            col("movement"),
            col("amount"),
        ])
}

/// Per account with revenue: MRR in M0 and in Mk (cents), and over M1…Mk the
/// sum of MRR, the months with MRR > 0, the sum of expansion amounts and
/// whether any expansion happened. `None` when the period has no complete month.
pub fn revenue_per_account(ctx: &PlanContext) -> Result<Option<LazyFrame>> {
    if ctx.period.complete_months().is_empty() {
        return Ok(None);
    }
    ctx.shared("revenue_per_account", || build_revenue_per_account(ctx))
        .map(Some)
}

fn build_revenue_per_account(ctx: &PlanContext) -> Result<LazyFrame> {
    let k = ctx.period.complete_months().len();
    if k == 0 {
        return Err(crate::error::Error::other(
            "revenue per account without a complete month",
        ));
    }
    // Over M1 … Mk, from the month columns: the sums of whole cents are exact.
    let mrr = |i: usize| col(mrr_of(i));
    let expansion = |i: usize| mrr(i - 1).gt(lit(0.0)).and(mrr(i).gt(mrr(i - 1)));
    let months = || 1..=k;
    let sum = |terms: Vec<Expr>| {
        terms
            .into_iter()
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| lit(0.0))
    };
    let per_account = monthly_by_account(ctx)?.select([
        col("account_id"),
        mrr(0).alias("mrr_m0"),
        mrr(k).alias("mrr_mk"),
        sum(months().map(mrr).collect()).alias("mrr_sum"),
        sum(months()
            .map(|i| mrr(i).gt(lit(0.0)).cast(DataType::Float64))
            .collect())
        .alias("paid_months"),
        sum(months()
            .map(|i| {
                when(expansion(i))
                    .then(mrr(i) - mrr(i - 1))
                    .otherwise(lit(0.0))
            })
            .collect())
        .alias("expansion_sum"),
        months()
            .map(expansion)
            .reduce(|a, b| a.or(b))
            .unwrap_or_else(|| lit(false))
            .alias("expanded"),
    ]);
    ctx.with_dimensions(per_account)
}
