//! Dropped rows of a source keyed by company name
//! (docs/INPUTS.md#account-through-company-name): the names that matched no
//! account, each with the closest names of `accounts`, so that a spelling
//! the normalization does not cover shows at once.

use polars::prelude::*;

use super::EXAMPLES;
use crate::config::SourceName;
use crate::error::Result;
use crate::inputs::Inputs;

/// How many close names a message shows per unmatched name.
const CLOSEST: usize = 2;

/// Up to [`EXAMPLES`] distinct `account_name` values of the orphan rows
/// (`orphans`: the check frame filtered to them), as `name`.
pub(super) fn unmatched(orphans: LazyFrame) -> LazyFrame {
    keyed(orphans.select([col("account_name").cast(DataType::String).alias("name")]))
        .sort(["name"], SortMultipleOptions::default())
        .limit(EXAMPLES as u32)
}

/// The distinct names of `accounts`, as `name`.
pub(super) fn account_names(inputs: &Inputs) -> Result<LazyFrame> {
    Ok(keyed(
        inputs
            .frame(SourceName::Accounts)?
            .select([col("name").cast(DataType::String)]),
    ))
}

/// Distinct non-null `name`s with their normalized `key`.
fn keyed(names: LazyFrame) -> LazyFrame {
    names
        .filter(col("name").is_not_null())
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(crate::source::names::normalized(col("name")).alias("key"))
}

/// "`Initech Systems` (closest: `Initech`, `Initrode`)", for each unmatched
/// name; the distance is Levenshtein between the normalized names.
pub(super) fn with_closest(unmatched: &DataFrame, names: &DataFrame) -> String {
    let values = |df: &DataFrame| -> Vec<(String, String)> {
        (0..df.height())
            .filter_map(|i| {
                let name = super::text_of(df, "name", i)?;
                let key = super::text_of(df, "key", i).unwrap_or_default();
                Some((name, key))
            })
            .collect()
    };
    let known = values(names);
    let shown: Vec<String> = values(unmatched)
        .into_iter()
        .map(|(name, key)| {
            let mut near: Vec<(usize, &String)> = known
                .iter()
                .map(|(k, k_key)| (strsim::levenshtein(&key, k_key), k))
                .collect();
            near.sort();
            let near: Vec<String> = near
                .iter()
                .take(CLOSEST)
                .map(|(_, k)| format!("`{k}`"))
                .collect();
            if near.is_empty() {
                format!("`{name}`")
            } else {
                format!("`{name}` (closest: {})", near.join(", "))
            }
        })
        .collect();
    if shown.is_empty() {
        "only empty names".to_string()
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unmatched_name_shows_the_closest_account_names() {
        let unmatched = keyed(
            df!("name" => ["Initech Systems", "Umbrela"])
                .unwrap()
                .lazy(),
        )
        .sort(["name"], SortMultipleOptions::default())
        .collect()
        .unwrap();
        let names = keyed(
            df!("name" => ["Initech", "Umbrella Corp", "Acme Inc", "Initrode"])
                .unwrap()
                .lazy(),
        )
        .collect()
        .unwrap();
        assert_eq!(
            with_closest(&unmatched, &names),
            "`Initech Systems` (closest: `Initech`, `Initrode`), `Umbrela` (closest: `Umbrella Corp`, `Acme Inc`)"
        );
    }
}
