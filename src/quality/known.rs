//! The ids fact rows are checked against (docs/INPUTS.md#the-checks).

use std::sync::Arc;

use polars::prelude::*;

use super::checks_user_overlap;
use crate::config::SourceName;
use crate::error::Result;
pub(super) use crate::ids::{IdSet, NO_SLOT};
use crate::inputs::Inputs;

/// The ids fact rows are checked against, collected once per check: the
/// account ids of `accounts` and, when a source's user ids are checked,
/// the user ids of `users`. The counts look each row's ids up in a set
/// ([`IdSet`], docs/BENCHMARKS.md, "The data rules in one pass"); the
/// example rows of a broken rule test membership with `is_in` against the
/// account ids.
pub(super) struct KnownIds {
    pub(super) accounts: Series,
    /// The ids as sets, for the counts' lookups ([`super::tally`]).
    pub(super) account_set: Arc<IdSet>,
    pub(super) user_set: Option<Arc<IdSet>>,
    /// The `must be unique` rules already counted over the ids read here
    /// (`account_id` of `accounts`; `user_id` of `users` when its ids were
    /// read): (source, column) → rows in ids that appear more than once.
    copies: Vec<(SourceName, &'static str, u64)>,
}

impl KnownIds {
    pub(super) fn collect(inputs: &Inputs) -> Result<KnownIds> {
        let wants_users = inputs
            .sources
            .values()
            .any(|loaded| checks_user_overlap(inputs, loaded));
        let known = inputs.known_ids(wants_users)?;
        let set = |ids: &Series| {
            IdSet::of(ids)
                .map(Arc::new)
                .map_err(|e| crate::error::Error::engine("reading the known ids", e))
        };
        let mut copies = vec![(
            SourceName::Accounts,
            "account_id",
            copies_among(&known.accounts)?,
        )];
        if let Some(users) = &known.every_user {
            copies.push((SourceName::Users, "user_id", copies_among(users)?));
        }
        Ok(KnownIds {
            account_set: set(&known.accounts)?,
            user_set: known.users.as_ref().map(set).transpose()?,
            accounts: known.accounts,
            copies,
        })
    }

    /// The count of a `must be unique` rule of one column (`key`) of
    /// `source`, when it was counted over the ids read here; None: the rule
    /// reads the source itself ([`super::duplicates::duplicated_keys`]).
    pub(super) fn copies(&self, source: SourceName, key: &[&str]) -> Option<u64> {
        let [column] = key else { return None };
        self.copies
            .iter()
            .find(|(s, c, _)| *s == source && c == column)
            .map(|(_, _, n)| *n)
    }
}

/// The rows of `ids` (every row's typed id) whose id appears more than once,
/// nulls left out (they have their own rule): what
/// [`super::duplicates::duplicated_keys`] counts over the source, from the
/// ids in memory. A distinct count first, the exact count only with copies.
fn copies_among(ids: &Series) -> Result<u64> {
    let what = "checking input data";
    let engine = |e| crate::error::Error::engine(what, e);
    let present = ids.drop_nulls();
    if present.n_unique().map_err(engine)? == present.len() {
        return Ok(0);
    }
    let rows = present.len();
    let frame =
        DataFrame::new(rows, vec![present.with_name("id".into()).into_column()]).map_err(engine)?;
    let counted = crate::frame::collect_all(
        vec![frame
            .lazy()
            .group_by([col("id")])
            .agg([len().alias("copies")])
            .filter(col("copies").gt(lit(1)))
            .select([col("copies").sum().cast(DataType::UInt64).alias("rows")])],
        what,
    )?;
    Ok(counted
        .first()
        .map(|frame| super::report::count_of(frame, "rows"))
        .unwrap_or(0))
}

/// Whether `value` is one of `ids` (false for a null value).
pub(super) fn is_one_of(value: Expr, ids: &Series) -> Expr {
    value
        .is_in(lit(ids.clone()).implode(false), false)
        .fill_null(lit(false))
}
