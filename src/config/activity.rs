//! `activity:` of the pipeline file resolved (docs/PIPELINE.md, "activity"):
//! the engine's settings (Spark Connect, the store) and, with `engine:
//! table`, the rollup as the `events` source.

use std::collections::BTreeMap;
use std::path::Path;

use super::source::{resolve_source, ResolvedSource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::source::SourceConfig;
use super::types::SourceName;
use crate::storage::Location;

/// `activity:`: who produces the daily activity rollup the event metrics
/// read (docs/ARCHITECTURE.md, "activity").
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityConfig {
    /// `local` (default): this run reads `sources.events`. `table`: a rollup
    /// someone else computed (for example with `cohort-metrics
    /// activity-sql` in a warehouse), read from `activity.table`.
    #[serde(default)]
    pub engine: ActivityEngine,
    /// `engine: table`: the rollup, one row per (`account_id`, `user_id`,
    /// `day`, `event_name`) with `events`, the events it stands for (≥ 1).
    /// Read like a source: `path`, `format`, `columns`, `types`, … (`day`
    /// may be a date or a UTC datetime; `user_id` may be absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<SourceConfig>,
    /// `engine: spark`: the Spark Connect server that computes the rollup
    /// of `sources.events`, and where it writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark: Option<SparkConfig>,
    /// Keep the rollup by day between runs (`engine: local` or `spark`): a
    /// directory or `s3://` prefix of `day=YYYY-MM-DD/` partitions. A run
    /// computes the days the store lacks and the last `lookback_days`, then
    /// reads the rest from the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// With `store`: the most recent days recomputed by every run, for
    /// events that arrive late (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback_days: Option<u32>,
    /// With `store`: days kept before as_of (default: the days the
    /// configured metrics read); older days are removed after a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_days: Option<u32>,
    /// With `store`: compare each stored day's source rows with the events
    /// source's rows of that day (reading only `event_time`) and recompute
    /// the days that differ (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_check: Option<bool>,
    /// With `store`: whether runs lock the store (`auto`, the default: one
    /// run at a time fills it) or not (`none`: only where a single run can
    /// ever use it). Its own setting: `output.lock` does not change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<crate::storage::lock::LockSetting>,
}

impl ActivityConfig {
    pub(super) fn is_default(&self) -> bool {
        self.engine == ActivityEngine::Local
            && self.table.is_none()
            && self.spark.is_none()
            && self.store.is_none()
            && self.lookback_days.is_none()
            && self.keep_days.is_none()
            && self.drift_check.is_none()
            && self.lock.is_none()
    }
}

/// `activity.spark`: a Spark Connect server (Databricks, EMR, Dataproc, or
/// `start-connect-server.sh`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SparkConfig {
    /// The Spark Connect URL, `sc://HOST:PORT/;use_ssl=true;token=${SPARK_TOKEN}`.
    /// The token only through `${VAR}`: it is masked in every message.
    pub remote: String,
    /// Where Spark writes the rollup, a directory both Spark and this job
    /// read (`s3://…`, `s3a://…` or a local path on a shared disk). Each run
    /// writes its own `run=RUN_ID/` under it and removes it afterwards; a
    /// run removes the `run=*/` that killed runs left behind.
    pub staging: String,
}

impl ActivityEngine {
    /// The engine as the pipeline file names it.
    pub fn name(self) -> &'static str {
        match self {
            ActivityEngine::Local => "local",
            ActivityEngine::Table => "table",
            ActivityEngine::Spark => "spark",
        }
    }
}

/// Who produces the activity rollup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityEngine {
    /// This run, from `sources.events`.
    #[default]
    Local,
    /// A table at `activity.table`.
    Table,
    /// A Spark Connect server (`activity.spark`), from `sources.events`.
    Spark,
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
    /// Whether runs lock the store (`activity.lock`).
    pub lock: crate::storage::lock::LockSetting,
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

/// `activity:` resolved: the Spark and store settings; a rollup read with
/// `engine: table` becomes the `events` source.
pub(super) fn resolve_activity(
    activity: &ActivityConfig,
    has_events: bool,
    base_dir: &Path,
    sources: &mut BTreeMap<SourceName, ResolvedSource>,
    problems: &mut Vec<String>,
) -> (Option<SparkSettings>, Option<StoreSettings>) {
    let engine = activity.engine;
    if engine != ActivityEngine::Spark && activity.spark.is_some() {
        problems.push(format!(
            "`activity.spark`: read only with `activity.engine: spark` (the engine is `{}`)",
            engine.name()
        ));
    }
    let mut spark = None;
    if engine == ActivityEngine::Spark {
        match &activity.spark {
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
        if !has_events {
            problems.push(
                "`activity.engine`: `spark` computes the rollup of `sources.events` on Spark: define `sources.events` \
                 (a path Spark reads; this job reads its schema)"
                    .to_string(),
            );
        }
    }
    let mut store = None;
    let a = activity;
    match &a.store {
        None => {
            for (key, set) in [
                ("lookback_days", a.lookback_days.is_some()),
                ("keep_days", a.keep_days.is_some()),
                ("drift_check", a.drift_check.is_some()),
                ("lock", a.lock.is_some()),
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
                    lock: a.lock.unwrap_or_default(),
                });
            }
            Err(e) => problems.push(format!("`activity.store`: {e}")),
        },
    }
    match (engine, &activity.table) {
        (ActivityEngine::Local | ActivityEngine::Spark, None) => {}
        (ActivityEngine::Local | ActivityEngine::Spark, Some(_)) => problems.push(format!(
            "`activity.table`: read only with `activity.engine: table` (the engine is `{}`, which reads `sources.events`)",
            engine.name()
        )),
        (ActivityEngine::Table, None) => problems.push(
            "`activity.engine`: `table` needs `activity.table`, the path (and format, columns) of the rollup".to_string(),
        ),
        (ActivityEngine::Table, Some(_)) if has_events => {
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
    (spark, store)
}
