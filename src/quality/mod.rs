//! SPEC §4 rules as lazy checks, run before anything is written (SPEC §9):
//! every broken rule is reported at once with the source, file, column, rule,
//! the number of offending rows and up to five example rows.
//!
//! Row rules of a source are counted together in one scan of it (with its
//! orphan rows); uniqueness rules need their own group-by. Example rows are
//! fetched only for rules that failed.

mod data_rule;
pub mod plausibility;
mod report;

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::config::{OrphanPolicy, Pipeline, SourceName};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::source::tables::ColumnKind;
use crate::source::LoadedSource;

pub use data_rule::{csat_score, DataRule};
use data_rule::{integer_between, typed};
use report::count_of;
pub use report::format_examples;
pub use report::values_shown;
pub(crate) use report::{number_of, text_of};

/// How many example rows a violation shows.
pub const EXAMPLES: usize = 5;

/// Column of the check frame that flags rows whose account is unknown.
const ORPHAN: &str = "__orphan";
/// The first and last day of a source's main date column, in the counts.
const FIRST_DAY: &str = "__first_day";
const LAST_DAY: &str = "__last_day";

/// The date column that says when a source's rows happened (the first date
/// column of its canonical table that the source has).
fn main_day(loaded: &LoadedSource) -> Option<&'static str> {
    loaded
        .spec
        .iter()
        .find(|c| c.kind == ColumnKind::Day && loaded.has_column(c.name))
        .map(|c| c.name)
}

