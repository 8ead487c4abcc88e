//! Parse, then resolve: turns a parsed [`PipelineFile`] into a [`Pipeline`]
//! with absolute paths, the period, and every configuration problem reported
//! at once (not only the first).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use super::activity::{resolve_activity, SparkSettings, StoreSettings};
use super::source::{resolve_source, ResolvedSource};
use super::types::{
    ActivityEngine, CohortConfig, LockSetting, MetricEntry, PipelineFile, SourceName,
};
use crate::error::{Error, Result};
use crate::storage::s3::{S3Settings, S3};
use crate::storage::Location;
use crate::time::Period;

/// A validated pipeline, ready to plan. Everything after resolution reads
/// this, never the parsed file, and nothing changes it: what a run learns
/// (the days to check, the events source an activity engine produced)
/// travels in types of its own. The configured metrics are returned beside
/// it by [`resolve`].
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline's name (recorded in the manifest).
    pub name: String,
    pub file_path: PathBuf,
    /// The pipeline file's text as read (before interpolation), for its sha256.
    pub raw_text: String,
    /// The pipeline as it was configured (after `${VAR}` and `--set`), as
    /// the manifest records it.
    pub recorded: serde_json::Value,
    pub period: Period,
    pub sources: BTreeMap<SourceName, ResolvedSource>,
    /// The landmark rule (docs/METRICS.md#cohorts).
    pub cohort: CohortConfig,
    /// Account columns every metric is broken down by.
    pub segment_by: Vec<String>,
    /// `adjust:`, when the lift rows carry an adjusted comparison.
    pub adjust: Option<super::types::AdjustConfig>,
    /// Significance level of the lift tests (docs/STATISTICS.md).
    pub alpha: f64,
    /// `money:` (docs/STATISTICS.md#money).
    pub money: super::types::MoneyConfig,
    /// `primary:` and `guardrails:`, as listed (checked against `metrics`).
    pub primary: Option<Vec<String>>,
    pub guardrails: Option<Vec<String>>,
    /// `quality:`, the checks' policy and thresholds (docs/INPUTS.md#the-checks).
    pub quality: super::types::QualityConfig,
    /// Directory or S3 prefix that receives `as_of=YYYY-MM-DD/`.
    pub output_dir: Location,
    /// The S3 client, when any path is on S3.
    pub s3: Option<Arc<S3>>,
    /// Whether runs lock the output partition (`output.lock`).
    pub lock: LockSetting,
    /// Lifetime of an S3 lease without renewal (`output.lock_expiry_secs`).
    pub lock_expiry: std::time::Duration,
    /// `output.report`: write `report.html` into the partition.
    pub report: bool,
    /// Who produces the activity rollup (`activity.engine`).
    pub activity_engine: ActivityEngine,
    /// `activity.spark`, with `engine: spark`.
    pub spark: Option<SparkSettings>,
    /// `activity.store`: the rollup kept by day between runs.
    pub store: Option<StoreSettings>,
}

