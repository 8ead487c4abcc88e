//! `_manifest.json`: what a run read, wrote, how long it took and what it
//! warned about (SPEC §7).

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Pipeline;
use crate::quality::QualityReport;

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub run_id: String,
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub pipeline_name: String,
    pub pipeline_path: String,
    pub pipeline_sha256: String,
    /// The pipeline after interpolation, overrides and defaults.
    pub pipeline: serde_json::Value,
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

/// The sha256 of the pipeline file's text, hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The inputs section from the loaded sources and the quality report.
pub fn input_entries(
    pipeline: &Pipeline,
    files: &BTreeMap<crate::config::SourceName, (String, Vec<String>)>,
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
