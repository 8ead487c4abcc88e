//! Revenue grain: rows not dated on the 1st, several rows per account and
//! month, large month-over-month jumps, negative months from invoices.

use polars::prelude::*;

use super::Plausibility;
use crate::config::Pipeline;
use crate::error::{Error, Result};
use crate::quality::{number_of, text_of};

/// Three one-row-or-small plans over revenue at month grain: the share of
/// rows not on the 1st; the (account, month) pairs with several rows; the
/// largest month-over-month rise of an account's MRR.
pub(super) fn revenue_grain_plans(revenue: LazyFrame) -> Vec<LazyFrame> {
    let month = col("month").dt().month_start().alias("month_start");
    let shares = revenue.clone().select([
        len().cast(DataType::UInt64).alias("rows"),
        col("month")
            .dt()
            .day()
            .neq(lit(1))
            .cast(DataType::UInt64)
            .sum()
            .alias("off_grain"),
    ]);
    let per_month = revenue.clone().group_by([col("account_id"), month]).agg([
        len().cast(DataType::UInt64).alias("copies"),
        col("mrr").sum().alias("mrr"),
    ]);
    let duplicates = per_month
        .clone()
        .filter(col("copies").gt(lit(1u64)))
        .select([len().cast(DataType::UInt64).alias("pairs")]);
    let previous = per_month.clone().select([
        col("account_id"),
        col("month_start")
            .dt()
            .offset_by(lit("1mo"))
            .alias("month_start"),
        col("mrr").alias("previous"),
    ]);
    let jump = per_month
        .join(
            previous,
            [col("account_id"), col("month_start")],
            [col("account_id"), col("month_start")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("previous").gt(lit(0.0)))
        .with_column((col("mrr") / col("previous")).alias("ratio"))
        .sort(
            ["ratio"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .limit(1)
        .select([
            col("account_id").cast(DataType::String),
            col("month_start"),
            col("previous"),
            col("mrr"),
            col("ratio"),
        ]);
    vec![shares, duplicates, jump]
}

/// Warns when revenue does not look like month grain.
pub(super) fn check_revenue_grain(
    pipeline: &Pipeline,
    grain: &[DataFrame],
    found: &mut Plausibility,
) {
    let rows = number_of(&grain[0], "rows");
    if rows == 0.0 {
        return;
    }
    let share = number_of(&grain[0], "off_grain") / rows;
    if share <= pipeline.max_off_grain_share {
        return;
    }
    let pairs = number_of(&grain[1], "pairs");
    let jump = if grain[2].height() > 0 {
        let text = |column: &str| text_of(&grain[2], column, 0).unwrap_or_default();
        format!(
            "; the largest month-over-month rise is ×{:.1} (account `{}`, {}: {:.2} after {:.2})",
            number_of(&grain[2], "ratio"),
            text("account_id"),
            text("month_start"),
            number_of(&grain[2], "mrr"),
            number_of(&grain[2], "previous")
        )
    } else {
        String::new()
    };
    found.warnings.push(format!(
        "source `revenue` does not look like one row per account and month: {:.0} % of its rows are not dated on the 1st (above quality.max_off_grain_share {:.0} %), {pairs} (account, month) pair(s) have several rows{jump}. Invoices (an annual invoice read as one month of 12× MRR) give wrong revenue metrics: declare `grain: invoice` on `sources.revenue` if these are invoices",
        share * 100.0,
        pipeline.max_off_grain_share * 100.0
    ));
}

/// Invoices whose sum for an account and month is negative (refunds beyond
/// the charges) cannot be monthly revenue: an error naming them.
pub(super) fn negative_months(df: &DataFrame) -> Result<()> {
    if df.height() == 0 {
        return Ok(());
    }
    let text = |column: &str, i: usize| text_of(df, column, i).unwrap_or_default();
    let sums = df.column("mrr").ok().and_then(|c| c.f64().ok().cloned());
    let examples: Vec<String> = (0..df.height().min(5))
        .map(|i| {
            format!(
                "account `{}`, {}: {:.2}",
                text("account_id", i),
                text("month", i),
                sums.as_ref().and_then(|s| s.get(i)).unwrap_or(0.0)
            )
        })
        .collect();
    Err(Error::data(format!(
        "source `revenue` (grain: invoice): {} account-month(s) sum to a negative amount (refunds beyond the \
         charges of the month), which is not revenue: {}",
        df.height(),
        examples.join("; ")
    )))
}
