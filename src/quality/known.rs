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
    /// The ids known so far: the accounts' and, with `users`, the users'
    /// ([`Inputs::known_ids`]).
    pub(super) fn collect(inputs: &Inputs, users: bool) -> Result<KnownIds> {
        let known = inputs.known_ids(users)?;
        let (account_set, user_set) = inputs.known_sets(users)?;
        let mut copies = vec![(
            SourceName::Accounts,
            "account_id",
            crate::ids::rows_in_copies(&known.accounts)
                .map_err(|e| crate::error::Error::engine("checking input data", e))?,
        )];
        if let Some(n) = known.user_copies {
            copies.push((SourceName::Users, "user_id", n));
        }
        Ok(KnownIds {
            account_set,
            user_set,
            accounts: known.accounts,
            copies,
        })
    }

    /// Whether the users' ids are among them.
    pub(super) fn has_users(&self) -> bool {
        self.user_set.is_some()
    }

    /// Whether a source's user ids are checked against `users` in this
    /// check (see [`checks_user_overlap`]).
    pub(super) fn wanted(inputs: &Inputs) -> bool {
        inputs
            .sources
            .values()
            .any(|loaded| checks_user_overlap(inputs, loaded))
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

/// Whether `value` is one of `ids` (false for a null value).
pub(super) fn is_one_of(value: Expr, ids: &Series) -> Expr {
    value
        .is_in(lit(ids.clone()).implode(false), false)
        .fill_null(lit(false))
}
