//! Revenue grain: rows not dated on the 1st, several rows per account and
//! month, large month-over-month jumps, negative months from invoices.

use polars::prelude::*;

use super::Plausibility;
use crate::config::Pipeline;
use crate::error::{Error, Result};
use crate::quality::{number_of, text_of};

/// The share of revenue rows not dated on the 1st: the one number every
/// run reads; the examples of [`grain_examples`] are read only when it is
/// above the threshold.
pub(super) fn revenue_grain_plan(revenue: LazyFrame) -> LazyFrame {
    revenue.select([
        len().cast(DataType::UInt64).alias("rows"),
        col("month")
            .dt()
            .day()
            .neq(lit(1))
            .cast(DataType::UInt64)
            .sum()
            .alias("off_grain"),
    ])
}

/// Two small plans over revenue at month grain, for the warning: the
/// (account, month) pairs with several rows; the largest month-over-month
/// rise of an account's MRR. A month grouping and a join of every account's
/// months (about 11 s at a million accounts), so not read on a passing run.
fn grain_examples(revenue: LazyFrame) -> Vec<LazyFrame> {
    let month = col("month").dt().month_start().alias("month_start");
    let per_month = revenue.group_by([col("account_id"), month]).agg([
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
    vec![duplicates, jump]
}

/// Warns when revenue does not look like month grain (`shares`: the
/// result of [`revenue_grain_plan`]); only then are the examples read from
/// `revenue`.
pub(super) fn check_revenue_grain(
    pipeline: &Pipeline,
    shares: &DataFrame,
    revenue: LazyFrame,
    found: &mut Plausibility,
) -> Result<()> {
    let rows = number_of(shares, "rows");
    if rows == 0.0 {
        return Ok(());
    }
    let share = number_of(shares, "off_grain") / rows;
    if share <= pipeline.quality.max_off_grain_share {
        return Ok(());
    }
    let grain = crate::frame::collect_all(grain_examples(revenue), "reading revenue's months")?;
    let (duplicates, jump) = (&grain[0], &grain[1]);
    let pairs = number_of(duplicates, "pairs");
    let jump = if jump.height() > 0 {
        let text = |column: &str| text_of(jump, column, 0).unwrap_or_default();
        format!(
            "; the largest month-over-month rise is ×{:.1} (account `{}`, {}: {:.2} after {:.2})",
            number_of(jump, "ratio"),
            text("account_id"),
            text("month_start"),
            number_of(jump, "mrr"),
            number_of(jump, "previous")
        )
    } else {
        String::new()
    };
    found.warnings.push(format!(
        "source `revenue` does not look like one row per account and month: {:.0} % of its rows are not dated on the 1st (above quality.max_off_grain_share {:.0} %), {pairs} (account, month) pair(s) have several rows{jump}. Invoices (an annual invoice read as one month of 12× MRR) give wrong revenue metrics: declare `grain: invoice` on `sources.revenue` if these are invoices",
        share * 100.0,
        pipeline.quality.max_off_grain_share * 100.0
    ));
    Ok(())
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

/// The MRR of the last month before the as-of month that has revenue
/// (docs/INPUTS.md#the-checks): shown in the coverage summary so that
/// amounts in cents stand out.
#[derive(Debug, Clone, PartialEq)]
pub struct MrrSummary {
    /// `YYYY-MM`.
    pub month: String,
    /// Sum of the month's MRR over accounts.
    pub total: f64,
    /// Accounts with MRR above 0 in the month, and their median MRR.
    pub accounts: u64,
    pub median: f64,
    /// `money.currency`, else the invoices' one currency.
    pub currency: Option<String>,
}

impl std::fmt::Display for MrrSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = self
            .currency
            .as_deref()
            .map_or(" (currency not set: `money.currency`)".to_string(), |c| {
                format!(" {c}")
            });
        write!(
            f,
            "MRR in {}: {}{unit} over {} account(s), median {} per account",
            self.month,
            amount(self.total),
            self.accounts,
            amount(self.median),
        )
    }
}

/// One row: the last month before the as-of month's first day, its total
/// MRR, and the accounts with MRR above 0 and their median.
pub(super) fn mrr_summary_plan(revenue: LazyFrame, as_of: chrono::NaiveDate) -> LazyFrame {
    let before = crate::time::first_day(as_of);
    revenue
        .select([
            col("account_id"),
            col("month").dt().month_start().alias("month"),
            col("mrr"),
        ])
        .filter(col("month").lt(crate::time::date_lit(before)))
        .filter(col("month").eq(col("month").max()))
        .group_by([col("account_id"), col("month")])
        .agg([col("mrr").sum()])
        .filter(col("mrr").gt(lit(0.0)))
        .select([
            col("month").first().dt().strftime("%Y-%m").alias("month"),
            col("mrr").sum().alias("total"),
            len().cast(DataType::UInt64).alias("accounts"),
            col("mrr").median().alias("median"),
        ])
}

/// The summary, and a warning naming `scale` when the median MRR per
/// account is above `quality.max_plausible_mrr`.
pub(super) fn check_mrr(
    pipeline: &Pipeline,
    data_currency: Option<&str>,
    df: &DataFrame,
    found: &mut Plausibility,
) {
    let accounts = crate::quality::report::count_of(df, "accounts");
    let Some(month) = text_of(df, "month", 0).filter(|_| accounts > 0) else {
        return;
    };
    let summary = MrrSummary {
        month,
        total: number_of(df, "total"),
        accounts,
        median: number_of(df, "median"),
        currency: pipeline
            .money
            .currency
            .clone()
            .or_else(|| data_currency.map(str::to_uppercase)),
    };
    let limit = pipeline.quality.max_plausible_mrr;
    if summary.median > limit {
        let scale = pipeline
            .sources
            .get(&crate::config::SourceName::Revenue)
            .map(|r| {
                let column = if r.config.grain == Some(crate::config::Grain::Invoice) {
                    "amount"
                } else {
                    "mrr"
                };
                match r.config.scale.get(column) {
                    Some(factor) => format!("`scale: {{ {column}: {factor} }}` is set: check it"),
                    None => format!(
                        "amounts in cents need `scale: {{ {column}: 0.01 }}` on `sources.revenue`"
                    ),
                }
            })
            .unwrap_or_default();
        found.warnings.push(format!(
            "source `revenue`: the median MRR per account in {} is {}, above quality.max_plausible_mrr {}: {scale} \
             (or raise quality.max_plausible_mrr if these amounts are right)",
            summary.month,
            amount(summary.median),
            amount(limit),
        ));
    }
    found.mrr = Some(summary);
}

/// An amount with grouped thousands and cents: `35,123,400.00`.
fn amount(v: f64) -> String {
    let cents = (v.abs() * 100.0).round() as u64;
    let digits = (cents / 100).to_string();
    let mut whole = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            whole.push(',');
        }
        whole.push(c);
    }
    let sign = if v < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}{whole}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_group_thousands_and_keep_cents() {
        assert_eq!(super::amount(35_123_400.0), "35,123,400.00");
        assert_eq!(super::amount(351.234), "351.23");
        assert_eq!(super::amount(-1000.5), "-1,000.50");
        assert_eq!(super::amount(0.0), "0.00");
    }
}
