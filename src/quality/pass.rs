//! One streaming pass per source (docs/INPUTS.md#the-checks): its row
//! rules, orphans, users and days counted together, with a rider reading
//! the same rows (the activity fold on the events, the writer of the kept
//! rows on a CSV source), in an order that makes the ids known first.

use polars::prelude::*;

use super::data_rule::typed;
use super::known::KnownIds;
use super::rules::{main_day, rules_of, Check};
use super::{checks_user_overlap, drops, expected_orphans, rows_checked, tally, Scope};
use crate::config::{Pipeline, SourceName};
use crate::error::Result;
use crate::frame::Rider;
use crate::inputs::Inputs;

/// The order of the sources' passes: `accounts`, `users`, then the others
/// (each fact source's account ids, and the user ids of `events` and
/// `training`, are checked against the ids of those two).
pub(super) fn pass_order(inputs: &Inputs) -> Vec<SourceName> {
    let first = [SourceName::Accounts, SourceName::Users];
    let present = |name: &SourceName| inputs.sources.contains_key(name);
    let rest = inputs.sources.keys().filter(|name| !first.contains(name));
    first
        .iter()
        .filter(|n| present(n))
        .chain(rest)
        .copied()
        .collect()
}

/// One pass over `name`'s rows: the counts of its row rules, orphans,
/// users and days (a one-row frame), with `rider` reading the same rows,
/// and the rider that keeps its typed rows with [`Scope::spill`] (the
/// handle to them). `known` is None only for `accounts`.
pub(super) fn count_source(
    inputs: &Inputs,
    pipeline: &Pipeline,
    scope: &Scope,
    name: SourceName,
    known: Option<&KnownIds>,
    rider: Option<Box<dyn Rider>>,
) -> Result<(DataFrame, Option<crate::source::Spilled>)> {
    let loaded = &inputs.sources[&name];
    let rules = rules_of(loaded, scope);
    let accounts =
        known
            .filter(|_| name != SourceName::Accounts)
            .map(|known| tally::AccountCheck {
                account: typed("account_id"),
                known: known.account_set.clone(),
                expected: drops::expected(drops::key_of(loaded), expected_orphans(pipeline, name)),
                empty: typed(drops::key_of(loaded)).is_null(),
            });
    let users = match known.and_then(|k| k.user_set.as_ref()) {
        Some(users) if checks_user_overlap(inputs, loaded) => {
            Some((typed("user_id"), users.clone()))
        }
        _ => None,
    };
    // Training with `completed_values`: the completions' dates only
    // (docs/INPUTS.md#freshness).
    let day = main_day(loaded).map(|day| {
        let values = pipeline
            .sources
            .get(&name)
            .map(|s| s.config.completed_values.as_slice())
            .unwrap_or_default();
        if day == "completed_at" && !values.is_empty() {
            when(crate::source::status::completed(values))
                .then(typed(day))
                .otherwise(lit(NULL))
        } else {
            typed(day)
        }
    });
    let row_rules = rules
        .iter()
        .enumerate()
        .filter_map(|(i, rule)| match &rule.check {
            Check::Row(bad) => Some((format!("rule_{i}"), bad.clone())),
            _ => None,
        })
        .collect();
    let counts = tally::Counts {
        rules: row_rules,
        accounts,
        users,
        day,
    };
    let (writer, spilled) = match scope.spill.as_deref().and_then(|dir| loaded.spill(dir)) {
        Some((writer, spilled)) => (Some(writer), Some(spilled)),
        None => (None, None),
    };
    let rider: Option<Box<dyn Rider>> = match (writer, rider) {
        (Some(writer), Some(rider)) => Some(Box::new(crate::frame::Riders(vec![writer, rider]))),
        (writer, rider) => writer.or(rider),
    };
    let counts = counts.over(
        rows_checked(loaded, scope),
        &format!("checking source `{name}`"),
        rider,
    )?;
    Ok((counts, spilled))
}
