//! `_manifest.json`: what a run read, wrote, how long it took and what it
//! warned about (docs/OUTPUTS.md).

use std::collections::BTreeMap;

use crate::config::{Pipeline, SourceName};
use crate::quality::QualityReport;
use serde::{Deserialize, Serialize};

/// The manifest's file name inside the partition.
pub const FILE: &str = "_manifest.json";

/// What a run knows when it writes its manifest, besides the pipeline.
pub struct RunRecord<'a> {
    pub run_id: &'a str,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Per source: format and files read.
    pub files: &'a BTreeMap<SourceName, (String, Vec<String>)>,
    pub report: &'a QualityReport,
    /// Rows per output table, in the order of the tables.
    pub rows: &'a [(String, u64)],
    pub timings: Vec<(String, f64)>,
    pub resources: Vec<StageResources>,
    pub warnings: Vec<String>,
    /// The activity stage, when a metric reads events.
    pub activity: Option<ActivityEntry>,
    /// `adjust:` and its cross-checks, when the pipeline has it.
    pub adjust: Option<AdjustEntry>,
}

/// The layout of the output tables (their names, columns and types). Bump
/// it whenever a column is added, removed, renamed or changes type, so that
/// readers can tell which layout a partition has.
/// 2: `metrics.clusters`; `lift.diff_ci_low` … `adjusted_q_value`.
/// 3: the `balance` table.
/// 4: the `survival_curve` table; `survival` rows with dimension `rmst_days=H`.
pub const SCHEMA_VERSION: u32 = 4;

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    /// The output tables' layout ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    pub tool: String,
    pub tool_version: String,
    pub pipeline_name: String,
    pub pipeline_path: String,
    pub pipeline_sha256: String,
    /// The sha256 of the pipeline as resolved (after `${VAR}`, `--set` and
    /// defaults): two runs with equal hashes ran the same configuration.
    pub resolved_pipeline_sha256: String,
    /// The pipeline file as written: `${VAR}` references unexpanded, so no
    /// value from the environment lands here (see `resolved_pipeline_sha256`).
    pub pipeline: String,
    pub as_of: String,
    pub period_start: String,
    pub period_end: String,
    pub period_months: u32,
    pub started_at: String,
    /// The data checks' policy and thresholds in effect (`quality:`).
    pub quality: crate::config::QualityConfig,
    pub inputs: Vec<InputEntry>,
    pub outputs: Vec<OutputEntry>,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
    /// CPU seconds and peak memory per stage, in the order of `timings`
    /// (absent in manifests of older runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<StageResources>,
    pub warnings: Vec<String>,
    /// What the activity layer read and made (absent when no metric reads
    /// events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityEntry>,
    /// The adjustment (absent without `adjust:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjust: Option<AdjustEntry>,
    /// What "trained" means in this run and the tests' level (the report
    /// states them; absent in manifests of older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<DefinitionEntry>,
    /// This run against the previous partition of the output
    /// (docs/OPERATING.md#each-night-against-the-last; absent in manifests of
    /// older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<crate::output::drift::DriftEntry>,
}

/// The landmark rule (docs/METRICS.md#cohorts), the segments and `stats.alpha` of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DefinitionEntry {
    pub window_days: u32,
    /// Qualifying courses; absent = every course counts.
    pub courses: Option<Vec<String>>,
    pub min_courses: u32,
    pub segment_by: Vec<String>,
    pub alpha: f64,
}

/// docs/STATISTICS.md: "For proportions, also report the Cochran–Mantel–Haenszel
/// p-value in the log and the manifest as a cross-check".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdjustEntry {
    pub method: String,
    pub covariates: Vec<String>,
    pub min_per_arm: u32,
    /// Per lift row of a proportion of independent units: the Wald p-value
    /// of the standardized difference and the CMH p-value over the same strata.
    pub cmh: Vec<CmhEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmhEntry {
    pub metric: String,
    pub segment: Option<String>,
    pub dimension: Option<String>,
    pub period_start: String,
    pub adjusted_p_value: Option<f64>,
    pub cmh_p_value: f64,
}

/// What one stage of a run used besides wall time (docs/OUTPUTS.md#_manifestjson).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageResources {
    pub stage: String,
    /// CPU seconds of the process (user and system, all threads) during
    /// the stage.
    pub cpu_seconds: f64,
    /// The largest resident memory sampled while the stage ran (every
    /// 10 ms), in bytes; the process's peak so far where it cannot be
    /// sampled.
    pub peak_rss_bytes: u64,
    /// The process's peak resident memory when the stage ended (the
    /// kernel's high-water mark, exact): the stage that raises it is the
    /// one that sets the run's peak.
    pub process_peak_rss_bytes: u64,
}