/// Resolves paths and checks the configuration as a whole; returns the
/// pipeline and its metrics in the file's order. `as_of` (from `--as-of`)
/// wins over the file; `output` (from `--output`) is relative to the
/// current directory.
pub fn resolve<M: MetricEntry + serde::Serialize>(
    file: PipelineFile<M>,
    raw_text: String,
    file_path: &Path,
    as_of: Option<NaiveDate>,
    output: Option<&str>,
) -> Result<(Pipeline, Vec<M>)> {
    let base_dir = match file_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut problems = check_values(&file);
    problems.extend(duplicate_metrics(&file.metrics, &raw_text));
    let mut sources = BTreeMap::new();
    for (name, config) in &file.sources {
        match resolve_source(*name, config, &base_dir, &format!("sources.{name}")) {
            Ok(source) => {
                sources.insert(*name, source);
            }
            Err(problem) => problems.push(problem),
        }
    }
    let has_events = file.sources.contains_key(&SourceName::Events);
    let (spark, store) = resolve_activity(
        &file.activity,
        has_events,
        &base_dir,
        &mut sources,
        &mut problems,
    );
    let output_dir = resolve_output(&file.output.path, output, &base_dir, &mut problems);
    let s3 = s3_client(
        file.storage.s3.as_ref(),
        &mut sources,
        &[
            output_dir.as_ref(),
            spark.as_ref().map(|s| &s.staging_location),
            store.as_ref().map(|s| &s.location),
        ],
        &mut problems,
    );

    let as_of = as_of
        .or(file.period.as_of.map(|d| d.0))
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let period = Period::new(as_of, file.period.months.clamp(1, 1200));

    if !problems.is_empty() {
        let shown = file_path.display();
        let list = problems
            .iter()
            .map(|p| match locate(&raw_text, p) {
                Some((line, column)) => format!("  - {shown}:{line}:{column}: {p}"),
                None => format!("  - {p}"),
            })
            .collect::<Vec<_>>()
            .join("\n");
        return Err(Error::config(format!(
            "`{shown}`: {} problem(s) in the pipeline:\n{list}",
            problems.len()
        )));
    }
    let recorded = serde_json::to_value(&file)
        .map_err(|e| Error::other(format!("recording the pipeline: {e}")))?;
    let pipeline = Pipeline {
        name: file.name,
        file_path: file_path.to_path_buf(),
        raw_text,
        recorded,
        period,
        sources,
        cohort: file.cohort,
        segment_by: file.segment_by,
        adjust: file.adjust,
        alpha: file.stats.alpha,
        money: file.money.clone(),
        primary: file.primary,
        guardrails: file.guardrails,
        quality: file.quality.clone(),
        output_dir: output_dir.unwrap_or(Location::Local(PathBuf::from("."))),
        s3,
        lock: file.output.lock,
        lock_expiry: std::time::Duration::from_secs(file.output.lock_expiry_secs.unwrap_or(300)),
        report: file.output.report,
        activity_engine: file.activity.engine,
        spark,
        store,
    };
    Ok((pipeline, file.metrics))
}

/// The values the types cannot check, every problem at once.
fn check_values<M: MetricEntry>(file: &PipelineFile<M>) -> Vec<String> {
    let mut problems = Vec::new();
    if file.cohort.window_days < 1 {
        problems.push("`cohort.window_days` must be at least 1".to_string());
    }
    for (key, share) in [
        ("max_orphan_share", file.quality.max_orphan_share),
        ("max_off_grain_share", file.quality.max_off_grain_share),
        ("min_user_overlap", file.quality.min_user_overlap),
        (
            "max_duplicate_name_share",
            file.quality.max_duplicate_name_share,
        ),
        ("max_row_drop_share", file.quality.max_row_drop_share),
    ] {
        if !(0.0..=1.0).contains(&share) {
            problems.push(format!("`quality.{key}` must be between 0 and 1"));
        }
    }
    for name in file.quality.expected_orphans.keys() {
        if *name == SourceName::Accounts || !file.sources.contains_key(name) {
            problems.push(format!(
                "`quality.expected_orphans.{name}`: only a fact source of the pipeline has orphan rows"
            ));
        }
    }
    let mrr = file.quality.max_plausible_mrr;
    if !(mrr > 0.0 && mrr.is_finite()) {
        problems.push(format!(
            "`quality.max_plausible_mrr` must be a number above 0, got {mrr}"
        ));
    }
    for (name, source) in &file.sources {
        if source.grain.is_some() && *name != SourceName::Revenue {
            problems.push(format!(
                "`sources.{name}.grain`: only `revenue` takes a `grain`"
            ));
        }
        if !source.completed_values.is_empty() && *name != SourceName::Training {
            problems.push(format!(
                "`sources.{name}.completed_values`: only `training` takes `completed_values`"
            ));
        }
        if source.completed_values.iter().any(|v| v.trim().is_empty()) {
            problems.push(format!(
                "`sources.{name}.completed_values` holds an empty value"
            ));
        }
        if source.churn.is_some() && *name != SourceName::Accounts {
            problems.push(format!(
                "`sources.{name}.churn`: only `accounts` takes `churn: none`"
            ));
        }
    }
    if file.output.lock_expiry_secs.is_some_and(|s| s < 2) {
        problems.push("`output.lock_expiry_secs` must be at least 2".to_string());
    }
    if file.cohort.min_courses < 1 {
        problems.push("`cohort.min_courses` must be at least 1".to_string());
    }
    if file.period.months < 1 || file.period.months > 1200 {
        problems.push(format!(
            "`period.months` must be between 1 and 1200, got {}",
            file.period.months
        ));
    }
    if !(file.stats.alpha > 0.0 && file.stats.alpha < 1.0) {
        problems.push(format!(
            "`stats.alpha` must be between 0 and 1 (exclusive), got {}",
            file.stats.alpha
        ));
    }
    if !file.sources.contains_key(&SourceName::Accounts) {
        problems.push("`sources.accounts` is required".to_string());
    }
    let mut seen = std::collections::BTreeSet::new();
    for column in &file.segment_by {
        if column.trim().is_empty() {
            problems.push("`segment_by` holds an empty column name".to_string());
        } else if !seen.insert(column.as_str()) {
            problems.push(format!("`segment_by` lists `{column}` twice"));
        }
    }
    if let Some(adjust) = &file.adjust {
        problems.extend(check_adjust(adjust));
    }
    if file.metrics.is_empty() {
        problems.push("`metrics` is empty: name at least one metric".to_string());
    }
    for metric in &file.metrics {
        problems.extend(metric.problems());
    }
    problems.extend(check_families(file));
    if let Some(currency) = &file.money.currency {
        if currency.trim().is_empty() || currency.chars().count() > 8 {
            problems.push(format!(
                "`money.currency` must be a short code such as USD or EUR, got `{currency}`"
            ));
        }
    }
    if let Some(cost) = file.money.cost_per_ticket {
        if !(cost >= 0.0 && cost.is_finite()) {
            problems.push(format!(
                "`money.cost_per_ticket` must be a number ≥ 0, got {cost}"
            ));
        }
    }
    problems
}

