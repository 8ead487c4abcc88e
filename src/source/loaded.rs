//! A scanned source: the lazy frame of its canonical columns, typed, and
//! what the data rules need to check its rows (docs/INPUTS.md, "How a
//! source is read"): dates and datetimes as UTC calendar dates
//! (docs/METRICS.md#time), ids as the run's id type.

use chrono::NaiveDate;
use polars::prelude::*;

use super::dates::{raw_day_range, DayFormat};
use super::tables::ColumnSpec;
use crate::config::{CsvOptions, FileFormat, SourceName};
use crate::storage::Location;

/// A scanned source: the lazy frame of its canonical columns and what is
/// needed to check its rows.
#[derive(Clone)]
pub struct LoadedSource {
    pub name: SourceName,
    pub files: Vec<Location>,
    pub format: FileFormat,
    /// The S3 client, for a source on S3.
    pub s3: Option<std::sync::Arc<crate::storage::s3::S3>>,
    /// The file columns, renamed to canonical names, not yet typed.
    pub raw: LazyFrame,
    /// Canonical, typed columns (plus extra kept columns such as segments).
    pub frame: LazyFrame,
    /// Canonical columns present in the source.
    pub columns: Vec<String>,
    /// Values that could not be converted to their canonical type.
    pub parse_checks: Vec<ParseCheck>,
    /// CSV options in effect (defaults for Parquet sources).
    pub csv: CsvOptions,
    /// The raw columns plus each typed column as [`typed_column`]: every data
    /// rule is evaluated on this frame, so one scan checks them all.
    pub checked: LazyFrame,
    /// Columns of `frame` only, derived from others (`month` and `mrr` of
    /// revenue from invoices): no data rule reads them.
    pub derived: Vec<String>,
    /// The canonical columns of this source (invoice columns for `revenue`
    /// with `grain: invoice`).
    pub spec: &'static [ColumnSpec],
    /// The activity store's rollup ([`crate::config::ResolvedSource::written_by_store`]).
    pub written_by_store: bool,
    /// A fact source without `account_id`: the account comes from `users`
    /// by `user_id`, or from `accounts` by `account_name`
    /// ([`LoadedSource::attach_accounts`]).
    pub account_via: Option<AccountKey>,
    /// The one currency the data holds (revenue from invoices with a
    /// `currency` column), for the coverage summary.
    pub currency: Option<String>,
    /// The typed expressions that turn `raw` into `frame`.
    pub(super) typed: Vec<Expr>,
    /// Each column of `frame` as an expression over `checked` (its typed
    /// column where `frame` takes it as it is): what a pass of the data
    /// rules keeps of the rows ([`LoadedSource::spill`]).
    pub(super) typed_over_checked: Vec<(String, Expr)>,
    /// `frame` reads the typed rows the data rules' pass kept
    /// ([`LoadedSource::read_spilled`]), not the files.
    pub(super) spilled: bool,
    /// The key → `account_id` map, once attached.
    pub(super) accounts_by: Option<(AccountKey, LazyFrame)>,
    /// Each date column: its type in the files and how it is written, for
    /// [`LoadedSource::frame_in_days`].
    pub(super) raw_days: Vec<(&'static str, DataType, DayFormat)>,
}

/// How a fact source without `account_id` finds each row's account
/// (docs/INPUTS.md#account-through-user, docs/INPUTS.md#account-through-company-name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKey {
    /// `user_id`, through `users` (an LMS export keyed by learner).
    User,
    /// `account_name`, matched to the `name` of `accounts` once normalized
    /// (a help desk export that names the company).
    Name,
}

/// The column of the name map that holds the normalized company name.
pub const NAME_KEY: &str = "__account_name_key";

impl AccountKey {
    /// The source's column that holds the key.
    pub fn column(self) -> &'static str {
        match self {
            AccountKey::User => "user_id",
            AccountKey::Name => "account_name",
        }
    }

    /// The map's key column (the map is key, `account_id`).
    pub fn map_column(self) -> &'static str {
        match self {
            AccountKey::User => "user_id",
            AccountKey::Name => NAME_KEY,
        }
    }

    /// The join key computed from the source's key column `value`.
    fn key(self, value: Expr) -> Expr {
        match self {
            AccountKey::User => value,
            AccountKey::Name => super::names::normalized(value),
        }
    }
}

/// Name of the typed version of `column` in [`LoadedSource::checked`].
pub fn typed_column(column: &str) -> String {
    format!("{column}__typed")
}

/// A conversion that can fail per row: `bad` is true on rows of
/// [`LoadedSource::checked`] whose value of `column` did not convert.
#[derive(Clone)]
pub struct ParseCheck {
    pub column: String,
    pub rule: String,
    pub bad: Expr,
}

impl LoadedSource {
    /// Gives a source without `account_id` the account of each row's key:
    /// `map` is the key ([`AccountKey::map_column`]) and `account_id`
    /// (typed). A row whose key is empty or not in the map gets no account,
    /// and is dropped and counted like any row without a known account.
    pub fn attach_accounts(&mut self, key: AccountKey, map: LazyFrame) {
        let left = JoinArgs::new(JoinType::Left);
        self.accounts_by = Some((key, map.clone()));
        self.frame = self.typed_frame(self.raw.clone());
        let typed_map = map.select([
            col(key.map_column()).alias("__map_key"),
            col("account_id").alias(typed_column("account_id")),
        ]);
        self.checked = self
            .checked
            .clone()
            .join(
                typed_map,
                [key.key(col(typed_column(key.column())))],
                [col("__map_key")],
                left,
            )
            .with_column(
                col(typed_column("account_id"))
                    .cast(DataType::String)
                    .alias("account_id"),
            );
        self.columns.push("account_id".to_string());
    }

