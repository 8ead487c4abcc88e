//! The counts of a source's data rules (docs/INPUTS.md#the-checks) in one
//! streaming pass (docs/ARCHITECTURE.md, "Where each concern lives"): the engine computes each row's rule
//! flags, its typed ids and its day in parallel, and hands the rows over in
//! batches; here they are added up. Membership in `accounts` and `users`
//! is a lookup in an [`IdSet`] (a bit per id for the small non-negative
//! integer ids most systems use), and the distinct known accounts are bits
//! set on the way, not a hash set of every row's id (docs/BENCHMARKS.md,
//! "The data rules in one pass").
//!
//! The result is the one-row frame of counts that [`super::check`] reads:
//! `rows`, each row rule's `rule_i`, the orphans by why, the distinct known
//! accounts, the user overlap and the first and last day.

use std::sync::Arc;

use polars::prelude::*;

use super::known::{IdSet, NO_SLOT};
use super::{drops, ACCOUNTS, FIRST_DAY, LAST_DAY, ORPHAN};
use crate::error::{Error, Result};
use crate::frame::{Lookup, Rider, Slots};

/// What one pass counts over a source's check frame.
pub(super) struct Counts {
    /// Per row rule: its column in the counts and the rows that break it.
    pub(super) rules: Vec<(String, Expr)>,
    /// Fact sources: the typed `account_id`, the ids it is looked up in,
    /// whether the row is an expected drop and whether its key is empty.
    pub(super) accounts: Option<AccountCheck>,
    /// Sources whose user ids are checked: the typed `user_id` and the
    /// users' ids.
    pub(super) users: Option<(Expr, Arc<IdSet>)>,
    /// The main day (null where it does not count).
    pub(super) day: Option<Expr>,
}

/// The orphan counts' inputs of [`Counts::accounts`].
pub(super) struct AccountCheck {
    pub(super) account: Expr,
    pub(super) known: Arc<IdSet>,
    pub(super) expected: Expr,
    pub(super) empty: Expr,
}

/// Column names of the streamed rows: flags (a rule broken, an orphan, an
/// expected drop, an orphan with an empty key, a user id, a known user),
/// the known account's and user's slots and the day.
const RULE: &str = "__r";
const SLOT: &str = "__slot";
const ORPHANED: &str = "__orphan";
const EXPECTED: &str = "__expected";
const EMPTY: &str = "__empty";
const USER: &str = "__user";
const USER_KNOWN: &str = "__user_known";
const USER_SLOT: &str = "__user_slot";
const DAY: &str = "__day";

/// The running totals.
#[derive(Default)]
struct Totals {
    rows: u64,
    rules: Vec<u64>,
    orphans: u64,
    expected: u64,
    empty: u64,
    /// A bit per slot of the accounts' [`IdSet`]: a known account seen.
    seen: Vec<u64>,
    user_rows: u64,
    user_known: u64,
    first: Option<i64>,
    last: Option<i64>,
    /// A second reader of the rows ([`crate::frame::Rider`]).
    rider: Option<Box<dyn Rider>>,
}

