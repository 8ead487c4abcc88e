//! `_manifest.json`: what a run read, wrote, how long it took and what it
//! warned about (SPEC §7).

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{Pipeline, SourceName};
use crate::quality::QualityReport;

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
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub run_id: String,
    pub tool: &'static str,
    pub tool_version: &'static str,
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
    pub inputs: Vec<InputEntry>,
    pub outputs: Vec<OutputEntry>,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct InputEntry {
    pub source: String,
    pub format: String,
    pub paths: Vec<String>,
    pub rows_read: u64,
    pub rows_dropped: u64,
    pub rows_dropped_reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct OutputEntry {
    pub table: String,
    pub file: String,
    pub rows: u64,
}

impl Manifest {
    pub fn new(pipeline: &Pipeline, run: RunRecord) -> Manifest {
        Manifest {
            run_id: run.run_id.to_string(),
            tool: env!("CARGO_PKG_NAME"),
            tool_version: env!("CARGO_PKG_VERSION"),
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
            inputs: input_entries(pipeline, run.files, run.report),
            outputs: run
                .rows
                .iter()
                .map(|(t, n)| OutputEntry {
                    table: t.clone(),
                    file: format!("{t}.parquet"),
                    rows: *n,
                })
                .collect(),
            timings: run.timings,
            warnings: run.warnings,
        }
    }
}

/// The sha256 of the pipeline file's text, hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
            let dropped = report.orphans.get(name).copied().unwrap_or(0);
            InputEntry {
                source: name.to_string(),
                format,
                paths,
                rows_read: report.rows_read.get(name).copied().unwrap_or(0),
                rows_dropped: dropped,
                rows_dropped_reason: (dropped > 0)
                    .then(|| "account_id not in accounts".to_string()),
            }
        })
        .collect()
}
