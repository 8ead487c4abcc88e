//! docs/INPUTS.md rules as lazy checks, run before anything is written (docs/INPUTS.md#the-checks):
//! every broken rule is reported at once with the source, file, column, rule,
//! the number of offending rows and up to five example rows.
//!
//! Row rules of a source are counted together in one scan of it (with its
//! orphan rows); uniqueness rules need their own group-by. Example rows are
//! fetched only for rules that failed.

mod data_rule;
mod drops;
mod duplicates;
mod known;
mod orphan_names;
mod orphans;
mod pass;
pub mod plausibility;
mod report;
mod rules;
mod summary;
mod tally;

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::config::{OrphanPolicy, Pipeline, SourceName};
use crate::error::Result;
use crate::inputs::{Inputs, RiderStart};
use crate::source::{AccountKey, LoadedSource};
use crate::time::DayRange;

use data_rule::typed;
pub use data_rule::{csat_score, DataRule};
pub use drops::Drops;
use duplicates::{copies_of, duplicated_keys, duplicates_by_month};
use known::{is_one_of, KnownIds};
use orphans::{account_id_examples, unmatched_names, warn_orphans};
use pass::{count_source, pass_order};
use report::count_of;
pub use report::format_examples;
pub use report::values_shown;
pub(crate) use report::{number_of, text_of};
use rules::{main_day, row_rule, rules_of, Check, Rule};
pub use summary::coverage;

/// How many example rows a violation shows.
pub const EXAMPLES: usize = 5;

/// Column of the check frame that flags rows whose account is unknown.
const ORPHAN: &str = "__orphan";
/// The first and last day of a source's main date column, in the counts.
const FIRST_DAY: &str = "__first_day";
const LAST_DAY: &str = "__last_day";
/// The distinct known accounts of a fact source's rows, in the counts.
const ACCOUNTS: &str = "__accounts";

/// What the checks cover beyond the pipeline file: the rules and the days
/// that the configured metrics bring (built by `crate::metrics::needs`).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Data rules that the metrics' parameters add (the CSAT scale).
    pub data_rules: Vec<DataRule>,
    /// Where the data rules' pass keeps the typed rows of each CSV source,
    /// which the run reads from then on ([`crate::source::Spilled`]);
    /// None: they are not kept (`validate`).
    pub spill: Option<std::path::PathBuf>,
    /// The days of events whose rows are read and checked; None: every row.
    pub event_days: Option<DayRange>,
    /// The days of activity the metrics read; None when no metric reads
    /// events.
    pub activity: Option<DayRange>,
    /// The configured metrics that compare the cohorts at the period start
    /// (docs/METRICS.md, "Cohorts").
    pub period_metrics: Vec<&'static str>,
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
    /// Per fact source: the rows dropped without a known account, by why.
    pub drops: BTreeMap<SourceName, Drops>,
    /// Per fact source: the distinct known accounts of its rows.
    pub accounts: BTreeMap<SourceName, u64>,
    /// Per source: its main date column, and its first and last day.
    pub date_ranges: BTreeMap<SourceName, (&'static str, Option<String>, Option<String>)>,
}

/// docs/INPUTS.md#the-checks: the data rules, then the plausibility checks,
/// over the sources that could be read; `problems` (from the scan) and every
/// rule that fails are reported together, and a check that reads a source
/// with a broken rule is left out (its numbers would follow from the broken
/// rows).
///
/// `riders` read a source's rows in the same pass as its data rules (the
/// activity fold the events', a fold of facts another source's;
/// [`crate::frame::Rider`], told `done` when it has read them), each
/// started when its pass begins.
pub fn check_all(
    inputs: &mut Inputs,
    pipeline: &Pipeline,
    scope: &Scope,
    mut problems: Vec<crate::error::Error>,
    riders: BTreeMap<SourceName, RiderStart>,
) -> Result<(QualityReport, plausibility::Plausibility)> {
    // Each part's seconds at debug level (`-v`): where the check stage's
    // time goes (docs/BENCHMARKS.md).
    let started = std::time::Instant::now();
    let report = check_with(inputs, pipeline, scope, riders)?;
    let rules = started.elapsed().as_secs_f64();
    crate::log::debug("check", &format!("data rules: {rules:.2}s"));
    let mut broken = report.broken();
    broken.extend(SourceName::ALL.into_iter().filter(|s| inputs.failed(*s)));
    problems.extend(report.violation_error());
    let found = plausibility::check(inputs, pipeline, scope, &report, &broken, &mut problems)?;
    let plausible = started.elapsed().as_secs_f64() - rules;
    crate::log::debug("check", &format!("plausibility: {plausible:.2}s"));
    match crate::error::Error::all(problems) {
        Some(problem) => Err(problem),
        None => Ok((report, found)),
    }
}