/// `primary:` and `guardrails:` name metrics of `metrics` that are compared
/// (not descriptive), each once and in one list only.
fn check_families<M: MetricEntry>(file: &PipelineFile<M>) -> Vec<String> {
    let mut problems = Vec::new();
    let configured: Vec<&str> = file.metrics.iter().map(|m| m.id()).collect();
    let lists = [("primary", &file.primary), ("guardrails", &file.guardrails)];
    for (key, list) in lists {
        let Some(list) = list else { continue };
        let mut seen = std::collections::BTreeSet::new();
        for id in list {
            if !seen.insert(id.as_str()) {
                problems.push(format!("`{key}` lists `{id}` twice"));
                continue;
            }
            match file.metrics.iter().find(|m| m.id() == id) {
                None => problems.push(format!(
                    "`{key}` names `{id}`, which is not one of this pipeline's metrics ({})",
                    configured.join(", ")
                )),
                Some(metric) if !metric.compared() => problems.push(format!(
                    "`{key}` names `{id}`, a descriptive metric: its rows carry no test \
                     (docs/STATISTICS.md#descriptive-metrics)"
                )),
                Some(_) => {}
            }
        }
    }
    if let (Some(primary), Some(guardrails)) = (&file.primary, &file.guardrails) {
        for id in primary.iter().filter(|id| guardrails.contains(id)) {
            problems.push(format!(
                "`{id}` is in both `primary` and `guardrails`: a metric's overall rows belong to one family"
            ));
        }
    }
    problems
}

/// Metrics listed more than once (each would give its rows twice and enter
/// the multiple-testing family twice), with the lines that name them.
fn duplicate_metrics<M: MetricEntry>(metrics: &[M], text: &str) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for metric in metrics {
        *counts.entry(metric.id()).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, n)| {
            let lines = metric_lines(text, id);
            let shown = match lines.as_slice() {
                [] => String::new(),
                [one] => format!(" (line {one})"),
                more => format!(
                    " (lines {})",
                    more.iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            };
            format!("metric `{id}` is listed {n} times in `metrics`{shown}: list each metric once")
        })
        .collect()
}

/// The lines (from 1) of the `metrics:` block whose list item names `id`.
fn metric_lines(text: &str, id: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut inside = false;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let top_level = !line.starts_with([' ', '\t', '-']) && !trimmed.is_empty();
        if top_level && !trimmed.starts_with('#') {
            inside = trimmed.starts_with("metrics:");
            continue;
        }
        let Some(item) = trimmed.strip_prefix('-') else {
            continue;
        };
        let name = item
            .trim_start()
            .split(|c: char| c == ':' || c.is_whitespace())
            .next()
            .unwrap_or("");
        if inside && name == id {
            lines.push(number + 1);
        }
    }
    lines
}

