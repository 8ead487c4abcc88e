//! One source of the pipeline file (docs/PIPELINE.md, "sources"): its
//! keys, and the source resolved: its location (local or S3, relative to
//! the pipeline file), whether it is a pattern, its format.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::default_true;
use crate::storage::s3::S3;
use crate::storage::Location;

/// Canonical input table names (docs/INPUTS.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SourceName {
    Accounts,
    Training,
    Users,
    Events,
    Revenue,
    NpsResponses,
    CsatResponses,
    Tickets,
    Cancellations,
    Touchpoints,
    Referrals,
}

impl SourceName {
    pub const ALL: [SourceName; 11] = [
        SourceName::Accounts,
        SourceName::Training,
        SourceName::Users,
        SourceName::Events,
        SourceName::Revenue,
        SourceName::NpsResponses,
        SourceName::CsatResponses,
        SourceName::Tickets,
        SourceName::Cancellations,
        SourceName::Touchpoints,
        SourceName::Referrals,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceName::Accounts => "accounts",
            SourceName::Training => "training",
            SourceName::Users => "users",
            SourceName::Events => "events",
            SourceName::Revenue => "revenue",
            SourceName::NpsResponses => "nps_responses",
            SourceName::CsatResponses => "csat_responses",
            SourceName::Tickets => "tickets",
            SourceName::Cancellations => "cancellations",
            SourceName::Touchpoints => "touchpoints",
            SourceName::Referrals => "referrals",
        }
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// File format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Parquet,
    Csv,
    /// Newline-delimited JSON: one object per line (docs/INPUTS.md, "NDJSON").
    Ndjson,
}

/// One input table.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A file, a directory, a glob, or `s3://bucket/key` of any of these.
    /// Relative paths are relative to the pipeline file's directory.
    pub path: String,
    /// `parquet`, `csv` or `ndjson`; inferred from the extension when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<FileFormat>,
    /// Canonical column name → name in the file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
    /// CSV reading options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvOptions>,
    /// Read `key=value` directory names as columns.
    #[serde(default)]
    pub hive_partitioning: bool,
    /// How a date column is written, per canonical column: `epoch_s`,
    /// `epoch_ms` (seconds or milliseconds since 1970-01-01 UTC), or a
    /// strftime format such as `"%m/%d/%Y"` (with `%z` for an offset;
    /// without one, times are UTC). Default: ISO dates and datetimes. A
    /// column beyond the canonical ones (a segment, a covariate) may be
    /// declared `number` or `integer`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, String>,
    /// A factor per canonical number column, applied as read: `0.01` turns
    /// cents into currency units.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scale: BTreeMap<String, f64>,
    /// `revenue` only: `month` (default: one row per account and month with
    /// `month`, `mrr`) or `invoice` (one row per invoice with
    /// `period_start`, `period_end` (exclusive), `amount` and optionally
    /// `currency`, spread evenly over the calendar months it covers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grain: Option<Grain>,
    /// `accounts` only: `none` declares that the source has no churn date
    /// (no account has churned, or churn is not tracked). Without it, an
    /// `accounts` source with no `churn_date` column is an error: unmapped,
    /// it would make every account retained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub churn: Option<ChurnDeclaration>,
    /// How old the source's last date may be at as_of
    /// (docs/INPUTS.md#freshness): a warning after `warn_after_days`, exit 3
    /// after `error_after_days`. Default: per source (events 2 / 7 days);
    /// given, only the limits written apply (`freshness: {}` checks nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
    /// `training` only: the `status` values that mean completed (any case,
    /// spaces around ignored), for example `[Completed, Passed]`. A row with
    /// another status has no completion (docs/INPUTS.md#training--one-row-per-enrolment-or-completion-course--learner).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub completed_values: Vec<String>,
    /// Keep only the rows whose column (named as in the file) holds one of
    /// the values, any case, spaces around ignored; `""` is an empty cell
    /// (docs/PIPELINE.md#keep_rows-and-drop_rows). Example: `{ Type:
    /// [Incident, Problem] }` on tickets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keep_rows: BTreeMap<String, Vec<String>>,
    /// Drop the rows whose column (named as in the file) holds one of the
    /// values, matched as in `keep_rows`. Example: `{ status: [voided] }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub drop_rows: BTreeMap<String, Vec<String>>,
}

/// `sources.<name>.freshness` (docs/INPUTS.md#freshness): days from the
/// source's last date to as_of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    /// Older than this many days: a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_after_days: Option<u32>,
    /// Older than this many days: exit 3, nothing is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_after_days: Option<u32>,
}

/// The grain of `revenue` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// One row per account and month: `month`, `mrr`.
    Month,
    /// One row per invoice: `period_start`, `period_end`, `amount`, `currency`.
    Invoice,
}

/// `sources.accounts.churn`: the only value is `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChurnDeclaration {
    /// The accounts source has no churn date column, on purpose.
    None,
}

/// CSV reading options.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// One-byte field delimiter (default `,`).
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// Whether the first line holds the column names (default true).
    #[serde(default = "default_true")]
    pub header: bool,
    /// Strings read as null (default: only the empty field).
    #[serde(default)]
    pub null_values: Vec<String>,
    /// One-byte quote character (default `"`).
    #[serde(default = "default_quote")]
    pub quote: String,
    /// Lines after the header that are not data (default 0): `1` for an
    /// export with a second header row (SurveyMonkey's sub-headers).
    #[serde(default)]
    pub skip_rows_after_header: usize,
}

impl CsvOptions {
    /// The delimiter byte (validated to be one byte; `,` otherwise).
    pub fn delimiter_byte(&self) -> u8 {
        self.delimiter.as_bytes().first().copied().unwrap_or(b',')
    }

    /// The quote byte (validated to be one byte; `"` otherwise).
    pub fn quote_byte(&self) -> u8 {
        self.quote.as_bytes().first().copied().unwrap_or(b'"')
    }
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: default_delimiter(),
            header: true,
            null_values: Vec::new(),
            quote: default_quote(),
            skip_rows_after_header: 0,
        }
    }
}

fn default_delimiter() -> String {
    ",".into()
}
fn default_quote() -> String {
    "\"".into()
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
    /// A rollup the activity store wrote (docs/INPUTS.md#the-checks): one
    /// row per key by construction, each day's file read only as its
    /// manifest records it, so its key is not checked for copies again.
    pub written_by_store: bool,
}

pub(super) fn resolve_source(
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
        written_by_store: false,
    })
}

/// `parquet` for `.parquet`/`.pq`, `csv` for `.csv`/`.tsv`/`.txt`, `ndjson`
/// for `.ndjson`/`.jsonl`/`.json` (text formats also gzip'd, `.gz`).
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
    } else if name.ends_with(".ndjson") || name.ends_with(".jsonl") || name.ends_with(".json") {
        Some(FileFormat::Ndjson)
    } else {
        None
    }
}
