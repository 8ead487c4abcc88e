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
}

impl KnownIds {
    pub(super) fn collect(inputs: &Inputs) -> Result<KnownIds> {
        let wants_users = inputs
            .sources
            .values()
            .any(|loaded| checks_user_overlap(inputs, loaded));
        let mut plans = vec![inputs.account_ids()?.select([col("account_id")])];
        if wants_users {
            plans.push(
                inputs
                    .frame(SourceName::Users)?
                    .select([col("user_id")])
                    .unique(None, UniqueKeepStrategy::Any),
            );
        }
        let mut found = crate::frame::collect_all(plans, "reading the known ids")?.into_iter();
        let accounts = found
            .next()
            .unwrap_or_default()
            .column("account_id")
            .map(|c| c.as_materialized_series().clone())
            .map_err(|e| crate::error::Error::engine("reading the known ids", e))?;
        let users = match found.next() {
            Some(frame) => Some(
                frame
                    .column("user_id")
                    .map(|c| c.as_materialized_series().clone())
                    .map_err(|e| crate::error::Error::engine("reading the known ids", e))?,
            ),
            None => None,
        };
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
