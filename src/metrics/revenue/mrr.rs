//! Shared revenue logic (docs/METRICS.md "Revenue"): MRR per account and month, and
//! the movement of each account in each complete month. Amounts are kept in
//! whole cents so that sums are exact whatever order they are added in.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::PlanContext;
use crate::time::{add_months, date_lit, months_frame};

/// Movement labels.
pub const NEW: &str = "new";
pub const REACTIVATION: &str = "reactivation";
pub const EXPANSION: &str = "expansion";
pub const CONTRACTION: &str = "contraction";
pub const CHURN: &str = "churn";

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
/// `month`, `mrr_cents` (Float64 holding whole cents).
pub fn monthly_mrr(ctx: &PlanContext) -> Result<LazyFrame> {
    ctx.shared("monthly_mrr", || build_monthly_mrr(ctx))
}

fn build_monthly_mrr(ctx: &PlanContext) -> Result<LazyFrame> {
    Ok(ctx
        .source(SourceName::Revenue)?
        .select([
            col("account_id"),
            col("month").dt().month_start().alias("month"),
            (col("mrr") * lit(100.0))
                .round(0, RoundMode::HalfAwayFromZero)
                .alias("mrr_cents"),
        ])
        .filter(col("month").lt(date_lit(ctx.period.as_of)))
        .group_by([col("account_id"), col("month")])
        .agg([col("mrr_cents").sum()]))
}

/// One row per account with revenue and complete month M in M1…Mk:
/// `account_id`, `month`, `prev` = MRR(a, M−1), `cur` = MRR(a, M) (cents),
/// `movement` (null when none) and `amount` (positive cents, 0 when none).
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
        Ok(build_monthly_movements(ctx, monthly_mrr(ctx)?))
    })
}

fn build_monthly_movements(ctx: &PlanContext, mrr: LazyFrame) -> LazyFrame {
    let months = ctx.period.complete_months();
    let grid = mrr
        .clone()
        .select([col("account_id")])
        .unique_stable(None, UniqueKeepStrategy::First)
        .cross_join(months_frame(&months), None)
        .with_column(previous_month(col("month_start")).alias("prev_month"))
        .rename(["month_start"], ["month"], true);
    let first_paid = mrr
        .clone()
        .filter(col("mrr_cents").gt(lit(0.0)))
        .group_by([col("account_id")])
        .agg([col("month").min().alias("first_paid_month")]);
    let cur = mrr.clone().select([
        col("account_id"),
        col("month"),
        col("mrr_cents").alias("cur"),
    ]);
    let prev = mrr.select([
        col("account_id"),
        col("month").alias("prev_month"),
        col("mrr_cents").alias("prev"),
    ]);
    let left = JoinArgs::new(JoinType::Left);
    let (prev_c, cur_c) = (col("prev"), col("cur"));
    let movement = when(prev_c.clone().eq(lit(0.0)).and(cur_c.clone().gt(lit(0.0))))
        .then(
            when(col("first_paid_month").eq(col("month")))
                .then(lit(NEW))
                .otherwise(lit(REACTIVATION)),
        )
        .when(
            prev_c
                .clone()
                .gt(lit(0.0))
                .and(cur_c.clone().gt(prev_c.clone())),
        )
        .then(lit(EXPANSION))
        .when(
            prev_c
                .clone()
                .gt(lit(0.0))
                .and(cur_c.clone().gt(lit(0.0)))
                .and(cur_c.clone().lt(prev_c.clone())),
        )
        .then(lit(CONTRACTION))
        .when(prev_c.clone().gt(lit(0.0)).and(cur_c.clone().eq(lit(0.0))))
        .then(lit(CHURN))
        .otherwise(lit(NULL).cast(DataType::String));
    let amount = when(
        col("movement")
            .eq(lit(NEW))
            .or(col("movement").eq(lit(REACTIVATION))),
    )
    .then(cur_c.clone())
    .when(col("movement").eq(lit(EXPANSION)))
    .then(cur_c.clone() - prev_c.clone())
    .when(
        col("movement")
            .eq(lit(CONTRACTION))
            .or(col("movement").eq(lit(CHURN))),
    )
    .then((prev_c.clone() - cur_c.clone()).abs())
    .otherwise(lit(0.0));
    grid.join(
        cur,
        [col("account_id"), col("month")],
        [col("account_id"), col("month")],
        left.clone(),
    )
    .join(
        prev,
        [col("account_id"), col("prev_month")],
        [col("account_id"), col("prev_month")],
        left.clone(),
    )
    .join(first_paid, [col("account_id")], [col("account_id")], left)
    .with_columns([
        col("cur").fill_null(lit(0.0)),
        col("prev").fill_null(lit(0.0)),
    ])
    .with_column(movement.alias("movement"))
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
    let months = ctx.period.complete_months();
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Err(crate::error::Error::other(
            "revenue per account without a complete month",
        ));
    };
    let m0 = add_months(*first, -1);
    let mrr = monthly_mrr(ctx)?;
    // when/then keeps the aggregation vectorized (a filter inside `agg` runs per group).
    let at = |month: NaiveDate| {
        when(col("month").eq(date_lit(month)))
            .then(col("mrr_cents"))
            .otherwise(lit(0.0))
            .sum()
    };
    let endpoints = mrr
        .clone()
        .group_by([col("account_id")])
        .agg([at(m0).alias("mrr_m0"), at(*last).alias("mrr_mk")]);
    let is_expansion = col("movement").eq(lit(EXPANSION)).fill_null(lit(false));
    let in_period = monthly_movements(ctx)?.group_by([col("account_id")]).agg([
        col("cur").sum().alias("mrr_sum"),
        col("cur")
            .gt(lit(0.0))
            .cast(DataType::Float64)
            .sum()
            .alias("paid_months"),
        when(is_expansion.clone())
            .then(col("amount"))
            .otherwise(lit(0.0))
            .sum()
            .alias("expansion_sum"),
        is_expansion.any(false).alias("expanded"),
    ]);
    let per_account = endpoints
        .join(
            in_period,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("mrr_sum").fill_null(lit(0.0)),
            col("paid_months").fill_null(lit(0.0)),
            col("expansion_sum").fill_null(lit(0.0)),
            col("expanded").fill_null(lit(false)),
        ])
        .join(
            ctx.account_dimensions(),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        );
    Ok(per_account)
}

fn previous_month(month_start: Expr) -> Expr {
    month_start.dt().offset_by(lit("-1mo"))
}
