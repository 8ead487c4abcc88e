//! Parse, then resolve: turns a parsed [`PipelineFile`] into a [`Pipeline`]
//! with absolute paths, the period, and every configuration problem reported
//! at once (not only the first).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use super::types::{
    ActivityEngine, CohortConfig, FileFormat, LockSetting, OrphanPolicy, PipelineFile,
    SourceConfig, SourceName,
};
use crate::error::{Error, Result};
use crate::metrics::MetricConfig;
use crate::quality::DataRule;
use crate::storage::s3::{S3Settings, S3};
use crate::storage::Location;
use crate::time::Period;

/// A validated pipeline, ready to plan. Everything after resolution reads
/// this, never the parsed file.
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
    /// The landmark rule (SPEC §3).
    pub cohort: CohortConfig,
    /// Account columns every metric is broken down by.
    pub segment_by: Vec<String>,
    /// `adjust:`, when the lift rows carry an adjusted comparison.
    pub adjust: Option<super::types::AdjustConfig>,
    /// Significance level of the lift tests (SPEC §6).
    pub alpha: f64,
    /// What to do with fact rows whose account is unknown (SPEC §9).
    pub orphans: OrphanPolicy,
    /// `quality.max_orphan_share`: above it, dropped rows stop the run.
    pub max_orphan_share: f64,
    /// `quality.max_off_grain_share`: above it, revenue looks like invoices.
    pub max_off_grain_share: f64,
    /// `quality.min_user_overlap`: below it, user ids do not match.
    pub min_user_overlap: f64,
    /// The metrics to compute, in the file's order.
    pub metrics: Vec<MetricConfig>,
    /// Data rules that the metrics' parameters add (SPEC §4).
    pub data_rules: Vec<DataRule>,
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
    /// The days of events the data rules read, when not the activity range
    /// (the store checks the raw events of the days it computes).
    pub check_days: Option<crate::activity::ActivityRange>,
}

/// `activity.store` and its settings, checked.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// The store's directory or S3 prefix (ending in `/`).
    pub location: Location,
    /// The most recent days every run recomputes.
    pub lookback_days: u32,
    /// Days kept before as_of (None: the days the metrics read).
    pub keep_days: Option<u32>,
    /// Whether each run compares the stored days with the source.
    pub drift_check: bool,
}

/// `activity.spark`, checked.
#[derive(Debug, Clone)]
pub struct SparkSettings {
    /// The Spark Connect URL as configured (the token included: never print
    /// it; [`SparkSettings::remote_shown`] is the printable form).
    pub remote: String,
    /// The staging directory as Spark is given it (absolute when local).
    pub staging: String,
    /// The same directory as this job reads it (`s3a://` read as `s3://`).
    pub staging_location: Location,
}

impl SparkSettings {
    fn resolve(config: &crate::config::SparkConfig, base_dir: &Path) -> Result<Self, String> {
        let remote = config.remote.trim().to_string();
        if !remote.starts_with("sc://") {
            return Err(format!(
                "`activity.spark.remote`: `{}` is not a Spark Connect URL: write `sc://HOST:PORT/;token=${{SPARK_TOKEN}}`",
                shown_remote(&remote)
            ));
        }
        if let Some(token) = remote_parameter(&remote, "token") {
            // Masked in every message, whatever the variable's name.
            crate::redact::register(token);
        }
        let staging = config.staging.trim();
        let ours = match staging.strip_prefix("s3a://") {
            Some(rest) => format!("s3://{rest}"),
            None => staging.to_string(),
        };
        let location = Location::parse(&ours, base_dir)
            .map_err(|e| format!("`activity.spark.staging`: {e}"))?;
        if location.is_glob() {
            return Err(format!(
                "`activity.spark.staging`: `{staging}` is a pattern; give the directory Spark writes the rollup into"
            ));
        }
        let (staging, staging_location) = match location {
            Location::Local(path) => {
                let path = std::path::absolute(&path).unwrap_or(path);
                (path.display().to_string(), Location::Local(path))
            }
            Location::S3 { bucket, key } => {
                let key = if key.is_empty() || key.ends_with('/') {
                    key
                } else {
                    format!("{key}/")
                };
                let scheme = if staging.starts_with("s3a://") {
                    "s3a"
                } else {
                    "s3"
                };
                (
                    format!("{scheme}://{bucket}/{key}"),
                    Location::S3 { bucket, key },
                )
            }
        };
        Ok(SparkSettings {
            remote,
            staging,
            staging_location,
        })
    }

    /// The remote without its token: `token=***`.
    pub fn remote_shown(&self) -> String {
        shown_remote(&self.remote)
    }
}

/// The value of `;name=value` in a Spark Connect URL.
fn remote_parameter<'a>(remote: &'a str, name: &str) -> Option<&'a str> {
    remote
        .split(';')
        .skip(1)
        .find_map(|part| part.split_once('=').filter(|(k, _)| k.trim() == name))
        .map(|(_, value)| value)
}