impl Counts {
    /// The counts over `frame` in one streaming pass, which `rider` reads
    /// too.
    pub(super) fn over(
        &self,
        frame: LazyFrame,
        what: &str,
        rider: Option<Box<dyn Rider>>,
    ) -> Result<DataFrame> {
        let engine = |e| Error::engine(what, e);
        let mut columns: Vec<Expr> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, (_, bad))| {
                bad.clone()
                    .fill_null(lit(false))
                    .alias(format!("{RULE}{i}"))
            })
            .collect();
        // The ids' slots first, a column each: the counts below and the
        // rider read them (one lookup per row and id).
        let mut slots = Slots::default();
        let mut lookups = Vec::new();
        if let Some(check) = &self.accounts {
            lookups.push(check.known.slot_of(check.account.clone()).alias(SLOT));
            slots.account = Some(Lookup {
                value: check.account.clone(),
                set: check.known.clone(),
                slot: col(SLOT),
            });
            let unknown = col(SLOT).eq(lit(NO_SLOT));
            let expected = check.expected.clone().fill_null(lit(false));
            let orphan = unknown.clone().and(expected.clone().not());
            columns.extend([
                col(SLOT),
                orphan.clone().alias(ORPHANED),
                unknown.and(expected).alias(EXPECTED),
                orphan.and(check.empty.clone()).alias(EMPTY),
            ]);
        }
        if let Some((user, known)) = &self.users {
            lookups.push(known.slot_of(user.clone()).alias(USER_SLOT));
            slots.user = Some(Lookup {
                value: user.clone(),
                set: known.clone(),
                slot: col(USER_SLOT),
            });
            columns.push(user.clone().is_not_null().alias(USER));
            columns.push(col(USER_SLOT).neq(lit(NO_SLOT)).alias(USER_KNOWN));
        }
        let frame = if lookups.is_empty() {
            frame
        } else {
            frame.with_columns(lookups)
        };
        let day_type = match &self.day {
            Some(day) => {
                columns.push(day.clone().alias(DAY));
                let schema = frame
                    .clone()
                    .select([day.clone().alias(DAY)])
                    .collect_schema()
                    .map_err(engine)?;
                schema.get(DAY).cloned()
            }
            None => None,
        };
        if let Some(rider) = &rider {
            columns.extend(rider.columns(&slots));
        }
        if columns.is_empty() {
            // Only the rows are counted: one column to stream.
            columns.push(lit(true).alias(RULE));
        }
        let totals = Totals {
            rules: vec![0; self.rules.len()],
            seen: vec![
                0;
                self.accounts
                    .as_ref()
                    .map_or(0, |a| a.known.len().div_ceil(64))
            ],
            rider,
            ..Totals::default()
        };
        let n_rules = self.rules.len();
        let ordered = totals.rider.as_ref().is_some_and(|r| r.ordered());
        let totals = crate::frame::fold_batches(
            frame.select(columns),
            totals,
            None,
            ordered,
            what,
            move |totals, batch| totals.add(batch, n_rules),
        )?;
        let mut totals = totals;
        if let Some(rider) = &mut totals.rider {
            rider.done();
        }
        self.frame(&totals, day_type.as_ref()).map_err(engine)
    }

    /// The one-row frame of counts.
    fn frame(&self, totals: &Totals, day_type: Option<&DataType>) -> PolarsResult<DataFrame> {
        let count = |name: &str, n: u64| Column::new(name.into(), [n]);
        let mut columns = vec![count("rows", totals.rows)];
        if self.accounts.is_some() {
            let seen: u64 = totals.seen.iter().map(|w| w.count_ones() as u64).sum();
            columns.extend([
                count(ORPHAN, totals.orphans),
                count(drops::EXPECTED, totals.expected),
                count(drops::EMPTY, totals.empty),
                count(ACCOUNTS, seen),
            ]);
        }
        if self.users.is_some() {
            columns.push(count("__user_rows", totals.user_rows));
            columns.push(count("__user_rows_known", totals.user_known));
        }
        if let Some(dtype) = day_type {
            let day = |name: &str, value: Option<i64>| -> PolarsResult<Column> {
                Ok(Series::new(name.into(), [value])
                    .cast(&dtype.to_physical())?
                    .cast(dtype)?
                    .cast(&DataType::String)?
                    .into())
            };
            columns.push(day(FIRST_DAY, totals.first)?);
            columns.push(day(LAST_DAY, totals.last)?);
        }
        for ((name, _), n) in self.rules.iter().zip(&totals.rules) {
            columns.push(count(name, *n));
        }
        DataFrame::new_infer_height(columns)
    }
}

impl Totals {
    /// Adds a batch in: sums of flags, the known accounts' bits, the days.
    fn add(&mut self, batch: &DataFrame, n_rules: usize) -> PolarsResult<()> {
        let count = |column: &str| -> PolarsResult<u64> {
            Ok(batch.column(column)?.bool()?.sum().unwrap_or(0) as u64)
        };
        self.rows += batch.height() as u64;
        for i in 0..n_rules {
            self.rules[i] += count(&format!("{RULE}{i}"))?;
        }
        if let Some(slots) = batch.column(SLOT).ok() {
            self.orphans += count(ORPHANED)?;
            self.expected += count(EXPECTED)?;
            self.empty += count(EMPTY)?;
            for array in slots.u32()?.downcast_iter() {
                for slot in array.values().iter().filter(|s| **s != NO_SLOT) {
                    self.seen[*slot as usize / 64] |= 1 << (slot % 64);
                }
            }
        }
        if batch.get_column_index(USER).is_some() {
            self.user_rows += count(USER)?;
            self.user_known += count(USER_KNOWN)?;
        }
        if batch.get_column_index(DAY).is_some() {
            let days = batch
                .column(DAY)?
                .to_physical_repr()
                .cast(&DataType::Int64)?;
            let days = days.i64()?;
            if let Some(min) = days.min() {
                self.first = Some(self.first.map_or(min, |f| f.min(min)));
            }
            if let Some(max) = days.max() {
                self.last = Some(self.last.map_or(max, |l| l.max(max)));
            }
        }
        if let Some(rider) = &mut self.rider {
            rider.add(batch)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
