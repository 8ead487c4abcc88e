//! Rows of fact sources without a known account (docs/INPUTS.md#the-checks):
//! the warning below the fatal share, with example keys of both sides (user
//! ids through `users`, the closest names through `account_name`), and the
//! examples of the fatal rule's message.

use polars::prelude::*;

use super::data_rule::typed;
use super::{drops, orphan_names, values_shown, Drops, QualityReport, EXAMPLES, ORPHAN};
use crate::config::SourceName;
use crate::error::Result;
use crate::inputs::Inputs;

/// Warns about dropped orphan rows below the fatal share, with example ids
/// from both sides, so that an id mismatch (two systems' ids) shows at once.
pub(super) fn warn_orphans(
    inputs: &Inputs,
    orphans: Vec<(SourceName, u64, u64, LazyFrame)>,
    report: &mut QualityReport,
) -> Result<()> {
    if orphans.is_empty() {
        return Ok(());
    }
    let key = |name: &SourceName| drops::key_of(&inputs.sources[name]);
    let mut plans = vec![distinct(inputs.account_ids()?, col("account_id"))];
    for (name, _, _, frame) in &orphans {
        let unknown = frame
            .clone()
            .filter(col(ORPHAN).and(col(drops::EMPTY).not()));
        plans.push(match key(name) {
            "account_name" => orphan_names::unmatched(unknown),
            key => distinct(unknown, typed(key)),
        });
    }
    let names = orphans.iter().any(|(name, ..)| key(name) == "account_name");
    let users = orphans.iter().any(|(name, ..)| key(name) == "user_id");
    let mut extra = Vec::new();
    if names {
        extra.push(orphan_names::account_names(inputs)?);
    }
    if users {
        extra.push(distinct(inputs.frame(SourceName::Users)?, col("user_id")));
    }
    let n = plans.len();
    plans.extend(extra);
    let mut found = crate::frame::collect_all(plans, "finding example ids")?;
    let mut extra = found.split_off(n).into_iter();
    let account_names = if names {
        extra.next().unwrap_or_default()
    } else {
        DataFrame::empty()
    };
    let user_ids = if users {
        values_shown(&extra.next().unwrap_or_default(), "id")
    } else {
        String::new()
    };
    let mut examples = found.into_iter();
    let known = values_shown(&examples.next().unwrap_or_default(), "id");
    for (name, count, rows, _) in orphans {
        let unknown = examples.next().unwrap_or_default();
        let drops = report.drops.get(&name).copied().unwrap_or_default();
        let why = Drops {
            expected: 0,
            ..drops
        }
        .reason();
        let shown = if drops.unknown == 0 {
            String::new()
        } else {
            match drops.key {
                "account_name" => format!(
                    "; names that match nothing: {}. Spell them as `accounts` does, or key the source by `account_id`",
                    orphan_names::with_closest(&unknown, &account_names)
                ),
                "user_id" => format!(
                    "; e.g. user ids {}; `users` has e.g. {user_ids}. Key users the same way on both sides (the \
                     same `user_id`, not an email on one side and an id on the other)",
                    values_shown(&unknown, "id")
                ),
                _ => format!(
                    "; e.g. {}; `accounts` has e.g. {known}. If the two sides look different, this source's ids \
                     come from another system: map the right column in `columns`",
                    values_shown(&unknown, "id")
                ),
            }
        };
        let expected = if drops.expected > 0 {
            format!(
                " ({} more dropped as expected by quality.expected_orphans)",
                drops.expected
            )
        } else {
            String::new()
        };
        let message = format!(
            "source `{name}`: dropped {count} of {rows} row(s) without a known account ({why}){expected}{shown}. \
             Drops that are expected (staff accounts, anonymous events) can be listed by their {} in \
             `quality.expected_orphans.{name}`",
            drops.key
        );
        crate::log::warn("check", &message);
        report.warnings.push(message);
    }
    Ok(())
}

/// Up to [`EXAMPLES`] distinct values of `column`, sorted, as `id`.
fn distinct(frame: LazyFrame, column: Expr) -> LazyFrame {
    frame
        .select([column.cast(DataType::String).alias("id")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["id"], SortMultipleOptions::default().with_nulls_last(true))
        .limit(EXAMPLES as u32)
}

/// Example account ids of `accounts`, shown beside dropped ids.
pub(super) fn account_id_examples(inputs: &Inputs) -> Result<String> {
    let found = crate::frame::collect_all(
        vec![distinct(inputs.account_ids()?, col("account_id"))],
        "finding example ids",
    )?;
    Ok(found
        .first()
        .map(|df| values_shown(df, "id"))
        .unwrap_or_default())
}

/// The unmatched `account_name` values of `orphans` with the closest names
/// of `accounts` (docs/INPUTS.md#account-through-company-name).
pub(super) fn unmatched_names(inputs: &Inputs, orphans: LazyFrame) -> Result<String> {
    let found = crate::frame::collect_all(
        vec![
            orphan_names::unmatched(orphans),
            orphan_names::account_names(inputs)?,
        ],
        "finding unmatched company names",
    )?;
    Ok(orphan_names::with_closest(
        found.first().unwrap_or(&DataFrame::empty()),
        found.get(1).unwrap_or(&DataFrame::empty()),
    ))
}
