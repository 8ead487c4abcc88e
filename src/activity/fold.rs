//! One pass over activity for the per-subject reductions
//! (docs/ARCHITECTURE.md, "Activity"): the activity stage streams the
//! rows once, in batches, into a fold that keeps each subject's state on a
//! dense index (its last day, the last day of each event asked for, the
//! active days of a window as a bitmap, the first day of an event on or
//! after signup, the accounts of each user), and writes the frames the
//! plans of [`reduce`] would give. Each reduction is a maximum, a minimum,
//! a bitwise or or a distinct set, so the batches may come in any order.
//!
//! Each plan of [`reduce`] reads and groups the rows on its own: at 1 M
//! accounts and 114 M events the six reductions of the sample pipeline
//! took 23 s read one by one (docs/BENCHMARKS.md). [`Reduction::plan`] is
//! the same reduction as a polars plan: what `explain` shows, and the
//! reference the fold is tested against.

use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::FxHashSet;

use index::{values, Index};

use super::reduce::{self, Subject, SummaryField};
use crate::error::{Error, Result};
use crate::ids::IdSet;
use crate::time::date_to_days;

/// A per-subject reduction of activity that the fold computes.
#[derive(Clone)]
pub enum Reduction {
    /// [`reduce::summary`]: `subject_id`, `last_day` and each field's day.
    Summary {
        subject: Subject,
        fields: Vec<SummaryField>,
    },
    /// [`reduce::active_days`]: `subject_id`, `active_days` in `[from, end)`.
    ActiveDays {
        subject: Subject,
        from: NaiveDate,
        end: NaiveDate,
    },
    /// [`reduce::first_event_from`]: `account_id`, `first_day` of `event`
    /// on or after the account's `from` in `starts` (`account_id`, `from`).
    FirstEventFrom { event: String, starts: LazyFrame },
    /// [`reduce::users_seen`]: distinct (`user_id`, `account_id`).
    UsersSeen,
    /// [`reduce::names_used`]: `subject_id`, `event_name` of every name
    /// the subject has a row of from `from` on.
    NamesUsed { subject: Subject, from: NaiveDate },
}

impl Reduction {
    /// The same reduction as a polars plan over `activity`.
    pub fn plan(&self, activity: LazyFrame) -> LazyFrame {
        match self {
            Reduction::Summary { subject, fields } => reduce::summary(activity, *subject, fields),
            Reduction::ActiveDays { subject, from, end } => {
                reduce::active_days(activity, *subject, *from, *end)
            }
            Reduction::FirstEventFrom { event, starts } => {
                reduce::first_event_from(activity, event, starts.clone())
            }
            Reduction::UsersSeen => reduce::users_seen(activity),
            Reduction::NamesUsed { subject, from } => reduce::names_used(activity, *subject, *from),
        }
    }
}

/// No day: below every day for a maximum.
const NO_LAST: i32 = i32::MIN;
/// No day: above every day for a minimum.
const NO_FIRST: i32 = i32::MAX;
/// No subject (a null id) or no name of interest.
const NONE: u32 = u32::MAX;

/// What one reduction keeps, per subject position.
enum State {
    /// Per subject: the last day, then each field's last day.
    Summary {
        subject: Subject,
        codes: Vec<u32>,
        days: Vec<i32>,
    },
    /// Per subject: a bit per day of `[from, end)`, the latest day first.
    Active {
        subject: Subject,
        from: i32,
        end: i32,
        words: usize,
        bits: Vec<u64>,
    },
    /// Per account: its `from` ([`NO_FIRST`] when it has none) and the
    /// first day.
    First {
        code: u32,
        from: Vec<i32>,
        days: Vec<i32>,
    },
    /// Per user: the first account seen, and any other pairs.
    Users {
        first: Vec<u32>,
        more: FxHashSet<(u32, u32)>,
    },
    /// Per subject: the codes of the names it has a row of.
    Names {
        subject: Subject,
        used: names::NamesUsed,
    },
}

