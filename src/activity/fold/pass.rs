//! The fold's pass over the rows (docs/ARCHITECTURE.md, "Activity"): a
//! [`Pass`] is the fold of a set of reductions, ready for rows. It reads
//! the rows of a plan of its own ([`compute`]), or rides another pass over
//! the same rows (the events' data rules, [`crate::frame::Rider`]): then
//! the columns it reads are computed beside that pass's own, and the rows
//! it must not fold are marked, not filtered out.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{Fold, Known, Reduction, Types, ACCOUNT_SLOT, USER_SLOT};
use crate::error::{Error, Result};
use crate::frame::Slots;
use crate::ids::NO_SLOT;

/// Where the fold finds each row's values in the frame a pass reads.
pub struct RowColumns {
    pub account: Expr,
    pub user: Expr,
    /// The UTC day (Date).
    pub day: Expr,
    pub name: Expr,
    /// The rows to fold (None: every row). The others are folded as rows
    /// without a subject, which every reduction leaves out.
    pub keep: Option<Expr>,
}

/// The fold of `reductions` (by key), ready for rows.
pub struct Pass {
    fold: Fold,
    types: Types,
    reductions: BTreeMap<String, Reduction>,
    known: Known,
}

impl Pass {
    /// A fold of `reductions` over rows whose ids are of `types`; the ids
    /// of `known` take the first positions.
    pub fn new(
        reductions: &BTreeMap<String, Reduction>,
        known: &Known,
        types: Types,
    ) -> Result<Pass> {
        let mut fold = Fold {
            accounts: super::index::Index::new(&types.account, known.accounts.clone())?,
            users: super::index::Index::new(&types.user, known.users.clone())?,
            names: Vec::new(),
            dictionary: None,
            states: Vec::new(),
        };
        for reduction in reductions.values() {
            let state = fold.state(reduction)?;
            fold.states.push(state);
        }
        Ok(Pass {
            fold,
            types,
            reductions: reductions.clone(),
            known: known.clone(),
        })
    }

    /// The columns the fold reads, computed by the engine from `rows`:
    /// the ids (null on the rows not to fold), the day as days since 1970,
    /// the code of the name among the names of interest, the name itself
    /// when a reduction asks for every name, and the known ids' slots. With
    /// `known.only_these_accounts`, a row whose account is not among them
    /// is not folded. A lookup of `slots` (the ids the pass riding looks up
    /// anyway) is read instead of made again.
    pub fn columns(&self, rows: &RowColumns, slots: &Slots) -> Vec<Expr> {
        let account_slot = self
            .known
            .accounts
            .as_ref()
            .map(|ids| Slots::slot(slots.account.as_ref(), ids, rows.account.clone()));
        let keep = match (&account_slot, self.known.only_these_accounts, &rows.keep) {
            (Some(slot), true, keep) => Some(
                slot.clone()
                    .neq(lit(NO_SLOT))
                    .and(keep.clone().unwrap_or(lit(true))),
            ),
            (_, _, keep) => keep.clone(),
        };
        let kept = |value: Expr, dtype: &DataType| match &keep {
            Some(keep) => when(keep.clone())
                .then(value)
                .otherwise(lit(NULL).cast(dtype.clone())),
            None => value,
        };
        let mut columns = vec![
            kept(rows.account.clone(), &self.types.account).alias("account_id"),
            kept(rows.user.clone(), &self.types.user).alias("user_id"),
            rows.day.clone().cast(DataType::Int32).alias("day"),
            self.fold.code_column(rows.name.clone()),
        ];
        if self.fold.dictionary.is_some() {
            columns.push(rows.name.clone().cast(DataType::String).alias("event_name"));
        }
        if let Some(slot) = account_slot {
            columns.push(
                kept(slot, &DataType::UInt32)
                    .fill_null(lit(NO_SLOT))
                    .alias(ACCOUNT_SLOT),
            );
        }
        if let Some(ids) = &self.known.users {
            let slot = Slots::slot(slots.user.as_ref(), ids, rows.user.clone());
            columns.push(
                kept(slot, &DataType::UInt32)
                    .fill_null(lit(NO_SLOT))
                    .alias(USER_SLOT),
            );
        }
        columns
    }

    /// Folds one batch in (its columns from [`Pass::columns`]).
    pub fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        self.fold.add(batch)
    }

    /// The frame of every reduction, by key.
    pub fn frames(self) -> Result<BTreeMap<String, DataFrame>> {
        let engine = |e| Error::engine("computing the activity of events", e);
        self.reductions
            .iter()
            .zip(&self.fold.states)
            .map(|((key, reduction), state)| {
                let frame = self
                    .fold
                    .frame(reduction, state, &self.types)
                    .map_err(engine)?;
                Ok((key.clone(), frame))
            })
            .collect()
    }
}

/// Computes every reduction of `reductions` (by key) in one pass over
/// `activity` (the contract of [`super::super`]; its days are never null).
/// With `known.only_these_accounts`, rows of other accounts may be left in
/// `activity` ([`super::super::local_rows`]): their account has no slot
/// among the known accounts, and they are not folded, as the contract's
/// join would drop them.
pub fn compute(
    activity: LazyFrame,
    reductions: &BTreeMap<String, Reduction>,
    known: &Known,
) -> Result<BTreeMap<String, DataFrame>> {
    compute_in_batches(activity, reductions, known, None)
}

/// [`compute`], the rows coming in batches of `batch_rows` (None: as the
/// engine reads them).
pub(super) fn compute_in_batches(
    activity: LazyFrame,
    reductions: &BTreeMap<String, Reduction>,
    known: &Known,
    batch_rows: Option<std::num::NonZeroUsize>,
) -> Result<BTreeMap<String, DataFrame>> {
    let what = "computing the activity of events";
    if reductions.is_empty() {
        return Ok(BTreeMap::new());
    }
    let pass = Pass::new(reductions, known, types_of(&activity)?)?;
    let columns = pass.columns(
        &RowColumns {
            account: col("account_id"),
            user: col("user_id"),
            day: col("day"),
            name: col("event_name"),
            keep: None,
        },
        &Slots::default(),
    );
    let mut rows = activity.select(columns);
    if known.accounts.is_some() && known.only_these_accounts {
        // Rows not to fold are left out here rather than marked.
        rows = rows.filter(col(ACCOUNT_SLOT).neq(lit(NO_SLOT)));
    }
    let pass = crate::frame::fold_batches(rows, pass, batch_rows, false, what, |pass, batch| {
        pass.add(batch)
    })?;
    pass.frames()
}

/// The id types of `activity`'s subjects (the contract's columns).
pub fn types_of(activity: &LazyFrame) -> Result<Types> {
    let schema = activity
        .clone()
        .collect_schema()
        .map_err(|e| Error::engine("computing the activity of events", e))?;
    let dtype = |column: &str| {
        schema
            .get(column)
            .cloned()
            .ok_or_else(|| Error::other(format!("activity has no column `{column}`")))
    };
    Ok(Types {
        account: dtype("account_id")?,
        user: dtype("user_id")?,
    })
}
