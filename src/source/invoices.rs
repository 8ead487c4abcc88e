//! Revenue from invoices (`sources.revenue.grain: invoice`): each invoice
//! row becomes monthly revenue, so every revenue metric reads the same
//! `account_id`, `month`, `mrr` frame as with a monthly MRR table.
//!
//! The rule: an invoice contributes `amount / k` to each of the `k` calendar
//! months from the month of `period_start` up to, and not including, the
//! month of `period_end`; `k` is at least 1, so an invoice whose period
//! starts and ends in one month (a one-off charge, a zero-length period)
//! counts in the month of `period_start`. Rows of one account and month are
//! summed downstream like monthly rows (credit notes with negative amounts
//! included); a month whose sum is negative is an error
//! (`quality::plausibility`), and so are two currencies in one table.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::{Error, Result};

/// `year × 12 + month − 1` of a date column: months since year 0.
fn month_index(column: &str) -> Expr {
    col(column).dt().year().cast(DataType::Int32) * lit(12i32)
        + col(column).dt().month().cast(DataType::Int32)
        - lit(1i32)
}

/// The monthly revenue frame (`account_id`, `month`, `mrr`) of an invoice
/// frame (`account_id`, `period_start`, `period_end`, `amount`, and
/// `currency` when `has_currency`). Reads the invoices once, small, to size
/// the spreading (the distinct period lengths and the months covered) and to
/// refuse mixed currencies (the error, beside the frame: the other checks
/// still run on the invoices) or name the one currency; the rest stays lazy.
pub fn monthly_revenue(
    invoices: LazyFrame,
    has_currency: bool,
    what: &str,
) -> Result<(LazyFrame, Option<Error>, Option<String>)> {
    let months = col("__end") - col("__start");
    let spans = invoices
        .filter(
            col("period_start")
                .is_not_null()
                .and(col("period_end").is_not_null())
                .and(col("amount").is_not_null()),
        )
        .with_columns([
            month_index("period_start").alias("__start"),
            month_index("period_end").alias("__end"),
        ])
        .with_column(
            when(months.clone().lt(lit(1i32)))
                .then(lit(1i32))
                .otherwise(months)
                .alias("__k"),
        );
    let mut plans = vec![
        spans
            .clone()
            .select([col("__k")])
            .unique(None, UniqueKeepStrategy::Any),
        spans.clone().select([
            col("__start").min().alias("first"),
            (col("__start") + col("__k")).max().alias("last"),
        ]),
    ];
    if has_currency {
        plans.push(
            spans
                .clone()
                .select([col("currency")])
                .filter(col("currency").is_not_null())
                .unique(None, UniqueKeepStrategy::Any)
                .sort(["currency"], SortMultipleOptions::default()),
        );
    }
    let sized = crate::frame::collect_all(plans, &format!("{what}: sizing the invoices"))?;
    let mut mixed = None;
    let mut currency = None;
    if let Some(currencies) = sized.get(2) {
        if currencies.height() == 1 {
            currency = currencies
                .column("currency")
                .ok()
                .and_then(|c| c.str().ok().and_then(|c| c.get(0).map(str::to_string)));
        }
        if currencies.height() > 1 {
            mixed = Some(Error::data(format!(
                "{what}: column `currency` holds {} currencies ({}); revenue in one table must be in one currency \
                 (convert first, or run one pipeline per currency)",
                currencies.height(),
                crate::frame::values_shown(currencies, "currency")
            )));
        }
    }
    let ints = |df: &DataFrame, column: &str| -> Vec<i32> {
        df.column(column)
            .ok()
            .and_then(|c| c.i32().ok().cloned())
            .map(|c| c.iter().flatten().collect())
            .unwrap_or_default()
    };
    let lengths = ints(&sized[0], "__k");
    let first = ints(&sized[1], "first").first().copied().unwrap_or(0);
    let last = ints(&sized[1], "last").first().copied().unwrap_or(0);

    // (k, offset) for offset in 0..k, for each period length k seen.
    let (mut k_column, mut offsets) = (Vec::new(), Vec::new());
    for k in lengths {
        for offset in 0..k {
            k_column.push(k);
            offsets.push(offset);
        }
    }
    let spread = df!("__k" => k_column, "__offset" => offsets)
        .map_err(|e| Error::engine(what, e))?
        .lazy();
    // Month index → the first day of that month, for the months covered.
    let (indexes, days): (Vec<i32>, Vec<i32>) = (first..last.max(first + 1))
        .filter_map(|i| {
            let date = NaiveDate::from_ymd_opt(i.div_euclid(12), (i.rem_euclid(12) + 1) as u32, 1)?;
            Some((i, crate::time::date_to_days(date)))
        })
        .unzip();
    let calendar = df!("__month" => indexes, "month" => days)
        .map_err(|e| Error::engine(what, e))?
        .lazy()
        .with_column(col("month").cast(DataType::Date));

    let monthly = spans
        .join(
            spread,
            [col("__k")],
            [col("__k")],
            JoinArgs::new(JoinType::Inner),
        )
        .with_column((col("__start") + col("__offset")).alias("__month"))
        .join(
            calendar,
            [col("__month")],
            [col("__month")],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col("account_id"),
            col("month"),
            (col("amount") / col("__k").cast(DataType::Float64)).alias("mrr"),
        ]);
    Ok((monthly, mixed, currency))
}
