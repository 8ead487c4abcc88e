//! The ids every fact row is checked against, read once per run
//! (docs/INPUTS.md#the-checks): the account ids of `accounts` and the user
//! ids of `users`, from the rows their passes kept when they were kept.

use std::sync::Arc;

use polars::prelude::*;

use super::Inputs;
use crate::config::SourceName;
use crate::error::{Error, Result};
use crate::ids::IdSet;

/// The ids of `accounts` and `users`, read once per run
/// ([`Inputs::known_ids`]).
#[derive(Clone, Default)]
pub struct KnownIdColumns {
    /// `account_id` of every row of `accounts`, typed.
    pub accounts: Series,
    /// `user_id` of the rows of `users` whose account is in `accounts`
    /// (the users of [`Inputs::frame`]), when read.
    pub users: Option<Series>,
    /// The rows of `users` whose `user_id` appears more than once, when its
    /// ids were read: its uniqueness rule is counted here, without reading
    /// the file again ([`crate::ids::rows_in_copies`]).
    pub user_copies: Option<u64>,
}

impl Inputs {
    /// The account ids of `accounts` and, with `users` (when the pipeline
    /// has `users`), the user ids of `users`: the ids that the data rules
    /// and the activity fold look rows up in ([`crate::ids::IdSet`]). Read
    /// once per run, the accounts' once for both: the checks ask for the
    /// accounts' after the pass over `accounts` and the users' after the
    /// pass over `users`, so that both are read from the rows those passes
    /// kept, not parsed from CSV files again.
    pub fn known_ids(&self, users: bool) -> Result<KnownIdColumns> {
        let users = users && self.get(SourceName::Users).is_some();
        let memo = &self.known[users as usize];
        if let Some(known) = memo.get() {
            return Ok(known.clone());
        }
        let known = match users {
            false => KnownIdColumns {
                accounts: self.read_account_ids()?,
                ..KnownIdColumns::default()
            },
            true => self.read_user_ids(self.known_ids(false)?.accounts)?,
        };
        Ok(memo.get_or_init(|| known).clone())
    }

    /// The ids of [`Inputs::known_ids`] as sets, shared while in use: the
    /// data rules' pass and the activity fold riding it look the same ids up
    /// in the same set, once per row ([`crate::frame::Slots`]); the sets
    /// are freed when the last user drops them.
    pub fn known_sets(&self, users: bool) -> Result<(Arc<IdSet>, Option<Arc<IdSet>>)> {
        let known = self.known_ids(users)?;
        let mut sets = self
            .sets
            .lock()
            .map_err(|_| Error::other("reading the known ids: a thread failed"))?;
        let mut shared = |i: usize, ids: &Series| -> Result<Arc<IdSet>> {
            if let Some(set) = sets[i].upgrade() {
                return Ok(set);
            }
            let set = IdSet::of(ids)
                .map(Arc::new)
                .map_err(|e| Error::engine("reading the known ids", e))?;
            sets[i] = Arc::downgrade(&set);
            Ok(set)
        };
        let accounts = shared(0, &known.accounts)?;
        let users = known.users.as_ref().map(|ids| shared(1, ids)).transpose()?;
        Ok((accounts, users))
    }

    /// `account_id` of every row of `accounts`.
    fn read_account_ids(&self) -> Result<Series> {
        let what = "reading the known ids";
        let found = self
            .account_ids()?
            .select([col("account_id")])
            .collect()
            .map_err(|e| Error::engine(what, e))?;
        column_of(&found, "account_id", what)
    }

    /// One read of `users`' ids with their accounts: the users of the
    /// known `accounts` are kept here, in memory, rather than by a join
    /// that would read `users` a second time.
    fn read_user_ids(&self, accounts: Series) -> Result<KnownIdColumns> {
        let what = "reading the known ids";
        let engine = |e| Error::engine(what, e);
        let rows = self
            .loaded(SourceName::Users)?
            .frame
            .clone()
            .select([col("user_id"), col("account_id")])
            .collect()
            .map_err(engine)?;
        // The rows [`Inputs::known_accounts`] keeps, in their order.
        let ids =
            DataFrame::new(accounts.len(), vec![accounts.clone().into_column()]).map_err(engine)?;
        let known = rows
            .clone()
            .lazy()
            .semi_join(ids.lazy(), col("account_id"), col("account_id"))
            .collect()
            .map_err(engine)?;
        let all = column_of(&rows, "user_id", what)?;
        Ok(KnownIdColumns {
            accounts,
            users: Some(column_of(&known, "user_id", what)?),
            user_copies: Some(crate::ids::rows_in_copies(&all).map_err(engine)?),
        })
    }
}

/// A column of a frame just read, as a series.
fn column_of(frame: &DataFrame, name: &str, what: &str) -> Result<Series> {
    frame
        .column(name)
        .map(|c| c.as_materialized_series().clone())
        .map_err(|e| Error::engine(what, e))
}