/// How a rule finds offending rows.
#[derive(Clone)]
enum Check {
    /// Rows of [`LoadedSource::checked`] where the expression is true.
    Row(Expr),
    /// Values of the columns (together) that appear more than once; with
    /// one column, non-null values only (nulls have their own rule).
    Unique(Vec<&'static str>),
    /// Like `Unique`, for a key that holds the day `event_time` (a rollup's):
    /// copies of a key share their day, so the keys are counted a month at a
    /// time, one month after the other, and a group-by holds one month's
    /// keys ([`duplicates_by_month`]).
    UniquePerDay(Vec<&'static str>),
}

/// One rule over one source.
#[derive(Clone)]
struct Rule {
    source: SourceName,
    column: String,
    rule: String,
    check: Check,
}

/// A broken rule, with its count and examples.
#[derive(Debug, Clone)]
pub struct Violation {
    pub source: SourceName,
    pub files: String,
    pub column: String,
    pub rule: String,
    pub count: u64,
    pub examples: DataFrame,
}

/// What the checks found: rows read and orphans dropped per source, and
/// broken rules.
#[derive(Debug, Clone, Default)]
pub struct QualityReport {
    pub rows_read: BTreeMap<SourceName, u64>,
    pub orphans: BTreeMap<SourceName, u64>,
    pub violations: Vec<Violation>,
    /// Warnings for the log and the manifest (dropped rows, thin cohorts).
    pub warnings: Vec<String>,
    /// Per source whose user ids are checked: rows whose user is in
    /// `users`, and rows with a user id.
    pub user_rows: BTreeMap<SourceName, (u64, u64)>,
    /// Per source: its main date column, and its first and last day.
    pub date_ranges: BTreeMap<SourceName, (&'static str, Option<String>, Option<String>)>,
}

impl QualityReport {
    /// The first and last day of a source's main date column, as the data
    /// rules' scan found them (None without rows with a day).
    pub fn day_span(&self, source: SourceName) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        let (_, first, last) = self.date_ranges.get(&source)?;
        let day = |text: &Option<String>| {
            chrono::NaiveDate::parse_from_str(text.as_deref()?.get(..10)?, "%Y-%m-%d").ok()
        };
        Some((day(first)?, day(last)?))
    }

    /// Exit 3 with every violation listed, or Ok.
    pub fn into_result(self) -> Result<QualityReport> {
        if self.violations.is_empty() {
            return Ok(self);
        }
        let mut message = format!("input data broke {} rule(s):", self.violations.len());
        for v in &self.violations {
            message.push_str(&format!(
                "\n  - source `{}` ({}), column `{}`: {} — {} row(s) break it; examples:\n{}",
                v.source,
                v.files,
                v.column,
                v.rule,
                v.count,
                format_examples(&v.examples, "      ")
            ));
        }
        Err(crate::error::Error::Data(message))
    }
}

fn row_rule(source: SourceName, column: &str, rule: &str, bad: Expr) -> Rule {
    Rule {
        source,
        column: column.into(),
        rule: rule.into(),
        check: Check::Row(bad),
    }
}

/// Every rule of SPEC §4 that applies to a loaded source.
fn rules_of(loaded: &LoadedSource, pipeline: &Pipeline) -> Vec<Rule> {
    let name = loaded.name;
    let mut rules: Vec<Rule> = loaded
        .parse_checks
        .iter()
        .map(|c| row_rule(name, &c.column, &c.rule, c.bad.clone()))
        .collect();
    for spec in loaded.spec {
        if spec.kind == ColumnKind::Number && loaded.has_column(spec.name) {
            // NaN compares above every number and ±inf passes a range on one
            // side: without this rule `mrr` NaN or inf would pass `mrr ≥ 0`.
            let value = typed(spec.name);
            rules.push(row_rule(
                name,
                spec.name,
                "must be a finite number (not NaN or ±infinity)",
                value.clone().is_not_null().and(value.is_finite().not()),
            ));
        }
        // A fact row with an empty account id is dropped and counted with the
        // orphans (one rule for "no known account"), not fatal on its own.
        let fact_account = spec.name == "account_id" && name != SourceName::Accounts;
        if !spec.nullable && loaded.has_column(spec.name) && !fact_account {
            // On the raw value: a value that does not parse is reported by its parse check only.
            rules.push(row_rule(
                name,
                spec.name,
                "must not be null",
                col(spec.name).is_null(),
            ));
        }
    }
    let has = |c: &str| loaded.has_column(c);
    match name {
        SourceName::Accounts => {
            rules.push(Rule {
                source: name,
                column: "account_id".into(),
                rule: "must be unique".into(),
                check: Check::Unique(vec!["account_id"]),
            });
            if has("churn_date") {
                let bad = typed("churn_date").lt(typed("signup_date"));
                rules.push(row_rule(
                    name,
                    "churn_date",
                    "must be on or after signup_date",
                    bad,
                ));
            }
        }
        SourceName::Users => rules.push(Rule {
            source: name,
            column: "user_id".into(),
            rule: "must be unique".into(),
            check: Check::Unique(vec!["user_id"]),
        }),
        SourceName::Revenue if loaded.spec.iter().any(|c| c.name == "mrr") => rules.push(row_rule(
            name,
            "mrr",
            "must be ≥ 0",
            typed("mrr").lt(lit(0.0)),
        )),
        SourceName::Revenue => rules.push(row_rule(
            name,
            "period_end",
            "must be on or after period_start (the end is exclusive)",
            typed("period_end").lt(typed("period_start")),
        )),
        // A rollup row stands for at least one event: every reduction of
        // activity counts a row as activity, so a row of 0 would make its
        // subject active.
        SourceName::Events if loaded.is_rollup() => {
            rules.push(row_rule(
                name,
                "events",
                "must be a whole number ≥ 1 (a rollup row stands for at least one event)",
                integer_between("events", 1.0, u32::MAX as f64),
            ));
            // One row per key: a key written twice is a producer's bug (it
            // would change no number, but Σ events and the rows read).
            let key: Vec<&'static str> = ["account_id", "user_id", "event_time", "event_name"]
                .into_iter()
                .filter(|c| has(c))
                .collect();
            rules.push(Rule {
                source: name,
                column: key.join(", "),
                rule: "must be unique together: one row per account, user, day and event name"
                    .into(),
                check: Check::UniquePerDay(key),
            });
        }
        SourceName::NpsResponses => rules.push(row_rule(
            name,
            "score",
            "must be an integer from 0 to 10",
            integer_between("score", 0.0, 10.0),
        )),
        SourceName::CsatResponses
            if !pipeline
                .data_rules
                .iter()
                .any(|r| r.source == name && r.column == "score") =>
        {
            let default = data_rule::csat_score(5);
            rules.push(row_rule(name, default.column, &default.rule, default.bad));
        }
        SourceName::Training if has("score") => {
            let bad = typed("score").is_not_null().and(
                typed("score")
                    .lt(lit(0.0))
                    .or(typed("score").gt(lit(100.0))),
            );
            rules.push(row_rule(name, "score", "must be between 0 and 100", bad));
        }
        SourceName::Cancellations => {
            let outcomes = Series::new("outcomes".into(), ["saved", "churned"]);
            let known = typed("outcome")
                .str()
                .to_lowercase()
                .is_in(lit(outcomes).implode(false), false);
            let bad = typed("outcome").is_not_null().and(known.not());
            rules.push(row_rule(
                name,
                "outcome",
                "must be `saved` or `churned` (any case)",
                bad,
            ));
        }
        _ => {}
    }
    for rule in pipeline.data_rules.iter().filter(|r| r.source == name) {
        rules.push(row_rule(name, rule.column, &rule.rule, rule.bad.clone()));
    }
    rules
}

/// The frame rules run on: the source's check frame, with [`ORPHAN`] for
/// fact tables (account_id not in `accounts`).
fn check_frame(inputs: &Inputs, loaded: &LoadedSource, pipeline: &Pipeline) -> Result<LazyFrame> {
    if loaded.name == SourceName::Accounts {
        return Ok(loaded.checked.clone().with_column(lit(false).alias(ORPHAN)));
    }
    let checked = rows_checked(loaded, pipeline);
    let known = inputs
        .account_ids()?
        .with_column(lit(true).alias("__known"));
    let frame = checked
        .join(
            known,
            [typed("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("__known").is_null().alias(ORPHAN));
    if !checks_user_overlap(inputs, loaded) {
        return Ok(frame);
    }
    // In the same scan: is each row's user a user of `users`?
    let users = inputs
        .frame(SourceName::Users)?
        .select([col("user_id").alias(USER_KNOWN)])
        .unique(None, UniqueKeepStrategy::Any);
    Ok(frame
        .join(
            users.with_column(lit(true).alias("__user_found")),
            [typed("user_id")],
            [col(USER_KNOWN)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("__user_found").is_not_null().alias(USER_KNOWN)))
}

/// The rows of a source that are checked. Events: only the days the metrics
/// read are read (and checked), so that files and row groups outside them
/// are skipped (crate::activity).
fn rows_checked(loaded: &LoadedSource, pipeline: &Pipeline) -> LazyFrame {
    match pipeline
        .check_days
        .or_else(|| crate::activity::range(pipeline))
    {
        Some(range) if loaded.name == SourceName::Events => {
            loaded.checked_in_days("event_time", range.first, range.end)
        }
        _ => loaded.checked.clone(),
    }
}

/// Column of the check frame: the row's user is a user of `users`.
const USER_KNOWN: &str = "__user_known";

/// Whether a source's user ids are checked against `users` (SPEC: user-level
/// metrics join them): `events` and `training` with a `user_id` column,
/// when the pipeline has `users`.
pub fn checks_user_overlap(inputs: &Inputs, loaded: &LoadedSource) -> bool {
    matches!(loaded.name, SourceName::Events | SourceName::Training)
        && loaded.has_column("user_id")
        && inputs.get(SourceName::Users).is_some()
}

/// The raw columns of a source, for example rows.
fn raw_columns(loaded: &LoadedSource) -> Vec<Expr> {
    loaded.columns.iter().map(|c| col(c.as_str())).collect()
}

/// Runs every rule, counts rows and orphans: one scan per source for the
/// row rules, one group-by per uniqueness rule, then examples of the rules
/// that failed.
pub fn check(inputs: &Inputs, pipeline: &Pipeline) -> Result<QualityReport> {
    let mut plans = Vec::new();
    let mut layout = Vec::new();
    for (name, loaded) in &inputs.sources {
        let rules = rules_of(loaded, pipeline);
        let frame = check_frame(inputs, loaded, pipeline)?;
        let mut counts = vec![
            len().cast(DataType::UInt64).alias("rows"),
            col(ORPHAN).sum().cast(DataType::UInt64).alias(ORPHAN),
        ];
        if checks_user_overlap(inputs, loaded) {
            counts.push(
                typed("user_id")
                    .is_not_null()
                    .cast(DataType::UInt64)
                    .sum()
                    .alias("__user_rows"),
            );
            counts.push(
                typed("user_id")
                    .is_not_null()
                    .and(col(USER_KNOWN))
                    .cast(DataType::UInt64)
                    .sum()
                    .alias("__user_rows_known"),
            );
        }
        if let Some(day) = main_day(loaded) {
            counts.push(typed(day).min().cast(DataType::String).alias(FIRST_DAY));
            counts.push(typed(day).max().cast(DataType::String).alias(LAST_DAY));
        }
        for (i, rule) in rules.iter().enumerate() {
            if let Check::Row(bad) = &rule.check {
                counts.push(
                    bad.clone()
                        .fill_null(lit(false))
                        .sum()
                        .cast(DataType::UInt64)
                        .alias(format!("rule_{i}")),
                );
            }
        }
        plans.push(frame.clone().select(counts));
        for rule in &rules {
            if let Check::Unique(key) = &rule.check {
                plans.push(
                    duplicated_keys(rows_checked(loaded, pipeline), key)
                        .select([col("__copies").sum().cast(DataType::UInt64).alias("rows")]),
                );
            }
        }
        layout.push((*name, frame, rules));
    }
    let mut results = crate::execute::collect_all(plans, "checking input data")?.into_iter();

    let mut report = QualityReport::default();
    let mut failed: Vec<(Rule, u64, LazyFrame)> = Vec::new();
    let mut orphan_warnings = Vec::new();
    let mut known_ids: Option<String> = None;
    for (name, frame, rules) in layout {
        let loaded = &inputs.sources[&name];
        let counts = results.next().unwrap_or_default();
        report.rows_read.insert(name, count_of(&counts, "rows"));
        if checks_user_overlap(inputs, loaded) {
            report.user_rows.insert(
                name,
                (
                    count_of(&counts, "__user_rows_known"),
                    count_of(&counts, "__user_rows"),
                ),
            );
        }
        if let Some(day) = main_day(loaded) {
            let (first, last) = (
                text_of(&counts, FIRST_DAY, 0),
                text_of(&counts, LAST_DAY, 0),
            );
            report.date_ranges.insert(name, (day, first, last));
        }
        if name != SourceName::Accounts {
            report.orphans.insert(name, count_of(&counts, ORPHAN));
        }
        for (i, rule) in rules.iter().enumerate() {
            let (n, offending) = match &rule.check {
                Check::Row(bad) => (
                    count_of(&counts, &format!("rule_{i}")),
                    frame.clone().filter(bad.clone()),
                ),
                Check::Unique(key) => {
                    let n = count_of(&results.next().unwrap_or_default(), "rows");
                    (n, copies_of(rows_checked(loaded, pipeline), key))
                }
                Check::UniquePerDay(key) => {
                    let span = report.day_span(name);
                    let (n, rows) = duplicates_by_month(rows_checked(loaded, pipeline), key, span)?;
                    (n, copies_of(rows, key))
                }
            };
            if n > 0 {
                failed.push((
                    rule.clone(),
                    n,
                    offending.select(raw_columns(loaded)).limit(EXAMPLES as u32),
                ));
            }
        }
        let orphans = report.orphans.get(&name).copied().unwrap_or(0);
        let rows = report.rows_read.get(&name).copied().unwrap_or(0);
        if orphans > 0 {
            let share = orphans as f64 / rows.max(1) as f64;
            let fatal =
                pipeline.orphans == OrphanPolicy::Error || share > pipeline.max_orphan_share;
            if fatal {
                let why = if pipeline.orphans == OrphanPolicy::Error {
                    "quality.orphans: error".to_string()
                } else {
                    if known_ids.is_none() {
                        known_ids = Some(account_id_examples(inputs)?);
                    }
                    format!(
                        "{:.1} % of its rows, above quality.max_orphan_share {:.1} %: ids from another system? \
                         `accounts` has e.g. {}",
                        share * 100.0,
                        pipeline.max_orphan_share * 100.0,
                        known_ids.as_deref().unwrap_or_default()
                    )
                };
                let rule = row_rule(
                    name,
                    "account_id",
                    &format!("must be an account_id of `accounts` ({why})"),
                    col(ORPHAN),
                );
                let examples = frame
                    .clone()
                    .filter(col(ORPHAN))
                    .select(raw_columns(loaded))
                    .limit(EXAMPLES as u32);
                failed.push((rule, orphans, examples));
            } else {
                orphan_warnings.push((name, orphans, rows, frame.clone()));
            }
        }
    }
    warn_orphans(inputs, orphan_warnings, &mut report)?;
    let examples = crate::execute::collect_all(
        failed.iter().map(|f| f.2.clone()).collect(),
        "finding example rows",
    )?;
    for ((rule, count, _), examples) in failed.into_iter().zip(examples) {
        report.violations.push(Violation {
            source: rule.source,
            files: inputs.sources[&rule.source].files_shown(),
            column: rule.column,
            rule: rule.rule,
            count,
            examples,
        });
    }
    Ok(report)
}

/// Warns about dropped orphan rows below the fatal share, with example ids
/// from both sides, so that an id mismatch (two systems' ids) shows at once.
fn warn_orphans(
    inputs: &Inputs,
    orphans: Vec<(SourceName, u64, u64, LazyFrame)>,
    report: &mut QualityReport,
) -> Result<()> {
    if orphans.is_empty() {
        return Ok(());
    }
    let mut plans = vec![distinct(inputs.account_ids()?, col("account_id"))];
    for (_, _, _, frame) in &orphans {
        plans.push(distinct(
            frame.clone().filter(col(ORPHAN)),
            col("account_id"),
        ));
    }
    let mut examples = crate::execute::collect_all(plans, "finding example ids")?.into_iter();
    let known = values_shown(&examples.next().unwrap_or_default(), "id");
    for (name, count, rows, _) in orphans {
        let dropped = values_shown(&examples.next().unwrap_or_default(), "id");
        let message = format!(
            "source `{name}`: dropped {count} of {rows} row(s) whose account_id is empty or not in `accounts` \
             (e.g. {dropped}; `accounts` has e.g. {known}); if the two sides look different, this source's ids come from another system: map the right column in `columns`"
        );
        crate::log::warn("check", &message);
        report.warnings.push(message);
    }
    Ok(())
}

/// Up to [`EXAMPLES`] distinct values of `column`, sorted, as `id`.
fn distinct(frame: LazyFrame, column: Expr) -> LazyFrame {
    frame
        .select([column.cast(DataType::String).alias("id")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["id"], SortMultipleOptions::default().with_nulls_last(true))
        .limit(EXAMPLES as u32)
}

/// Example account ids of `accounts`, shown beside dropped ids.
fn account_id_examples(inputs: &Inputs) -> Result<String> {
    let found = crate::execute::collect_all(
        vec![distinct(inputs.account_ids()?, col("account_id"))],
        "finding example ids",
    )?;
    Ok(found
        .first()
        .map(|df| values_shown(df, "id"))
        .unwrap_or_default())
}

/// The rows of `checked` whose `key` appears more than once, sorted by it.
fn copies_of(checked: LazyFrame, key: &[&str]) -> LazyFrame {
    let on: Vec<Expr> = key.iter().map(|c| typed(c)).collect();
    let keys: Vec<Expr> = key.iter().map(|c| col(format!("__key:{c}"))).collect();
    let mut args = JoinArgs::new(JoinType::Semi);
    args.nulls_equal = true;
    checked
        .clone()
        .join(
            duplicated_keys(checked, key).select(keys.clone()),
            on.clone(),
            keys,
            args,
        )
        .sort_by_exprs(on, Default::default())
}

/// [`Check::UniquePerDay`]: the rows of `checked` (a rollup's, whose key
/// holds `event_time`) in duplicated keys, counted one calendar month of
/// `event_time` at a time over `span` (its first and last day, from the
/// data rules' scan) and then the rows without a day, each collected on its
/// own: one group-by over every key of a rollup at L (83M rows) took
/// 10 GiB. Returns the count and the rows of the first part with copies
/// (for the examples).
fn duplicates_by_month(
    checked: LazyFrame,
    key: &[&str],
    span: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
) -> Result<(u64, LazyFrame)> {
    let day = typed("event_time");
    let mut parts: Vec<Expr> = Vec::new();
    if let Some((first, last)) = span {
        let mut month = chrono::Datelike::with_day(&first, 1).unwrap_or(first);
        while month <= last {
            let next = month + chrono::Months::new(1);
            parts.push(crate::time::in_range(
                day.clone(),
                crate::time::date_lit(month),
                crate::time::date_lit(next),
            ));
            month = next;
        }
    }
    // Rows in no month: those without a day (a rule of their own).
    parts.push(day.clone().is_null());
    let mut total = 0;
    let mut first_with_copies = None;
    for part in parts {
        let rows = checked.clone().filter(part);
        let counted = crate::execute::collect_all(
            vec![duplicated_keys(rows.clone(), key)
                .select([col("__copies").sum().cast(DataType::UInt64).alias("rows")])],
            "checking input data",
        )?
        .pop()
        .unwrap_or_default();
        let n = count_of(&counted, "rows");
        if n > 0 && first_with_copies.is_none() {
            first_with_copies = Some(rows);
        }
        total += n;
    }
    Ok((total, first_with_copies.unwrap_or(checked)))
}

/// The keys (typed `key` columns, as `__key:COLUMN`) that appear more than
/// once in `frame`, with `__copies`, the rows of each. With one column,
/// nulls are no key (they have their own rule); with several, a null is a
/// value like any other (a rollup row without a user).
fn duplicated_keys(frame: LazyFrame, key: &[&str]) -> LazyFrame {
    let names: Vec<Expr> = key.iter().map(|c| col(format!("__key:{c}"))).collect();
    let mut keys = frame.select(
        key.iter()
            .map(|c| typed(c).alias(format!("__key:{c}")))
            .collect::<Vec<_>>(),
    );
    if let [only] = key {
        keys = keys.filter(col(format!("__key:{only}")).is_not_null());
    }
    keys.group_by(names)
        .agg([len().alias("__copies")])
        .filter(col("__copies").gt(lit(1)))
}