/// The frame rules run on: the source's check frame, with [`ORPHAN`] for
/// fact tables (account_id not in `accounts`).
fn check_frame(
    known: &KnownIds,
    loaded: &LoadedSource,
    scope: &Scope,
    pipeline: &Pipeline,
) -> Result<LazyFrame> {
    if loaded.name == SourceName::Accounts {
        return Ok(loaded.checked.clone().with_columns([
            lit(false).alias(ORPHAN),
            lit(false).alias(drops::EXPECTED),
            lit(false).alias(drops::EMPTY),
        ]));
    }
    let checked = rows_checked(loaded, scope);
    let frame = checked
        .with_column(is_one_of(typed("account_id"), &known.accounts).alias(KNOWN))
        .with_column(col(KNOWN).not().alias(ORPHAN));
    // Expected drops (`quality.expected_orphans`) are counted apart and
    // left out of the orphan rule.
    let key = drops::key_of(loaded);
    Ok(frame
        .with_columns([
            col(ORPHAN)
                .and(drops::expected(
                    key,
                    expected_orphans(pipeline, loaded.name),
                ))
                .alias(drops::EXPECTED),
            typed(key).is_null().alias(drops::EMPTY),
        ])
        .with_column(col(ORPHAN).and(col(drops::EXPECTED).not()).alias(ORPHAN)))
}

