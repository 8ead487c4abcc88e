//! Types of the pipeline file. They are the single source of truth for the
//! parser (`deny_unknown_fields`), the JSON Schema (`cohort-metrics schema`)
//! and the README's pipeline reference.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::metrics::MetricConfig;

/// A pipeline: where the inputs are, how cohorts are formed, what to compute.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Name of the pipeline; recorded in the manifest.
    pub name: String,
    /// Input tables by canonical name (SPEC §4). Only `accounts` is always required.
    pub sources: BTreeMap<SourceName, SourceConfig>,
    /// Object storage settings (used for `s3://` paths).
    #[serde(default)]
    pub storage: StorageConfig,
    /// The landmark cohort rule (SPEC §3).
    #[serde(default)]
    pub cohort: CohortConfig,
    /// The measurement period (SPEC §1).
    #[serde(default)]
    pub period: PeriodConfig,
    /// Account columns to break every metric down by.
    #[serde(default)]
    pub segment_by: Vec<String>,
    /// Statistics settings (SPEC §6).
    #[serde(default)]
    pub stats: StatsConfig,
    /// Adjusted comparisons (SPEC §6): the effect on the trained, with the
    /// untrained standardized to the trained accounts' strata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjust: Option<AdjustConfig>,
    /// Data quality policy (SPEC §9).
    #[serde(default)]
    pub quality: QualityConfig,
    /// Metrics to compute: an id, or an id mapped to its parameters.
    pub metrics: Vec<MetricConfig>,
    /// Where the output partition is written.
    pub output: OutputConfig,
    /// Where the event metrics' daily activity comes from (default: this
    /// run reads `sources.events`).
    #[serde(default, skip_serializing_if = "ActivityConfig::is_default")]
    pub activity: ActivityConfig,
}

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
}

impl ActivityConfig {
    fn is_default(&self) -> bool {
        self.engine == ActivityEngine::Local
            && self.table.is_none()
            && self.spark.is_none()
            && self.store.is_none()
            && self.lookback_days.is_none()
            && self.keep_days.is_none()
            && self.drift_check.is_none()
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

/// Canonical input table names (SPEC §4).
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
}

/// One input table.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A file, a directory, a glob, or `s3://bucket/key` of any of these.
    /// Relative paths are relative to the pipeline file's directory.
    pub path: String,
    /// `parquet` or `csv`; inferred from the extension when absent.
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
    /// without one, times are UTC). Default: ISO dates and datetimes.
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
        }
    }
}

fn default_delimiter() -> String {
    ",".into()
}
fn default_quote() -> String {
    "\"".into()
}
fn default_true() -> bool {
    true
}

/// Object storage settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Config>,
}

/// S3 settings. Credentials never go here: they come from the environment
/// or the usual AWS configuration files.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Custom endpoint (MinIO, other S3-compatible stores); empty = AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Allow `http://` endpoints (local MinIO or test servers); AWS needs https.
    #[serde(default)]
    pub allow_http: bool,
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted
    /// style (`bucket.endpoint/key`). Default: true when `endpoint` is set
    /// (MinIO and most S3-compatible stores), false on AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    /// Retries of a failed request before the run gives up (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// First wait between retries in milliseconds, doubled each time (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ms: Option<u64>,
    /// Longest wait between two retries in milliseconds (default 15000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff_ms: Option<u64>,
    /// No retry starts after this many seconds since the first try (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_timeout_secs: Option<u64>,
    /// Time limit to open a connection, in seconds (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_secs: Option<u64>,
    /// Time limit of one request, body included, in seconds (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_secs: Option<u64>,
}

/// The landmark cohort rule (SPEC §3).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CohortConfig {
    /// W: days from signup to the landmark (default 90, at least 1).
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// Qualifying course ids (exact match); absent = every course counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courses: Option<Vec<String>>,
    /// Distinct qualifying courses needed before the landmark (default 1).
    #[serde(default = "default_min_courses")]
    pub min_courses: u32,
}

impl Default for CohortConfig {
    fn default() -> Self {
        CohortConfig {
            window_days: default_window_days(),
            courses: None,
            min_courses: default_min_courses(),
        }
    }
}

fn default_window_days() -> u32 {
    90
}
fn default_min_courses() -> u32 {
    1
}

/// The measurement period `[S, A)` (SPEC §1).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodConfig {
    /// A: exclusive end (YYYY-MM-DD). Default: today's UTC date. `--as-of` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub as_of: Option<CalendarDate>,
    /// Length of the period in calendar months (default 12).
    #[serde(default = "default_months")]
    pub months: u32,
}

impl Default for PeriodConfig {
    fn default() -> Self {
        PeriodConfig {
            as_of: None,
            months: default_months(),
        }
    }
}