/// The activity stage of a run (see `crate::activity`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Who produced activity: `local` (this run read the events source),
    /// `table` (a rollup read from `activity.table`) or `spark` (a rollup
    /// a Spark Connect server computed from the events source).
    pub engine: String,
    /// The days of activity: `[first_day, end_day)`, end_day = as_of.
    pub first_day: String,
    pub end_day: String,
    /// Rows read from the events source, or from the rollup with `table`
    /// (the days read and a day's margin on each side, where the reader
    /// could not skip them).
    pub rows_in: u64,
    /// Rows of each per-subject reduction the metrics read, by name.
    pub reductions: BTreeMap<String, u64>,
    pub seconds: f64,
    /// `engine: spark`: the remote (its token masked), Spark's version, the
    /// events its count query found (= Σ `events` read) and the seconds of
    /// the Spark steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark: Option<crate::activity::spark::SparkEntry>,
    /// `activity.store`: the days computed, reused, found drifted and
    /// removed, and why every day was rebuilt, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<crate::activity::store::StoreEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct InputEntry {
    pub source: String,
    pub format: String,
    pub paths: Vec<String>,
    pub rows_read: u64,
    pub rows_dropped: u64,
    pub rows_dropped_reason: Option<String>,
    /// The distinct known accounts of the rows (fact sources; absent in
    /// manifests of older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<u64>,
    /// The first and last date of the main date column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_date: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct OutputEntry {
    pub table: String,
    pub file: String,
    pub rows: u64,
    /// Size of the file in bytes (filled in when the partition is committed).
    pub bytes: u64,
    /// sha256 of the file, hex (filled in when the partition is committed).
    pub sha256: String,
}

/// The content of `_SUCCESS`: the run whose partition this is and the
/// sha256 of each of its files, so that a reader can check that every table
/// it reads belongs to the run that completed the partition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SuccessMarker {
    pub run_id: String,
    /// File name → sha256 (hex): every table and `_manifest.json`.
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    pub fn new(pipeline: &Pipeline, run: RunRecord) -> Manifest {
        Manifest {
            run_id: run.run_id.to_string(),
            schema_version: SCHEMA_VERSION,
            tool: env!("CARGO_PKG_NAME").to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            pipeline_name: pipeline.name.clone(),
            pipeline_path: pipeline.file_path.display().to_string(),
            pipeline_sha256: sha256_hex(&pipeline.raw_text),
            resolved_pipeline_sha256: sha256_hex(&pipeline.recorded.to_string()),
            pipeline: pipeline.raw_text.clone(),
            as_of: pipeline.period.as_of.to_string(),
            period_start: pipeline.period.start.to_string(),
            period_end: pipeline.period.as_of.to_string(),
            period_months: pipeline.period.months,
            started_at: run
                .started_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            quality: pipeline.quality.clone(),
            inputs: input_entries(pipeline, run.files, run.report),
            outputs: run
                .rows
                .iter()
                .map(|(t, n)| OutputEntry {
                    table: t.clone(),
                    file: format!("{t}.parquet"),
                    rows: *n,
                    bytes: 0,
                    sha256: String::new(),
                })
                .collect(),
            timings: run.timings,
            resources: run.resources,
            warnings: run.warnings,
            activity: run.activity,
            adjust: run.adjust,
            definition: Some(DefinitionEntry {
                window_days: pipeline.cohort.window_days,
                courses: pipeline.cohort.courses.clone(),
                min_courses: pipeline.cohort.min_courses,
                segment_by: pipeline.segment_by.clone(),
                alpha: pipeline.alpha,
            }),
            drift: None,
        }
    }
}

pub use crate::storage::checksum::{file_checksum, Checksum};

/// The sha256 of a text (the pipeline file, the manifest), hex.
pub fn sha256_hex(text: &str) -> String {
    crate::storage::checksum::sha256_hex(text.as_bytes())
}

/// The inputs section from the loaded sources and the quality report.
fn input_entries(
    pipeline: &Pipeline,
    files: &BTreeMap<SourceName, (String, Vec<String>)>,
    report: &QualityReport,
) -> Vec<InputEntry> {
    pipeline
        .sources
        .keys()
        .map(|name| {
            let (format, paths) = files.get(name).cloned().unwrap_or_default();
            let drops = report.drops.get(name).copied().unwrap_or_default();
            InputEntry {
                source: name.to_string(),
                format,
                paths,
                rows_read: report.rows_read.get(name).copied().unwrap_or(0),
                rows_dropped: drops.total(),
                rows_dropped_reason: (drops.total() > 0).then(|| drops.reason()),
                accounts: report.accounts.get(name).copied(),
                first_date: report.date_ranges.get(name).and_then(|r| r.1.clone()),
                last_date: report.date_ranges.get(name).and_then(|r| r.2.clone()),
            }
        })
        .collect()
}

/// The manifest's `adjust` entry: the settings and the CMH cross-checks.
pub fn adjust_entry(
    pipeline: &Pipeline,
    lift_rows: &[crate::stats::LiftRow],
) -> Option<AdjustEntry> {
    let adjust = pipeline.adjust.as_ref()?;
    let cmh = lift_rows
        .iter()
        .filter_map(|row| {
            Some(CmhEntry {
                metric: row.metric.clone(),
                segment: row.segment.clone(),
                dimension: row.dimension.clone(),
                period_start: crate::time::days_to_date(row.period_start).to_string(),
                adjusted_p_value: row.adjusted.p_value,
                cmh_p_value: row.adjusted.cmh_p_value?,
            })
        })
        .collect();
    Some(AdjustEntry {
        method: adjust.method.name().to_string(),
        covariates: adjust.covariates.clone(),
        min_per_arm: adjust.min_per_arm,
        cmh,
    })
}