    /// Whether the accounts of the rows are still to be attached.
    pub fn needs_accounts(&self, key: AccountKey) -> bool {
        self.account_via == Some(key) && self.accounts_by.is_none()
    }

    /// `events` read from `activity.table`: one row per (account, user,
    /// day, event name) with `events`, instead of one row per event.
    pub fn is_rollup(&self) -> bool {
        self.name == SourceName::Events && self.spec.iter().any(|c| c.name == "events")
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().chain(&self.derived).any(|c| c == name)
    }

    /// The column `name` of `frame` as an expression over the rows of the
    /// data rules' pass (`checked`), for a [`crate::frame::Rider`] of that
    /// pass; None when `frame` is more than the rows typed one by one
    /// (derived columns, accounts taken through another source).
    pub fn over_checked(&self, name: &str) -> Option<Expr> {
        if !self.derived.is_empty() || self.accounts_by.is_some() {
            return None;
        }
        self.typed_over_checked
            .iter()
            .find(|(column, _)| column == name)
            .map(|(_, expr)| expr.clone())
    }

    /// The type of a column of `frame` (from the schema, no data read).
    pub fn column_type(&self, name: &str) -> Option<DataType> {
        let schema = self.frame.clone().collect_schema().ok()?;
        schema.get(name).cloned()
    }

    /// `frame` built from rows of `raw` (with the account of each row's
    /// user when attached).
    fn typed_frame(&self, raw: LazyFrame) -> LazyFrame {
        let typed = raw.select(self.typed.clone());
        match &self.accounts_by {
            Some((key, map)) => typed.join(
                map.clone(),
                [key.key(col(key.column()))],
                [col(key.map_column())],
                JoinArgs::new(JoinType::Left),
            ),
            None => typed,
        }
    }

    /// How the files hold the date `column`: its type and how it is written
    /// (None when the source has no such date column).
    pub fn raw_day(&self, column: &str) -> Option<(&DataType, &DayFormat)> {
        self.raw_days
            .iter()
            .find(|(name, _, _)| *name == column)
            .map(|(_, dtype, format)| (dtype, format))
    }

    /// `raw` restricted by the predicate of [`raw_day_range`] on the raw
    /// `column`, when the files hold it as a date, datetime or epoch number
    /// (None for text, or for a derived frame such as revenue from invoices).
    fn raw_in_days(&self, column: &str, first: NaiveDate, end: NaiveDate) -> Option<LazyFrame> {
        if !self.derived.is_empty() || self.spilled {
            return None;
        }
        let (name, dtype, format) = self.raw_days.iter().find(|(name, _, _)| *name == column)?;
        let predicate = raw_day_range(col(*name), dtype, format, first, end)?;
        Some(self.raw.clone().filter(predicate))
    }

    /// [`LoadedSource::checked`] restricted to the rows whose date `column`
    /// may fall in `[first, end)` by the raw predicate of
    /// [`LoadedSource::frame_in_days`] (rows that it cannot place, text
    /// dates above all, stay): the rows a run reads, which its data rules
    /// check. Unchanged when the predicate cannot be applied.
    pub fn checked_in_days(&self, column: &str, first: NaiveDate, end: NaiveDate) -> LazyFrame {
        match self.raw_in_days(column, first, end) {
            Some(raw) if self.accounts_by.is_none() => {
                with_typed_columns(raw, &self.typed, &self.columns)
            }
            _ => self.checked.clone(),
        }
    }

    /// The typed rows whose date `column` falls in `[first, end)`, read so
    /// that the bounds reach the reader: a predicate on the column as the
    /// files hold it (a date, a datetime or epoch numbers), widened by a
    /// day on each side, lets the Parquet reader skip row groups (and
    /// files) whose statistics lie outside; the exact bounds are then
    /// applied to the UTC date. Text columns are parsed first: for them
    /// only the exact filter applies.
    pub fn frame_in_days(&self, column: &str, first: NaiveDate, end: NaiveDate) -> LazyFrame {
        let frame = self
            .raw_in_days(column, first, end)
            .map_or_else(|| self.frame.clone(), |raw| self.typed_frame(raw));
        frame.filter(crate::time::in_range(
            col(column),
            crate::time::date_lit(first),
            crate::time::date_lit(end),
        ))
    }

    /// The files as one display string for messages.
    pub fn files_shown(&self) -> String {
        let shown = match self.files.as_slice() {
            [one] => one.to_string(),
            many => format!("{} ({} files)", many[0].parent_shown(), many.len()),
        };
        // The rollup is read as `events`: say that it is the rollup.
        if self.is_rollup() {
            format!("the activity rollup, {shown}")
        } else {
            shown
        }
    }
}

/// `raw` plus each typed column as [`typed_column`]: the frame every data
/// rule of a source is evaluated on.
pub(super) fn with_typed_columns(raw: LazyFrame, typed: &[Expr], columns: &[String]) -> LazyFrame {
    raw.with_columns(
        typed
            .iter()
            .zip(columns)
            .map(|(e, name)| e.clone().alias(typed_column(name)))
            .collect::<Vec<_>>(),
    )
}