/// A Spark Connect URL with the value of its `token` parameter masked.
fn shown_remote(remote: &str) -> String {
    remote
        .split(';')
        .enumerate()
        .map(|(i, part)| match part.split_once('=') {
            Some((key, _)) if i > 0 && key.trim() == "token" => {
                format!("{key}={}", crate::redact::MASK)
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// One input with its path made absolute and its format known.
#[derive(Debug, Clone)]
pub struct ResolvedSource {
    pub name: SourceName,
    /// Local path (file, directory or glob) or S3 key / prefix / glob.
    pub location: Location,
    /// Whether `location` holds a glob pattern.
    pub is_glob: bool,
    /// The format, when given or inferable from the path; otherwise inferred
    /// from the files found at scan time.
    pub format: Option<FileFormat>,
    pub config: SourceConfig,
    /// The S3 client, for a source on S3.
    pub s3: Option<Arc<S3>>,
    /// `events` read from `activity.table`: a daily rollup with `day` and
    /// `events` columns instead of one row per event.
    pub rollup: bool,
}

/// Resolves paths and checks the configuration as a whole.
/// `as_of` (from `--as-of`) wins over the file; `output` (from `--output`) is
/// relative to the current directory.
pub fn resolve(
    file: PipelineFile,
    raw_text: String,
    file_path: &Path,
    as_of: Option<NaiveDate>,
    output: Option<&str>,
) -> Result<Pipeline> {
    let mut problems = Vec::new();
    let base_dir = file_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let base_dir = if base_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base_dir
    };

    if file.cohort.window_days < 1 {
        problems.push("`cohort.window_days` must be at least 1".to_string());
    }
    for (key, share) in [
        ("max_orphan_share", file.quality.max_orphan_share),
        ("max_off_grain_share", file.quality.max_off_grain_share),
        ("min_user_overlap", file.quality.min_user_overlap),
    ] {
        if !(0.0..=1.0).contains(&share) {
            problems.push(format!("`quality.{key}` must be between 0 and 1"));
        }
    }
    for (name, source) in &file.sources {
        if source.grain.is_some() && *name != SourceName::Revenue {
            problems.push(format!(
                "`sources.{name}.grain`: only `revenue` takes a `grain`"
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
        problems.extend(metric.check_config());
    }

    let mut sources = BTreeMap::new();
    for (name, config) in &file.sources {
        match resolve_source(*name, config, &base_dir, &format!("sources.{name}")) {
            Ok(source) => {
                sources.insert(*name, source);
            }
            Err(problem) => problems.push(problem),
        }
    }
    let engine = file.activity.engine;
    if engine != ActivityEngine::Spark && file.activity.spark.is_some() {
        problems.push(format!(
            "`activity.spark`: read only with `activity.engine: spark` (the engine is `{}`)",
            engine.name()
        ));
    }
    let mut spark = None;
    if engine == ActivityEngine::Spark {
        match &file.activity.spark {
            None => problems.push(
                "`activity.engine`: `spark` needs `activity.spark` with `remote` (the Spark Connect URL) and `staging` \
                 (where Spark writes the rollup)"
                    .to_string(),
            ),
            Some(config) => match SparkSettings::resolve(config, &base_dir) {
                Ok(settings) => spark = Some(settings),
                Err(problem) => problems.push(problem),
            },
        }
        if !file.sources.contains_key(&SourceName::Events) {
            problems.push(
                "`activity.engine`: `spark` computes the rollup of `sources.events` on Spark: define `sources.events` \
                 (a path Spark reads; this job reads its schema)"
                    .to_string(),
            );
        }
    }
    let mut store = None;
    let a = &file.activity;
    match &a.store {
        None => {
            for (key, set) in [
                ("lookback_days", a.lookback_days.is_some()),
                ("keep_days", a.keep_days.is_some()),
                ("drift_check", a.drift_check.is_some()),
            ] {
                if set {
                    problems.push(format!(
                        "`activity.{key}`: read only with `activity.store` (where the rollup is kept by day)"
                    ));
                }
            }
        }
        Some(_) if engine == ActivityEngine::Table => problems.push(
            "`activity.store`: keeps what `engine: local` or `spark` computes; with `table` the rollup is already kept \
             elsewhere"
                .to_string(),
        ),
        Some(path) => match Location::parse(path, &base_dir) {
            Ok(location) if location.is_glob() => problems.push(format!(
                "`activity.store`: `{path}` is a pattern; give the directory that keeps the rollup"
            )),
            Ok(location) => {
                let location = match location {
                    Location::Local(path) => Location::Local(std::path::absolute(&path).unwrap_or(path)),
                    Location::S3 { bucket, key } if !key.is_empty() && !key.ends_with('/') => {
                        Location::S3 {
                            bucket,
                            key: format!("{key}/"),
                        }
                    }
                    s3 => s3,
                };
                if a.keep_days == Some(0) {
                    problems.push("`activity.keep_days` must be at least 1".to_string());
                }
                store = Some(StoreSettings {
                    location,
                    lookback_days: a.lookback_days.unwrap_or(3),
                    keep_days: a.keep_days,
                    drift_check: a.drift_check.unwrap_or(true),
                });
            }
            Err(e) => problems.push(format!("`activity.store`: {e}")),
        },
    }
    match (engine, &file.activity.table) {
        (ActivityEngine::Local | ActivityEngine::Spark, None) => {}
        (ActivityEngine::Local | ActivityEngine::Spark, Some(_)) => problems.push(format!(
            "`activity.table`: read only with `activity.engine: table` (the engine is `{}`, which reads `sources.events`)",
            engine.name()
        )),
        (ActivityEngine::Table, None) => problems.push(
            "`activity.engine`: `table` needs `activity.table`, the path (and format, columns) of the rollup".to_string(),
        ),
        (ActivityEngine::Table, Some(_)) if file.sources.contains_key(&SourceName::Events) => {
            problems.push(
                "`activity.engine`: `table` reads the rollup at `activity.table` instead of `sources.events`: remove one of them"
                    .to_string(),
            )
        }
        (ActivityEngine::Table, Some(table)) => {
            // The rollup is read as the events source, `day` standing for
            // `event_time` unless the columns say otherwise.
            let mut config = table.clone();
            config
                .columns
                .entry("event_time".to_string())
                .or_insert_with(|| "day".to_string());
            match resolve_source(SourceName::Events, &config, &base_dir, "activity.table") {
                Ok(mut source) => {
                    source.rollup = true;
                    sources.insert(SourceName::Events, source);
                }
                Err(problem) => problems.push(problem),
            }
        }
    }

    let output_dir = match output {
        Some(path) => Location::parse(path, Path::new(".")),
        None => Location::parse(&file.output.path, &base_dir),
    };
    let output_dir = match output_dir {
        Ok(dir) if dir.is_s3() && dir.is_glob() => {
            problems.push(format!(
                "output: `{dir}`: `*`, `?`, `[` and `]` are not allowed in an S3 output path"
            ));
            None
        }
        Ok(dir) => Some(dir),
        Err(problem) => {
            problems.push(format!("output: {problem}"));
            None
        }
    };

    let uses_s3 = sources
        .values()
        .any(|s: &ResolvedSource| s.location.is_s3())
        || output_dir.as_ref().is_some_and(Location::is_s3)
        || spark
            .as_ref()
            .is_some_and(|s: &SparkSettings| s.staging_location.is_s3())
        || store
            .as_ref()
            .is_some_and(|s: &StoreSettings| s.location.is_s3());
    let s3 = if uses_s3 {
        let settings = S3Settings::from_config(file.storage.s3.as_ref());
        problems.extend(settings.problems());
        let client = S3::new(settings);
        for source in sources.values_mut() {
            if source.location.is_s3() {
                source.s3 = Some(client.clone());
            }
        }
        Some(client)
    } else {
        None
    };

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
        .map_err(|e| Error::Other(format!("recording the pipeline: {e}")))?;
    let data_rules = file
        .metrics
        .iter()
        .flat_map(|m| m.metric().data_rules())
        .collect();
    Ok(Pipeline {
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
        orphans: file.quality.orphans,
        max_orphan_share: file.quality.max_orphan_share,
        max_off_grain_share: file.quality.max_off_grain_share,
        min_user_overlap: file.quality.min_user_overlap,
        metrics: file.metrics,
        data_rules,
        output_dir: output_dir.unwrap_or(Location::Local(PathBuf::from("."))),
        s3,
        lock: file.output.lock,
        lock_expiry: std::time::Duration::from_secs(file.output.lock_expiry_secs.unwrap_or(300)),
        report: file.output.report,
        activity_engine: file.activity.engine,
        spark,
        store,
        check_days: None,
    })
}

fn resolve_source(
    name: SourceName,
    config: &SourceConfig,
    base_dir: &Path,
    key: &str,
) -> std::result::Result<ResolvedSource, String> {
    let location =
        Location::parse(&config.path, base_dir).map_err(|p| format!("`{key}.path`: {p}"))?;
    let is_glob = location.is_glob();
    let format = config
        .format
        .or_else(|| format_from_name(&location.file_name().unwrap_or_default()));
    if let Some(csv) = &config.csv {
        if csv.delimiter.len() != 1 {
            return Err(format!(
                "`{key}.csv.delimiter` must be one byte, got `{}`",
                csv.delimiter
            ));
        }
        if csv.quote.len() != 1 {
            return Err(format!(
                "`{key}.csv.quote` must be one byte, got `{}`",
                csv.quote
            ));
        }
    }
    Ok(ResolvedSource {
        name,
        location,
        is_glob,
        format,
        config: config.clone(),
        s3: None,
        rollup: false,
    })
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

/// `parquet` for `.parquet`/`.pq`, `csv` for `.csv`/`.tsv`/`.txt` (also gzip'd).
pub fn format_from_extension(path: &Path) -> Option<FileFormat> {
    format_from_name(&path.file_name()?.to_string_lossy())
}

/// [`format_from_extension`] of a file or object name.
pub fn format_from_name(name: &str) -> Option<FileFormat> {
    let name = name.to_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".parquet") || name.ends_with(".pq") {
        Some(FileFormat::Parquet)
    } else if name.ends_with(".csv") || name.ends_with(".tsv") || name.ends_with(".txt") {
        Some(FileFormat::Csv)
    } else {
        None
    }
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
