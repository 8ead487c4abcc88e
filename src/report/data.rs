//! What the report reads: the published tables and the manifest, nothing
//! else, so that a run and `cohort-metrics report` give the same bytes.

use std::collections::BTreeMap;

use polars::prelude::DataFrame;

use crate::error::Result;
use crate::output::partition::manifest::Manifest;

use super::read::{
    read_balance, read_cohort_counts, read_curves, read_health, read_movements, read_retention,
    read_values,
};

/// One point of a cohort's Kaplan–Meier curve (`survival_curve`).
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub day: i64,
    pub at_risk: i64,
    pub events: i64,
    pub censored: i64,
    pub survival: f64,
    pub ci: (f64, f64),
}

/// One cell of `retention_curve` (segment null).
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionCell {
    /// `YYYY-MM-DD`; `None` = all signup months pooled.
    pub signup_month: Option<String>,
    pub k: i64,
    pub at_risk: i64,
    pub retained: i64,
    pub rate: Option<f64>,
}

/// The MRR movements of one cohort in one month (`revenue_movements`,
/// segment null), in the order of [`MOVEMENTS`].
#[derive(Debug, Clone, PartialEq)]
pub struct MonthMovements {
    /// `YYYY-MM-DD`, the month's first day.
    pub month: String,
    pub mrr: [f64; 5],
    pub accounts: [i64; 5],
}

impl MonthMovements {
    /// New + reactivation + expansion − contraction − churn.
    pub fn net_new(&self) -> f64 {
        self.mrr[0] + self.mrr[1] + self.mrr[2] - self.mrr[3] - self.mrr[4]
    }
}

/// The movements of `revenue_movements`, those that add MRR first.
pub const MOVEMENTS: [&str; 5] = ["new", "reactivation", "expansion", "contraction", "churn"];

/// One cohort's value of a metric over the whole period (`metrics`, no
/// dimension), overall or in one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortValue {
    pub metric: String,
    pub segment: Option<String>,
    pub cohort: String,
    pub value: Option<f64>,
    pub ci: (Option<f64>, Option<f64>),
    pub n: i64,
}

/// One covariate level of `balance`: the standardized mean differences
/// before and after adjustment.
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceRow {
    pub covariate: String,
    pub level: Option<String>,
    pub smd: Option<f64>,
    pub smd_adjusted: Option<f64>,
}

/// Everything the page is drawn from.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    pub run_id: String,
    pub as_of: String,
    pub period: (String, String),
    pub started_at: String,
    pub tool_version: String,
    pub pipeline_name: String,
    /// Input sources with the rows read.
    pub inputs: Vec<(String, u64)>,
    pub definition: Option<crate::output::partition::manifest::DefinitionEntry>,
    /// `adjust`: the method and covariates.
    pub adjust: Option<(String, Vec<String>)>,
    pub warnings: Vec<String>,
    pub lift: Vec<crate::stats::LiftRow>,
    /// Overall curves (segment null) by cohort: `trained`, `untrained`.
    pub curves: BTreeMap<String, Vec<CurvePoint>>,
    /// Retention by signup month (segment null) by cohort.
    pub retention: BTreeMap<String, Vec<RetentionCell>>,
    /// Health scores of the customers at A by cohort (`account_health`).
    pub health: BTreeMap<String, Health>,
    /// MRR movements per month (segment null) by cohort.
    pub movements: BTreeMap<String, Vec<MonthMovements>>,
    /// Each metric's per-cohort values over the whole period (no
    /// dimension), overall and per segment, trained and untrained.
    pub values: Vec<CohortValue>,
    /// Covariate balance before and after adjustment (with `adjust`).
    pub balance: Vec<BalanceRow>,
    /// The accounts of `account_cohorts` (cohorts at the as-of date).
    pub cohort_counts: Option<CohortCounts>,
    /// The money rows (`impact`), for the bottom line.
    pub impact: Vec<crate::stats::impact::ImpactRow>,
    /// The earlier published nights of the output, oldest first (the trend).
    pub history: Vec<crate::output::history::Night>,
}

/// How the accounts split at the as-of date (`account_cohorts`): the two
/// cohorts, and the accounts in neither, lost before their landmark or not
/// yet at it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CohortCounts {
    pub trained: i64,
    pub untrained: i64,
    /// Landmark on or before the as-of date, not a customer at it.
    pub lost_before_landmark: i64,
    /// Landmark after the as-of date.
    pub before_landmark: i64,
}

impl ReportData {
    /// Reads the report's data from a run's tables (by name) and manifest.
    pub fn new(tables: &BTreeMap<String, DataFrame>, manifest: &Manifest) -> Result<Self> {
        let empty = DataFrame::empty();
        let table = |name: &str| tables.get(name).unwrap_or(&empty);
        Ok(ReportData {
            run_id: manifest.run_id.clone(),
            as_of: manifest.as_of.clone(),
            period: (manifest.period_start.clone(), manifest.period_end.clone()),
            started_at: manifest.started_at.clone(),
            tool_version: manifest.tool_version.clone(),
            pipeline_name: manifest.pipeline_name.clone(),
            inputs: manifest
                .inputs
                .iter()
                .map(|i| (i.source.clone(), i.rows_read))
                .collect(),
            definition: manifest.definition.clone(),
            adjust: manifest
                .adjust
                .as_ref()
                .map(|a| (a.method.clone(), a.covariates.clone())),
            warnings: manifest.warnings.clone(),
            lift: crate::output::tables::read_lift(table("lift"))?,
            curves: read_curves(table("survival_curve"))?,
            retention: read_retention(table("retention_curve"))?,
            health: read_health(table("account_health"))?,
            movements: read_movements(table("revenue_movements"))?,
            values: read_values(
                table("metrics"),
                (&manifest.period_start, &manifest.period_end),
            )?,
            balance: read_balance(table("balance"))?,
            cohort_counts: read_cohort_counts(table("account_cohorts"), &manifest.as_of)?,
            impact: crate::output::impact::read_impact(table("impact"))?,
            history: Vec::new(),
        })
    }
}

/// The health scores of one cohort, in ten-point bins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    /// Accounts with a score in [0, 10), [10, 20), … [90, 100].
    pub bins: [i64; 10],
    pub sum: f64,
}

impl Health {
    pub fn accounts(&self) -> i64 {
        self.bins.iter().sum()
    }

    pub fn mean(&self) -> Option<f64> {
        (self.accounts() > 0).then(|| self.sum / self.accounts() as f64)
    }
}