/// Where the partition goes: `--output` (relative to the current
/// directory) or `output.path` (relative to the pipeline file).
fn resolve_output(
    configured: &str,
    output: Option<&str>,
    base_dir: &Path,
    problems: &mut Vec<String>,
) -> Option<Location> {
    let output_dir = match output {
        Some(path) => Location::parse(path, Path::new(".")),
        None => Location::parse(configured, base_dir),
    };
    match output_dir {
        Ok(dir) if dir.is_s3() && dir.is_glob() => {
            problems.push(format!(
                "output: `{dir}`: `*`, `?`, `[` and `]` are not allowed in an S3 output path"
            ));
            None
        }
        // A partition inside a partition: the outer one's `verify` would not
        // see it, and its next run would delete it.
        Ok(dir)
            if dir
                .to_string()
                .split('/')
                .any(|part| part.starts_with("as_of=")) =>
        {
            problems.push(format!(
                "output: `{dir}` is inside a partition (`as_of=…`); name the directory that holds the partitions"
            ));
            None
        }
        Ok(dir) => Some(dir),
        Err(problem) => {
            problems.push(format!("output: {problem}"));
            None
        }
    }
}

/// The one S3 client of a run, when any path is on S3, given to every
/// source on S3.
fn s3_client(
    settings: Option<&crate::storage::s3::S3Config>,
    sources: &mut BTreeMap<SourceName, ResolvedSource>,
    others: &[Option<&Location>],
    problems: &mut Vec<String>,
) -> Option<Arc<S3>> {
    let uses_s3 =
        sources.values().any(|s| s.location.is_s3()) || others.iter().flatten().any(|l| l.is_s3());
    if !uses_s3 {
        // Settings no path uses are still checked (a password in the
        // endpoint is refused wherever it is); the credential chain is not.
        if let Some(config) = settings {
            let settings = S3Settings::from_config(Some(config));
            problems.extend(
                settings
                    .problems()
                    .into_iter()
                    .filter(|p| Some(p) != settings.chain.problem.as_ref()),
            );
        }
        return None;
    }
    let settings = S3Settings::from_config(settings);
    problems.extend(settings.problems());
    let client = S3::new(settings);
    for source in sources.values_mut() {
        if source.location.is_s3() {
            source.s3 = Some(client.clone());
        }
    }
    Some(client)
}

/// Where in the file a problem's first `key` (or `a.b.key`) is written:
/// the first line that holds `key:` (or, for a bare metric id, the id).
fn locate(text: &str, problem: &str) -> Option<(usize, usize)> {
    let token = problem.split('`').nth(1)?;
    let leaf = token.rsplit('.').next()?;
    let with_colon = format!("{leaf}:");
    text.lines().enumerate().find_map(|(i, line)| {
        let code = line.split('#').next().unwrap_or("");
        code.find(&with_colon)
            .or_else(|| code.find(&format!("- {leaf}")).map(|c| c + 2))
            .map(|column| (i + 1, column + 1))
    })
}

/// The rules of `adjust:` that need no data; that the covariates are columns
/// of `accounts` is checked when the sources are scanned.
fn check_adjust(adjust: &super::types::AdjustConfig) -> Vec<String> {
    let mut problems = Vec::new();
    if adjust.covariates.is_empty() {
        problems
            .push("`adjust.covariates` is empty: name the accounts columns to adjust for".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    for column in &adjust.covariates {
        if column.trim().is_empty() {
            problems.push("`adjust.covariates` holds an empty column name".to_string());
        } else if !seen.insert(column.as_str()) {
            problems.push(format!("`adjust.covariates` lists `{column}` twice"));
        }
    }
    for (column, bounds) in &adjust.buckets {
        if !seen.contains(column.as_str()) {
            problems.push(format!(
                "`adjust.buckets.{column}`: `{column}` is not one of `adjust.covariates`"
            ));
        }
        if bounds.is_empty() || bounds.iter().any(|b| !b.is_finite()) {
            problems.push(format!(
                "`adjust.buckets.{column}` must be a list of finite numbers, got {bounds:?}"
            ));
        } else if bounds.windows(2).any(|w| w[0] >= w[1]) {
            problems.push(format!(
                "`adjust.buckets.{column}` must be strictly ascending, got {bounds:?}"
            ));
        }
    }
    if adjust.strata < 2 {
        problems.push(format!(
            "`adjust.strata` must be at least 2, got {}",
            adjust.strata
        ));
    }
    if adjust.min_per_arm < 1 {
        problems.push("`adjust.min_per_arm` must be at least 1, got 0".to_string());
    }
    problems
}