/// The fold's state: the subjects' indexes, the names of interest, every
/// name met (when a reduction asks for every name) and each reduction's
/// state.
struct Fold {
    accounts: Index,
    users: Index,
    names: Vec<String>,
    dictionary: Option<names::Dictionary>,
    states: Vec<State>,
}

impl Fold {
    /// Folds one batch of activity rows in: ids, `day` as Int32 (days
    /// since 1970) and `code`, the position of the event name among
    /// [`Fold::names`] ([`NONE`] for another name).
    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let slots = |name: &str| batch.column(name).ok();
        let accounts = self
            .accounts
            .positions(batch.column("account_id")?, slots(ACCOUNT_SLOT))?;
        let users = self
            .users
            .positions(batch.column("user_id")?, slots(USER_SLOT))?;
        let days = values(batch.column("day")?.i32()?, NO_LAST);
        let codes = values(batch.column("code")?.u32()?, NONE);
        let every = match &mut self.dictionary {
            Some(dictionary) => dictionary.codes(batch.column("event_name")?.str()?),
            None => Vec::new(),
        };
        let rows = Rows {
            accounts: &accounts,
            users: &users,
            days: &days,
            codes: &codes,
            every: &every,
            n_accounts: self.accounts.len(),
            n_users: self.users.len(),
        };
        for state in &mut self.states {
            state.add(&rows);
        }
        Ok(())
    }

    /// The position of each row's event name among [`Fold::names`], as the
    /// `code` column ([`NONE`] for another name).
    fn code_column(&self, name_column: Expr) -> Expr {
        let mut code = lit(NONE);
        for (i, name) in self.names.iter().enumerate().rev() {
            code = when(name_column.clone().eq(lit(name.as_str())))
                .then(lit(i as u32))
                .otherwise(code);
        }
        code.cast(DataType::UInt32).alias("code")
    }
}

/// A batch's rows as the states read them: per row the positions of its
/// account and user, its day, the code of its name among the names of
/// interest and among every name met (empty without a dictionary).
struct Rows<'a> {
    accounts: &'a [u32],
    users: &'a [u32],
    days: &'a [i32],
    codes: &'a [u32],
    every: &'a [u32],
    n_accounts: usize,
    n_users: usize,
}

impl State {
    fn add(&mut self, rows: &Rows) {
        let Rows {
            accounts,
            users,
            days,
            codes,
            n_accounts,
            n_users,
            ..
        } = *rows;
        let of = |subject: &Subject| match subject {
            Subject::Account => (accounts, n_accounts),
            Subject::User => (users, n_users),
        };
        match self {
            State::Summary {
                subject,
                codes: wanted,
                days: state,
            } => {
                let (subjects, n) = of(subject);
                let width = wanted.len() + 1;
                state.resize(n * width, NO_LAST);
                for ((s, day), code) in subjects.iter().zip(days).zip(codes) {
                    if *s == NONE || *day == NO_LAST {
                        continue;
                    }
                    let base = *s as usize * width;
                    state[base] = state[base].max(*day);
                    for (f, w) in wanted.iter().enumerate() {
                        if w == code {
                            state[base + 1 + f] = state[base + 1 + f].max(*day);
                        }
                    }
                }
            }
            State::Active {
                subject,
                from,
                end,
                words,
                bits,
            } => {
                let (subjects, n) = of(subject);
                bits.resize(n * *words, 0);
                for (s, day) in subjects.iter().zip(days) {
                    if *s == NONE || *day < *from || *day >= *end {
                        continue;
                    }
                    let offset = (*end - 1 - *day) as usize;
                    bits[*s as usize * *words + offset / 64] |= 1 << (offset % 64);
                }
            }
            State::First {
                code: wanted,
                from,
                days: state,
            } => {
                state.resize(n_accounts, NO_FIRST);
                from.resize(n_accounts, NO_FIRST);
                for ((a, day), code) in accounts.iter().zip(days).zip(codes) {
                    if *a == NONE || code != wanted {
                        continue;
                    }
                    let a = *a as usize;
                    if *day >= from[a] {
                        state[a] = state[a].min(*day);
                    }
                }
            }
            State::Users { first, more } => {
                first.resize(n_users, NONE);
                for (u, a) in users.iter().zip(accounts) {
                    if *u == NONE || *a == NONE {
                        continue;
                    }
                    let seen = &mut first[*u as usize];
                    if *seen == NONE {
                        *seen = *a;
                    } else if *seen != *a {
                        more.insert((*u, *a));
                    }
                }
            }
            State::Names { subject, used } => {
                let (subjects, n) = of(subject);
                used.add(subjects, days, rows.every, n);
            }
        }
    }
}