fn default_months() -> u32 {
    12
}

/// Statistics settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsConfig {
    /// Significance level of the `significant` column (default 0.05).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            alpha: default_alpha(),
        }
    }
}

fn default_alpha() -> f64 {
    0.05
}

/// `adjust:` — how lift rows are adjusted for who chooses to train.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustConfig {
    /// `stratify` (default): strata = combinations of the covariates' levels
    /// (numeric covariates cut by `buckets`). `propensity`: strata by
    /// quantiles of the trained accounts' propensity scores.
    #[serde(default)]
    pub method: AdjustMethod,
    /// Columns of `accounts` known at signup (plan, region, seats); a null
    /// value is its own level.
    pub covariates: Vec<String>,
    /// Numeric covariates cut into ranges [a, b) at these ascending bounds;
    /// values below the first and from the last bound on are ranges of
    /// their own.
    #[serde(default)]
    pub buckets: BTreeMap<String, Vec<f64>>,
    /// `propensity`: the number of quantile strata of the trained accounts'
    /// scores (default 5).
    #[serde(default = "default_strata")]
    pub strata: u32,
    /// Strata with fewer trained or untrained units than this are left out
    /// of the adjusted estimate and counted (default 5).
    #[serde(default = "default_min_per_arm")]
    pub min_per_arm: u32,
}

fn default_strata() -> u32 {
    5
}

fn default_min_per_arm() -> u32 {
    5
}

/// `adjust.method`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustMethod {
    #[default]
    Stratify,
    Propensity,
}

impl AdjustMethod {
    pub fn name(self) -> &'static str {
        match self {
            AdjustMethod::Stratify => "stratify",
            AdjustMethod::Propensity => "propensity",
        }
    }
}

/// What to do with fact rows whose account is not in `accounts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrphanPolicy {
    /// Drop them, warn, and count them in the manifest.
    #[default]
    Warn,
    /// Stop the run with exit code 3.
    Error,
}

/// Data quality policy.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityConfig {
    #[serde(default)]
    pub orphans: OrphanPolicy,
    /// Largest share of a fact source's rows that may be dropped because
    /// their account id is empty or not in `accounts` (default 0.2); above
    /// it the run stops (exit 3): that many orphans means ids from another
    /// system, not a few stray rows.
    #[serde(default = "default_max_orphan_share")]
    pub max_orphan_share: f64,
    /// Share of `revenue` rows not dated on the 1st of a month above which
    /// a warning points to `grain: invoice` (default 0.5).
    #[serde(default = "default_max_off_grain_share")]
    pub max_off_grain_share: f64,
    /// Smallest share of the rows of `events` and of `training` with a user
    /// id whose user is in `users` (default 0.5); below it the run stops:
    /// the sources key users differently (emails against ids).
    #[serde(default = "default_min_user_overlap")]
    pub min_user_overlap: f64,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            orphans: OrphanPolicy::default(),
            max_orphan_share: default_max_orphan_share(),
            max_off_grain_share: default_max_off_grain_share(),
            min_user_overlap: default_min_user_overlap(),
        }
    }
}

fn default_max_orphan_share() -> f64 {
    0.2
}

fn default_max_off_grain_share() -> f64 {
    0.5
}

fn default_min_user_overlap() -> f64 {
    0.5
}

/// Output location.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Directory that receives the `as_of=YYYY-MM-DD/` partition.
    /// Relative to the pipeline file's directory.
    pub path: String,
    /// `auto` (default): one run at a time publishes a partition (a `flock`
    /// on local disk, a lease object on S3). `none`: no lock, for an S3
    /// store that refuses conditional writes; never start two runs on one
    /// output then.
    #[serde(default)]
    pub lock: LockSetting,
    /// How long an S3 lease lasts without renewal (seconds, default 300,
    /// at least 2); a run renews it every third of that. A lease left by a
    /// killed run is taken over once expired.
    #[serde(default)]
    pub lock_expiry_secs: Option<u64>,
    /// Write `report.html` into the partition (default true): one
    /// self-contained page a person reads; `cohort-metrics report` renders
    /// it again from a published partition.
    #[serde(default = "default_true")]
    pub report: bool,
}

/// Whether runs lock the output partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LockSetting {
    #[default]
    Auto,
    None,
}

/// A calendar date written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CalendarDate(pub NaiveDate);

impl CalendarDate {
    pub fn parse(text: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(CalendarDate)
            .map_err(|_| format!("invalid date `{text}`: expected YYYY-MM-DD"))
    }
}

impl<'de> Deserialize<'de> for CalendarDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CalendarDate::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for CalendarDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.format("%Y-%m-%d").to_string())
    }
}
