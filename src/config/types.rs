//! Types of the pipeline file. They are the single source of truth for the
//! parser (`deny_unknown_fields`), the JSON Schema (`cohort-metrics schema`)
//! and the pipeline reference (docs/PIPELINE.md).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::activity::{ActivityConfig, ActivityEngine, SparkConfig};
pub use super::source::{
    ChurnDeclaration, CsvOptions, FileFormat, Freshness, Grain, SourceConfig, SourceName,
};
pub use crate::storage::lock::LockSetting;

/// A pipeline: where the inputs are, how cohorts are formed, what to compute.
///
/// `M` is a configured metric: the metric catalog's entry type
/// (`crate::metrics::MetricConfig`), which parses an id or an id with its
/// parameters. The configuration layer only carries it (and asks it for its
/// problems, [`MetricEntry`]), so that it does not depend on the metrics.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PipelineFile")]
pub struct PipelineFile<M> {
    /// Name of the pipeline; recorded in the manifest.
    pub name: String,
    /// Input tables by canonical name (docs/INPUTS.md). Only `accounts` is always required.
    pub sources: BTreeMap<SourceName, SourceConfig>,
    /// Object storage settings (used for `s3://` paths).
    #[serde(default)]
    pub storage: StorageConfig,
    /// The landmark cohort rule (docs/METRICS.md#cohorts).
    #[serde(default)]
    pub cohort: CohortConfig,
    /// The measurement period (docs/METRICS.md#time).
    #[serde(default)]
    pub period: PeriodConfig,
    /// Account columns to break every metric down by.
    #[serde(default)]
    pub segment_by: Vec<String>,
    /// Statistics settings (docs/STATISTICS.md).
    #[serde(default)]
    pub stats: StatsConfig,
    /// Adjusted comparisons (docs/STATISTICS.md): the effect on the trained, with the
    /// untrained standardized to the trained accounts' strata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjust: Option<AdjustConfig>,
    /// Data quality policy (docs/INPUTS.md#the-checks).
    #[serde(default)]
    pub quality: QualityConfig,
    /// Metrics to compute: an id, or an id mapped to its parameters.
    pub metrics: Vec<M>,
    /// What money a difference is worth (docs/STATISTICS.md#money).
    #[serde(default, skip_serializing_if = "MoneyConfig::is_default")]
    pub money: MoneyConfig,
    /// The metrics whose overall rows form the `primary` multiple-testing
    /// family (docs/STATISTICS.md#multiple-testing); default: the catalog's
    /// primary metrics among `metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Vec<String>>,
    /// The metrics whose overall rows form the `guardrail` family; default:
    /// the catalog's guardrail metrics among `metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<Vec<String>>,
    /// Where the output partition is written.
    pub output: OutputConfig,
    /// Where the event metrics' daily activity comes from (default: this
    /// run reads `sources.events`).
    #[serde(default, skip_serializing_if = "ActivityConfig::is_default")]
    pub activity: ActivityConfig,
    /// `${VAR}` names whose values may be shown in logs, errors, the
    /// manifest and the report (docs/OPERATING.md#secrets); every other
    /// variable's value is masked, except a few names (`*_DIR`, `*_PATH`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_variables: Vec<String>,
}

/// What resolution asks of a configured metric: the problems of its
/// parameters that their types cannot catch, each naming the metric.
pub trait MetricEntry {
    /// The metric's id, as the pipeline file names it.
    fn id(&self) -> &str;
    fn problems(&self) -> Vec<String>;
    /// False for a descriptive metric (docs/STATISTICS.md#descriptive-metrics),
    /// whose rows carry no test and so cannot be primary or a guardrail.
    fn compared(&self) -> bool;
}

/// `money:`: the currency of the revenue and the cost of a support ticket,
/// for the `impact` table (docs/PIPELINE.md#money).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyConfig {
    /// The currency of `revenue` (for example `USD`), shown beside amounts;
    /// nothing is converted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The cost of one support ticket in that currency: tickets avoided are
    /// also written as money.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_ticket: Option<f64>,
}

impl MoneyConfig {
    pub fn is_default(&self) -> bool {
        *self == MoneyConfig::default()
    }
}

/// Object storage settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<crate::storage::s3::S3Config>,
}

/// The landmark cohort rule (docs/METRICS.md#cohorts).
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

/// The measurement period `[S, A)` (docs/METRICS.md#time).
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
    /// Largest plausible median MRR per account and month (default
    /// 1,000,000); above it a warning names `scale` (amounts in cents?).
    #[serde(default = "default_max_plausible_mrr")]
    pub max_plausible_mrr: f64,
    /// Largest share of the accounts with a `name` that may share their
    /// company name with another account id (default 0.02); above it the
    /// run stops (exit 3): duplicates from a CRM merge.
    #[serde(default = "default_max_duplicate_name_share")]
    pub max_duplicate_name_share: f64,
    /// Per fact source, the keys of rows that are expected to have no known
    /// account (`*` any text, `?` one character, `""` an empty key): staff
    /// accounts in the LMS, anonymous events. They are dropped, counted
    /// apart and left out of the orphan rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expected_orphans: BTreeMap<SourceName, Vec<String>>,
    /// Largest share of its rows or of its accounts a source may lose since
    /// the previous partition (default 0.2); above it, a drift finding.
    #[serde(default = "default_max_row_drop_share")]
    pub max_row_drop_share: f64,
    /// What a drift finding does: `warn` (default) or `error` (exit 3,
    /// nothing published).
    #[serde(default)]
    pub drift: DriftPolicy,
}

/// `quality.drift`: what a difference from the previous partition does
/// (docs/OPERATING.md#each-night-against-the-last).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DriftPolicy {
    /// A warning, in the log and the manifest.
    #[default]
    Warn,
    /// Exit 3: nothing is published.
    Error,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            orphans: OrphanPolicy::default(),
            max_orphan_share: default_max_orphan_share(),
            max_off_grain_share: default_max_off_grain_share(),
            min_user_overlap: default_min_user_overlap(),
            max_plausible_mrr: default_max_plausible_mrr(),
            max_duplicate_name_share: default_max_duplicate_name_share(),
            expected_orphans: BTreeMap::new(),
            max_row_drop_share: default_max_row_drop_share(),
            drift: DriftPolicy::default(),
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

fn default_max_plausible_mrr() -> f64 {
    1_000_000.0
}

fn default_max_duplicate_name_share() -> f64 {
    0.02
}

fn default_max_row_drop_share() -> f64 {
    0.2
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

pub(super) fn default_true() -> bool {
    true
}
