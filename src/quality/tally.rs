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

use rustc_hash::FxHashMap;

use super::known::{IdSet, NO_SLOT};
use super::{drops, ACCOUNTS, FIRST_DAY, LAST_DAY, ORPHAN};
use crate::error::{Error, Result};
use crate::inputs::EventNames;
use crate::time::{date_lit, in_range, DayRange};

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
    /// `events`: the typed event name and the run's activity days: each
    /// name's last day among those days ([`EventNames`]).
    pub(super) names: Option<(Expr, DayRange)>,
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
/// the known account's slot and the day.
const RULE: &str = "__r";
const SLOT: &str = "__slot";
const ORPHANED: &str = "__orphan";
const EXPECTED: &str = "__expected";
const EMPTY: &str = "__empty";
const USER: &str = "__user";
const USER_KNOWN: &str = "__user_known";
const DAY: &str = "__day";
const NAME: &str = "__name";
const NAME_DAY: &str = "__name_day";
const UNNAMED_DAY: &str = "__unnamed_day";

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
    /// [`Counts::names`]: each name's last day (days since 1970), and that
    /// of the rows without a name.
    names: FxHashMap<String, i32>,
    unnamed: Option<i32>,
}

impl Counts {
    /// The counts over `frame` in one streaming pass, and the event names
    /// seen when [`Counts::names`] asks for them.
    pub(super) fn over(
        &self,
        frame: LazyFrame,
        what: &str,
    ) -> Result<(DataFrame, Option<EventNames>)> {
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
        if let Some(check) = &self.accounts {
            let slot = check.known.slot_of(check.account.clone());
            let unknown = slot.clone().eq(lit(NO_SLOT));
            let expected = check.expected.clone().fill_null(lit(false));
            let orphan = unknown.clone().and(expected.clone().not());
            columns.extend([
                slot.alias(SLOT),
                orphan.clone().alias(ORPHANED),
                unknown.and(expected).alias(EXPECTED),
                orphan.and(check.empty.clone()).alias(EMPTY),
            ]);
        }
        if let Some((user, known)) = &self.users {
            columns.push(user.clone().is_not_null().alias(USER));
            columns.push(
                known
                    .slot_of(user.clone())
                    .neq(lit(NO_SLOT))
                    .alias(USER_KNOWN),
            );
        }
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
        let names = self.names.as_ref().zip(self.day.as_ref());
        if let Some(((name, range), day)) = names {
            let (first, end) = (date_lit(range.first), date_lit(range.end));
            let name = name.clone().cast(DataType::String);
            let day_of = |rows: Expr| {
                when(in_range(day.clone(), first.clone(), end.clone()).and(rows))
                    .then(day.clone().cast(DataType::Date).cast(DataType::Int32))
                    .otherwise(lit(NULL).cast(DataType::Int32))
            };
            columns.extend([
                day_of(name.clone().is_not_null()).alias(NAME_DAY),
                day_of(name.clone().is_null()).alias(UNNAMED_DAY),
                name.alias(NAME),
            ]);
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
            ..Totals::default()
        };
        let n_rules = self.rules.len();
        let totals = crate::frame::fold_batches(
            frame.select(columns),
            totals,
            None,
            what,
            move |totals, batch| totals.add(batch, n_rules),
        )?;
        let counts = self.frame(&totals, day_type.as_ref()).map_err(engine)?;
        let names = match names {
            Some(((_, range), _)) => Some(EventNames {
                range: *range,
                last_days: totals.names_frame().map_err(engine)?,
            }),
            None => None,
        };
        Ok((counts, names))
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
        if batch.get_column_index(NAME).is_some() {
            self.add_names(batch.column(NAME)?.str()?, batch.column(NAME_DAY)?.i32()?);
            if let Some(day) = batch.column(UNNAMED_DAY)?.i32()?.max() {
                self.unnamed = Some(self.unnamed.map_or(day, |last| last.max(day)));
            }
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
        Ok(())
    }

    /// Each name's last day among the rows with a day (`days` is null where
    /// the name is). Rows are grouped by
    /// their string view first (a name of up to 12 bytes is held in its
    /// view; the rows of a longer one decoded from one dictionary share
    /// theirs), so each distinct view of the batch is read as text once.
    fn add_names(&mut self, names: &StringChunked, days: &Int32Chunked) {
        let mut views: FxHashMap<u128, (i32, usize, usize)> = FxHashMap::default();
        let mut days = days.iter();
        let arrays: Vec<_> = names.downcast_iter().collect();
        for (a, array) in arrays.iter().enumerate() {
            for (i, view) in array.views().iter().enumerate() {
                let Some(day) = days.next().flatten() else {
                    continue;
                };
                views
                    .entry(view.as_u128())
                    .and_modify(|(last, _, _)| *last = (*last).max(day))
                    .or_insert((day, a, i));
            }
        }
        for (day, a, i) in views.into_values() {
            self.saw(arrays[a].value(i), day);
        }
    }

    fn saw(&mut self, name: &str, day: i32) {
        match self.names.get_mut(name) {
            Some(last) => *last = (*last).max(day),
            None => {
                self.names.insert(name.to_string(), day);
            }
        }
    }

    /// [`EventNames::last_days`], sorted by name (no name first).
    fn names_frame(&self) -> PolarsResult<DataFrame> {
        let mut rows: Vec<(Option<&str>, i32)> = self
            .names
            .iter()
            .map(|(name, day)| (Some(name.as_str()), *day))
            .collect();
        rows.extend(self.unnamed.map(|day| (None, day)));
        rows.sort();
        let names: Vec<Option<&str>> = rows.iter().map(|(name, _)| *name).collect();
        let days: Vec<i32> = rows.iter().map(|(_, day)| *day).collect();
        DataFrame::new_infer_height(vec![
            Column::new("event_name".into(), names),
            Series::new("day".into(), days)
                .cast(&DataType::Date)?
                .into(),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts of `frame` (columns `account`, `user`, `day`, `x`) with
    /// the rule `x > 2`, accounts `accounts` (expected drops: account 5) and
    /// users `users`.
    fn counts(frame: &DataFrame, accounts: &Series, users: &Series) -> DataFrame {
        Counts {
            rules: vec![("rule_0".to_string(), col("x").gt(lit(2)))],
            accounts: Some(AccountCheck {
                account: col("account"),
                known: Arc::new(IdSet::of(accounts).unwrap()),
                expected: col("account").cast(DataType::String).eq(lit("5")),
                empty: col("account").is_null(),
            }),
            users: Some((col("user"), Arc::new(IdSet::of(users).unwrap()))),
            day: Some(col("day")),
            names: None,
        }
        .over(frame.clone().lazy(), "test")
        .unwrap()
        .0
    }

    fn n(counts: &DataFrame, column: &str) -> u64 {
        super::super::count_of(counts, column)
    }

    #[test]
    fn counts_by_hand() {
        // Accounts {1, 2, 3}; users {10, 20}. Rows: 1 (known), 1, 4 (unknown), null (empty), 5 (expected),
        // 2: 4 known rows of 2 distinct accounts, orphans 4 and null (1 empty), 1 expected. Users: 5 non-null,
        // 10, 10, 20, 20 known (30 is not). x > 2 on 3 rows (a null x does not break it). Days 2025-01-03 … 2025-02-01.
        let frame = df!(
            "account" => [Some(1i64), Some(1), Some(4), None, Some(5), Some(2)],
            "user" => [Some(10i64), Some(30), None, Some(10), Some(20), Some(20)],
            "day" => [Some(20091), Some(20120), None, Some(20093), Some(20100), Some(20095)],
            "x" => [Some(1), Some(3), Some(5), None, Some(9), Some(0)],
        )
        .unwrap()
        .lazy()
        .with_column(col("day").cast(DataType::Date))
        .collect()
        .unwrap();
        let accounts = Series::new("a".into(), [1i64, 2, 3]);
        let users = Series::new("u".into(), [10i64, 20]);
        let c = counts(&frame, &accounts, &users);
        assert_eq!(n(&c, "rows"), 6);
        assert_eq!(n(&c, "rule_0"), 3);
        assert_eq!(n(&c, ORPHAN), 2);
        assert_eq!(n(&c, drops::EMPTY), 1);
        assert_eq!(n(&c, drops::EXPECTED), 1);
        assert_eq!(n(&c, ACCOUNTS), 2);
        assert_eq!(n(&c, "__user_rows"), 5);
        assert_eq!(n(&c, "__user_rows_known"), 4);
        let text = |column| super::super::text_of(&c, column, 0);
        assert_eq!(text(FIRST_DAY).as_deref(), Some("2025-01-03"));
        assert_eq!(text(LAST_DAY).as_deref(), Some("2025-02-01"));
    }

    /// The same counts as polars' `is_in` and `n_unique` over many batches,
    /// whichever way the ids are looked up.
    #[test]
    fn counts_agree_with_polars_over_many_batches() {
        let rows = 300_000usize;
        let mut state = 7u64;
        let mut next = move |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let account: Vec<Option<i64>> = (0..rows)
            .map(|_| match next(50) {
                0 => None,
                _ => Some(next(1200) as i64),
            })
            .collect();
        let user: Vec<Option<i64>> = (0..rows)
            .map(|_| (next(9) > 0).then(|| next(60_000) as i64))
            .collect();
        let day: Vec<i32> = (0..rows).map(|_| 19_000 + next(400) as i32).collect();
        let x: Vec<i64> = (0..rows).map(|_| next(10) as i64).collect();
        let frame = df!("account" => account, "user" => user, "day" => day, "x" => x)
            .unwrap()
            .lazy()
            .with_column(col("day").cast(DataType::Date))
            .collect()
            .unwrap();
        let ids = |range: std::ops::Range<i64>, extra: &[i64]| {
            let mut ids: Vec<i64> = range.step_by(2).collect();
            ids.extend(extra);
            Series::new("id".into(), ids)
        };
        // As bits from 0, as bits from a negative id, through hash maps (a far id), as text.
        for (accounts, users, text) in [
            (ids(0..1000, &[]), ids(0..50_000, &[]), false),
            (ids(0..1000, &[-3]), ids(0..50_000, &[-70_000]), false),
            (ids(0..1000, &[1 << 40]), ids(0..50_000, &[1 << 40]), false),
            (ids(0..1000, &[]), ids(0..50_000, &[]), true),
        ] {
            let (frame, accounts, users) = if text {
                let as_text = |s: &Series| s.cast(&DataType::String).unwrap();
                let frame = frame
                    .clone()
                    .lazy()
                    .with_columns([
                        col("account").cast(DataType::String),
                        col("user").cast(DataType::String),
                    ])
                    .collect()
                    .unwrap();
                (frame, as_text(&accounts), as_text(&users))
            } else {
                (frame.clone(), accounts, users)
            };
            let c = counts(&frame, &accounts, &users);
            let known = col("account")
                .is_in(lit(accounts.clone()).implode(false), false)
                .fill_null(lit(false));
            let expected_drop = known.clone().not().and(
                col("account")
                    .cast(DataType::String)
                    .eq(lit("5"))
                    .fill_null(lit(false)),
            );
            let reference = frame
                .clone()
                .lazy()
                .select([
                    col("x").gt(lit(2)).sum().alias("rule_0"),
                    known
                        .clone()
                        .not()
                        .and(expected_drop.clone().not())
                        .sum()
                        .alias("orphans"),
                    expected_drop.sum().alias("expected"),
                    col("account").filter(known).n_unique().alias("accounts"),
                    col("user")
                        .is_in(lit(users.clone()).implode(false), false)
                        .fill_null(lit(false))
                        .sum()
                        .alias("users"),
                ])
                .collect()
                .unwrap();
            let r = |column| super::super::count_of(&reference, column);
            assert_eq!(n(&c, "rows"), rows as u64);
            assert_eq!(n(&c, "rule_0"), r("rule_0"));
            assert_eq!(n(&c, ORPHAN), r("orphans"), "text ids: {text}");
            assert_eq!(n(&c, drops::EXPECTED), r("expected"));
            assert_eq!(n(&c, ACCOUNTS), r("accounts"), "text ids: {text}");
            assert_eq!(n(&c, "__user_rows_known"), r("users"), "text ids: {text}");
            assert!(
                r("users") > 1000 && r("accounts") > 400,
                "the data exercises the sets"
            );
        }
    }
    /// [`Counts::names`] alone over `frame` (`name`, `day`) in `range`.
    fn names(frame: LazyFrame, range: DayRange) -> EventNames {
        Counts {
            rules: Vec::new(),
            accounts: None,
            users: None,
            day: Some(col("day")),
            names: Some((col("name"), range)),
        }
        .over(frame, "test")
        .unwrap()
        .1
        .expect("names asked for")
    }

    fn d(y: i32, m: u32, day: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn each_event_name_keeps_its_last_day_in_the_range() {
        // Range [2025-01-01, 2025-02-01). login: 01-05, 01-20 and 02-01 (the end, out) → 01-20.
        // The long name (its text is not in its view): 2024-12-31 (before, out) and 01-31 (the last
        // day in) → 01-31. only_outside: 02-03 → absent. No name: 01-10. A row without a day: absent.
        let long = "report_created_and_shared";
        let frame = df!(
            "name" => [Some("login"), Some(long), None, Some("login"), Some("only_outside"), Some(long), Some("login"), Some("no_day")],
            "day" => [Some("2025-01-05"), Some("2024-12-31"), Some("2025-01-10"), Some("2025-01-20"), Some("2025-02-03"), Some("2025-01-31"), Some("2025-02-01"), None],
        )
        .unwrap()
        .lazy()
        .with_column(col("day").str().to_date(StrptimeOptions::default()));
        let range = DayRange {
            first: d(2025, 1, 1),
            end: d(2025, 2, 1),
        };
        let seen = names(frame, range);
        let text = |column: &str| -> Vec<Option<String>> {
            let values = seen.last_days.column(column).unwrap();
            let values = values.cast(&DataType::String).unwrap();
            values
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let some = |v: &str| Some(v.to_string());
        assert_eq!(text("event_name"), [None, some("login"), some(long)]);
        assert_eq!(
            text("day"),
            [some("2025-01-10"), some("2025-01-20"), some("2025-01-31")]
        );
        assert_eq!(seen.range, range);
    }

    #[test]
    fn event_names_agree_with_the_dictionary_read_from_the_rows() {
        // Over many batches and chunks, for several first days: the names of the rows from
        // that day on (`reduce::event_names`) are the names whose last day is on or after it.
        let rows = 200_000usize;
        let mut state = 11u64;
        let mut next = move |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let pool: Vec<String> = (0..40)
            .map(|i| format!("{}{i}", "event_with_a_long_name_".repeat(i % 2)))
            .collect();
        let name: Vec<Option<String>> = (0..rows)
            .map(|_| match next(500) {
                0 => None,
                // Rare names: seen on few days.
                1 => Some(pool[30 + next(10) as usize].clone()),
                _ => Some(pool[next(30) as usize].clone()),
            })
            .collect();
        let day: Vec<i32> = (0..rows).map(|_| 20_000 + next(120) as i32).collect();
        let half = rows / 2;
        let part = |from: usize, to: usize| {
            df!("name" => &name[from..to], "day" => &day[from..to])
                .unwrap()
                .lazy()
                .with_column(col("day").cast(DataType::Date))
                .collect()
                .unwrap()
        };
        let mut frame = part(0, half);
        frame.vstack_mut(&part(half, rows)).unwrap();
        let day_of = |n: i32| crate::time::days_to_date(n);
        let range = DayRange {
            first: day_of(20_010),
            end: day_of(20_100),
        };
        let seen = names(frame.clone().lazy(), range);
        for from in [20_010, 20_050, 20_090, 20_099] {
            let read = |rows: LazyFrame| {
                crate::activity::reduce::event_names(rows, day_of(from))
                    .collect()
                    .unwrap()
            };
            let in_range = frame.clone().lazy().filter(in_range(
                col("day"),
                date_lit(range.first),
                date_lit(range.end),
            ));
            let expected = read(in_range.select([col("day"), col("name").alias("event_name")]));
            let got = read(seen.last_days.clone().lazy());
            assert!(expected.height() > 1);
            assert!(
                got.equals_missing(&expected),
                "from {from}: {got} {expected}"
            );
        }
    }
}
