//! Duplicate companies (docs/INPUTS.md#company-names): account ids whose
//! `name` is one company's once case, spacing, punctuation and legal form
//! are ignored. A CRM merge that left both ids splits one customer's
//! tickets, revenue and training between two accounts, and the run compares
//! half-customers. A warning lists them; above
//! `quality.max_duplicate_name_share` of the named accounts, exit 3.

use polars::prelude::*;

use super::{Plausibility, IDS_SHOWN};
use crate::config::{Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::quality::report::{count_at, count_of};
use crate::quality::text_of;
use crate::source::names::normalized;

/// Three plans over `accounts` with a `name`: the named accounts; the names
/// shared by several ids and those ids; the first of them, by name.
pub(super) fn plans(accounts: LazyFrame) -> Vec<LazyFrame> {
    let keyed = accounts
        .select([
            col("account_id").cast(DataType::String),
            col("name").cast(DataType::String),
            normalized(col("name")).alias("key"),
        ])
        .filter(col("key").is_not_null());
    let shared = keyed
        .clone()
        .group_by([col("key")])
        .agg([len().cast(DataType::UInt64).alias("ids")])
        .filter(col("ids").gt(lit(1u64)));
    vec![
        keyed
            .clone()
            .select([len().cast(DataType::UInt64).alias("named")]),
        shared.clone().select([
            col("ids").sum().cast(DataType::UInt64).alias("shared"),
            len().cast(DataType::UInt64).alias("names"),
        ]),
        keyed
            .join(
                shared.select([col("key")]),
                [col("key")],
                [col("key")],
                JoinArgs::new(JoinType::Inner),
            )
            .sort(["key", "account_id"], SortMultipleOptions::default())
            .limit(4 * IDS_SHOWN as u32),
    ]
}

/// The warning, or exit 3 above the share; from the results of [`plans`].
pub(super) fn check(
    inputs: &Inputs,
    pipeline: &Pipeline,
    results: &mut impl Iterator<Item = DataFrame>,
    found: &mut Plausibility,
) -> Result<()> {
    let named = count_of(&results.next().unwrap_or_default(), "named");
    let totals = results.next().unwrap_or_default();
    let examples = results.next().unwrap_or_default();
    let (shared, names) = (count_of(&totals, "shared"), count_of(&totals, "names"));
    if shared == 0 {
        return Ok(());
    }
    let ids: Vec<String> = (0..examples.height())
        .filter_map(|i| text_of(&examples, "account_id", i))
        .collect();
    let rows = fact_rows(inputs, &ids)?;
    let mut groups: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for i in 0..examples.height() {
        let key = text_of(&examples, "key", i).unwrap_or_default();
        let id = text_of(&examples, "account_id", i).unwrap_or_default();
        let name = text_of(&examples, "name", i).unwrap_or_default();
        let entry = format!(
            "`{id}` \"{name}\" ({} fact row(s))",
            rows.get(&id).copied().unwrap_or(0)
        );
        if current.as_deref() == Some(key.as_str()) {
            if let Some(last) = groups.last_mut() {
                last.push_str(&format!(" = {entry}"));
            }
        } else {
            groups.push(entry);
            current = Some(key);
        }
    }
    let shown = groups.len().min(IDS_SHOWN);
    let more = if names as usize > shown {
        format!("; and {} more", names as usize - shown)
    } else {
        String::new()
    };
    let share = shared as f64 / named.max(1) as f64;
    let limit = pipeline.quality.max_duplicate_name_share;
    let files = inputs
        .get(SourceName::Accounts)
        .map(|s| s.files_shown())
        .unwrap_or_default();
    let message = format!(
        "source `accounts` ({files}): {names} company name(s) belong to several account ids ({shared} accounts, \
         {:.1} % of the {named} with a `name`; quality.max_duplicate_name_share {:.1} %): {}{more}. A CRM merge \
         that kept both ids splits one customer's rows between two accounts",
        share * 100.0,
        limit * 100.0,
        groups[..shown].join("; ")
    );
    if share > limit {
        return Err(Error::data_hint(
            message,
            "merge the duplicates in the export (keep the surviving id and map the other's rows to it), or \
             raise quality.max_duplicate_name_share if these are distinct companies",
        ));
    }
    found.warnings.push(message);
    Ok(())
}

/// Rows per account id in the fact sources other than `events`, for the
/// ids shown (which of two ids is the live one).
fn fact_rows(inputs: &Inputs, ids: &[String]) -> Result<std::collections::BTreeMap<String, u64>> {
    let list = Series::new("ids".into(), ids.to_vec());
    let mut plans = Vec::new();
    for name in SourceName::ALL {
        if matches!(
            name,
            SourceName::Accounts | SourceName::Users | SourceName::Events
        ) || inputs.get(name).is_none()
        {
            continue;
        }
        plans.push(
            inputs
                .frame(name)?
                .select([col("account_id").cast(DataType::String)])
                .filter(col("account_id").is_in(lit(list.clone()).implode(false), false))
                .group_by([col("account_id")])
                .agg([len().cast(DataType::UInt64).alias("rows")]),
        );
    }
    let mut rows = std::collections::BTreeMap::new();
    for df in crate::frame::collect_all(plans, "counting the rows of duplicate accounts")? {
        for i in 0..df.height() {
            let id = text_of(&df, "account_id", i).unwrap_or_default();
            *rows.entry(id).or_insert(0) += count_at(&df, "rows", i);
        }
    }
    Ok(rows)
}
