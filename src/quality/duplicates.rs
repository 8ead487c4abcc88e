//! Uniqueness rules: the keys that appear more than once and their rows,
//! counted a month at a time where a key holds its day.

use polars::prelude::*;

use super::data_rule::typed;
use super::report::count_of;
use crate::error::Result;

/// The rows of `checked` whose `key` appears more than once, sorted by it.
pub(super) fn copies_of(checked: LazyFrame, key: &[&str]) -> LazyFrame {
    let on: Vec<Expr> = key.iter().map(|c| typed(c)).collect();
    let keys: Vec<Expr> = key.iter().map(|c| col(format!("__key:{c}"))).collect();
    let mut args = JoinArgs::new(JoinType::Semi);
    args.nulls_equal = true;
    checked
        .clone()
        .join(
            duplicated_keys(checked, key).select(keys.clone()),
            on.clone(),
            keys,
            args,
        )
        .sort_by_exprs(on, Default::default())
}

/// [`Check::UniquePerDay`]: the rows of `checked` (a rollup's, whose key
/// holds `event_time`) in duplicated keys, counted one calendar month of
/// `event_time` at a time over `span` (its first and last day, from the
/// data rules' scan) and then the rows without a day, each collected on its
/// own: one group-by over every key of a rollup at L (83M rows) took
/// 10 GiB. Returns the count and the rows of the first part with copies
/// (for the examples).
pub(super) fn duplicates_by_month(
    checked: LazyFrame,
    key: &[&str],
    span: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
) -> Result<(u64, LazyFrame)> {
    let day = typed("event_time");
    let mut parts: Vec<Expr> = Vec::new();
    if let Some((first, last)) = span {
        let mut month = chrono::Datelike::with_day(&first, 1).unwrap_or(first);
        while month <= last {
            let next = month + chrono::Months::new(1);
            parts.push(crate::time::in_range(
                day.clone(),
                crate::time::date_lit(month),
                crate::time::date_lit(next),
            ));
            month = next;
        }
    }
    // Rows in no month: those without a day (a rule of their own).
    parts.push(day.clone().is_null());
    let mut total = 0;
    let mut first_with_copies = None;
    for part in parts {
        let rows = checked.clone().filter(part);
        let counted = crate::frame::collect_all(
            vec![duplicated_keys(rows.clone(), key)
                .select([col("__copies").sum().cast(DataType::UInt64).alias("rows")])],
            "checking input data",
        )?
        .pop()
        .unwrap_or_default();
        let n = count_of(&counted, "rows");
        if n > 0 && first_with_copies.is_none() {
            first_with_copies = Some(rows);
        }
        total += n;
    }
    Ok((total, first_with_copies.unwrap_or(checked)))
}

/// The keys (typed `key` columns, as `__key:COLUMN`) that appear more than
/// once in `frame`, with `__copies`, the rows of each. With one column,
/// nulls are no key (they have their own rule); with several, a null is a
/// value like any other (a rollup row without a user).
pub(super) fn duplicated_keys(frame: LazyFrame, key: &[&str]) -> LazyFrame {
    let names: Vec<Expr> = key.iter().map(|c| col(format!("__key:{c}"))).collect();
    let mut keys = frame.select(
        key.iter()
            .map(|c| typed(c).alias(format!("__key:{c}")))
            .collect::<Vec<_>>(),
    );
    if let [only] = key {
        keys = keys.filter(col(format!("__key:{only}")).is_not_null());
    }
    keys.group_by(names)
        .agg([len().alias("__copies")])
        .filter(col("__copies").gt(lit(1)))
}