impl Fold {
    /// The code of an event name of interest, added when new.
    fn code(&mut self, name: &str) -> u32 {
        match self.names.iter().position(|n| n == name) {
            Some(p) => p as u32,
            None => {
                self.names.push(name.to_string());
                (self.names.len() - 1) as u32
            }
        }
    }

    /// The state of `reduction`. The accounts of a `starts` frame are put
    /// on the index first, so that their `from` is found by position.
    fn state(&mut self, reduction: &Reduction) -> Result<State> {
        Ok(match reduction {
            Reduction::Summary { subject, fields } => State::Summary {
                subject: *subject,
                codes: fields
                    .iter()
                    .map(|SummaryField::EventLastDay(event)| self.code(event))
                    .collect(),
                days: Vec::new(),
            },
            Reduction::ActiveDays { subject, from, end } => {
                let (from, end) = (date_to_days(*from), date_to_days(*end));
                let span = (end - from).max(1) as usize;
                State::Active {
                    subject: *subject,
                    from,
                    end,
                    words: span.div_ceil(64),
                    bits: Vec::new(),
                }
            }
            Reduction::FirstEventFrom { event, starts } => {
                let what = "reading the accounts' signup days";
                let starts = crate::frame::collect_all(
                    vec![starts
                        .clone()
                        .select([col("account_id"), col("from").cast(DataType::Int32)])],
                    what,
                )?
                .pop()
                .unwrap_or_default();
                let engine = |e| Error::engine(what, e);
                let ids = starts.column("account_id").map_err(engine)?;
                let positions = self.accounts.positions(ids, None).map_err(engine)?;
                let mut from = vec![NO_FIRST; self.accounts.len()];
                let days = starts
                    .column("from")
                    .and_then(|c| c.i32())
                    .map_err(engine)?;
                for (p, day) in positions.iter().zip(days.iter()) {
                    if let (true, Some(day)) = (*p != NONE, day) {
                        from[*p as usize] = from[*p as usize].min(day);
                    }
                }
                State::First {
                    code: self.code(event),
                    from,
                    days: Vec::new(),
                }
            }
            Reduction::UsersSeen => State::Users {
                first: Vec::new(),
                more: FxHashSet::default(),
            },
            Reduction::NamesUsed { subject, from } => {
                self.dictionary.get_or_insert_with(Default::default);
                State::Names {
                    subject: *subject,
                    used: names::NamesUsed::new(date_to_days(*from)),
                }
            }
        })
    }
}

/// The id types of activity's subjects.
pub struct Types {
    pub account: DataType,
    pub user: DataType,
}

/// Ids known before the pass (the accounts of `accounts`, the users of
/// `users`): their subjects take the first positions of the index, found
/// in the engine's threads, so that the fold, which takes one batch at a
/// time, looks up only the others.
#[derive(Clone, Default)]
pub struct Known {
    pub accounts: Option<Arc<IdSet>>,
    pub users: Option<Arc<IdSet>>,
    /// `accounts` is every account of `accounts`, and the rows of other
    /// accounts are dropped ([`compute`]).
    pub only_these_accounts: bool,
}

/// Columns of the fold's rows: the known ids' slots ([`Known`]).
const ACCOUNT_SLOT: &str = "account_slot";
const USER_SLOT: &str = "user_slot";

mod frames;
mod index;
mod names;
mod pass;

pub use pass::{compute, types_of, Pass, RowColumns};
#[cfg(test)]
mod tests;
