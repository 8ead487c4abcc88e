//! The ids fact rows are checked against (docs/INPUTS.md#the-checks).

use std::sync::Arc;

use polars::prelude::*;

use super::checks_user_overlap;
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
}

impl KnownIds {
    pub(super) fn collect(inputs: &Inputs) -> Result<KnownIds> {
        let wants_users = inputs
            .sources
            .values()
            .any(|loaded| checks_user_overlap(inputs, loaded));
        let (accounts, users) = inputs.known_ids(wants_users)?;
        let set = |ids: &Series| {
            IdSet::of(ids)
                .map(Arc::new)
                .map_err(|e| crate::error::Error::engine("reading the known ids", e))
        };
        Ok(KnownIds {
            account_set: set(&accounts)?,
            user_set: users.as_ref().map(set).transpose()?,
            accounts,
        })
    }
}

/// Whether `value` is one of `ids` (false for a null value).
pub(super) fn is_one_of(value: Expr, ids: &Series) -> Expr {
    value
        .is_in(lit(ids.clone()).implode(false), false)
        .fill_null(lit(false))
}