/// The `quality.expected_orphans` patterns of a source.
fn expected_orphans(pipeline: &Pipeline, name: SourceName) -> &[String] {
    pipeline
        .quality
        .expected_orphans
        .get(&name)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Column of the check frame: the row's account is an account of `accounts`.
const KNOWN: &str = "__known";

/// The rows of a source that are checked. Events: only the days the run
/// reads are read (and checked), so that files and row groups outside them
/// are skipped (docs/ARCHITECTURE.md, "Activity").
fn rows_checked(loaded: &LoadedSource, scope: &Scope) -> LazyFrame {
    match scope.event_days {
        Some(range) if loaded.name == SourceName::Events => {
            loaded.checked_in_days("event_time", range.first, range.end)
        }
        _ => loaded.checked.clone(),
    }
}

/// Whether a source's user ids are checked against `users` (the user-level
/// metrics join them, docs/METRICS.md#subjects-and-populations): `events` and `training` with a `user_id` column,
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
pub fn check(inputs: &mut Inputs, pipeline: &Pipeline, scope: &Scope) -> Result<QualityReport> {
    check_with(inputs, pipeline, scope, BTreeMap::new())
}

/// [`check`], with `riders` reading their sources' rows in their passes, and
/// the typed rows of the CSV sources kept with [`Scope::spill`]: each
/// source is read from its kept rows right after its pass. The passes
/// run over `accounts` and `users` first, so that the ids the others are
/// checked against are read from their kept rows ([`KnownIds`]).
fn check_with(
    inputs: &mut Inputs,
    pipeline: &Pipeline,
    scope: &Scope,
    mut riders: BTreeMap<SourceName, RiderStart>,
) -> Result<QualityReport> {
    let wants_users = KnownIds::wanted(inputs);
    let mut known: Option<KnownIds> = None;
    let mut counted = BTreeMap::new();
    for name in pass_order(inputs) {
        if name != SourceName::Accounts {
            // The users' ids once their pass is done.
            let users = wants_users && name != SourceName::Users;
            if known.as_ref().is_none_or(|k| users && !k.has_users()) {
                known = Some(KnownIds::collect(inputs, users)?);
            }
        }
        // A rider that cannot start leaves its work to a read of its own.
        let rider = riders.remove(&name).and_then(|start| match start(inputs) {
            Ok(rider) => Some(rider),
            Err(e) => {
                let shown = format!("`{name}` read apart from its pass: {e}");
                crate::log::debug("check", &shown);
                None
            }
        });
        let (counts, spilled) = count_source(inputs, pipeline, scope, name, known.as_ref(), rider)?;
        if let Some(spilled) = spilled {
            inputs.read_spilled(&spilled);
        }
        counted.insert(name, counts);
    }
    let known = match known {
        Some(known) if known.has_users() || !wants_users => known,
        _ => KnownIds::collect(inputs, wants_users)?,
    };
    let inputs = &*inputs;
    let mut plans = Vec::new();
    let mut layout = Vec::new();
    for (name, loaded) in &inputs.sources {
        let rules = rules_of(loaded, scope);
        let frame = check_frame(&known, loaded, scope, pipeline)?;
        for rule in &rules {
            match &rule.check {
                Check::Unique(key) if known.copies(*name, key).is_none() => plans.push(
                    duplicated_keys(rows_checked(loaded, scope), key)
                        .select([col("__copies").sum().cast(DataType::UInt64).alias("rows")]),
                ),
                _ => {}
            }
        }
        layout.push((*name, frame, rules));
    }
    let mut results = crate::frame::collect_all(plans, "checking input data")?.into_iter();

    let mut report = QualityReport::default();
    let mut failed: Vec<(Rule, u64, LazyFrame)> = Vec::new();
    let mut orphan_warnings = Vec::new();
    let mut known_ids: Option<String> = None;
    for (name, frame, rules) in layout {
        let loaded = &inputs.sources[&name];
        let counts = counted.remove(&name).unwrap_or_default();
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
            let orphans = count_of(&counts, ORPHAN);
            let empty = count_of(&counts, drops::EMPTY);
            report.orphans.insert(name, orphans);
            report.accounts.insert(name, count_of(&counts, ACCOUNTS));
            report.drops.insert(
                name,
                Drops {
                    key: drops::key_of(loaded),
                    empty,
                    unknown: orphans - empty,
                    expected: count_of(&counts, drops::EXPECTED),
                },
            );
        }
        for (i, rule) in rules.iter().enumerate() {
            let (n, offending) = match &rule.check {
                Check::Row(bad) => (
                    count_of(&counts, &format!("rule_{i}")),
                    frame.clone().filter(bad.clone()),
                ),
                Check::Unique(key) => {
                    let n = match known.copies(name, key) {
                        Some(n) => n,
                        None => count_of(&results.next().unwrap_or_default(), "rows"),
                    };
                    (n, copies_of(rows_checked(loaded, scope), key))
                }
                Check::UniquePerDay(key) => {
                    let span = report.day_span(name);
                    let (n, rows) = duplicates_by_month(rows_checked(loaded, scope), key, span)?;
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
            let fatal = pipeline.quality.orphans == OrphanPolicy::Error
                || share > pipeline.quality.max_orphan_share;
            if fatal {
                let by_name = loaded.account_via == Some(AccountKey::Name);
                let why = if pipeline.quality.orphans == OrphanPolicy::Error {
                    "quality.orphans: error".to_string()
                } else if by_name {
                    format!(
                        "{:.1} % of its rows, above quality.max_orphan_share {:.1} %: `account_name` values that \
                         match no company `name` of `accounts`: {}",
                        share * 100.0,
                        pipeline.quality.max_orphan_share * 100.0,
                        unmatched_names(inputs, frame.clone().filter(col(ORPHAN)))?
                    )
                } else {
                    if known_ids.is_none() {
                        known_ids = Some(account_id_examples(inputs)?);
                    }
                    format!(
                        "{:.1} % of its rows, above quality.max_orphan_share {:.1} %: ids from another system? \
                         `accounts` has e.g. {}",
                        share * 100.0,
                        pipeline.quality.max_orphan_share * 100.0,
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
    let examples = crate::frame::collect_all(
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
