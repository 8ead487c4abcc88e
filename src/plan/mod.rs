//! The plan stage: from the resolved pipeline, its metrics and the scanned
//! inputs to the lazy plans of every output. Nothing is executed here; the
//! activity stage ([`activity`]) runs before it and collects the reductions
//! of events the plans read.
//!
//! The account frame (cohorts at S and at A, segments) is built once and
//! shared by every metric through [`PlanContext`]; each configured metric
//! then contributes aggregates (for `metrics` and `lift`), extra tables and
//! custom plans, tagged here with the metric's id from the registry.

use std::collections::BTreeMap;

use polars::prelude::*;

pub mod activity;

use crate::cohort;
use crate::config::{Pipeline, SourceName};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::metrics::{needs, AggregatePlan, CustomPlan, MetricConfig, MetricPlan, PlanContext};

pub use activity::ComputedActivity;

/// A resolved pipeline and its metrics, in the file's order: what the
/// planning stages work from.
pub struct Job {
    pub pipeline: Pipeline,
    pub metrics: Vec<MetricConfig>,
}

/// One metric's aggregate, tagged with the metric's id.
pub struct MetricAggregate {
    pub metric: &'static str,
    pub plan: AggregatePlan,
}

/// One metric's custom plan, tagged with the metric's id.
pub struct MetricCustom {
    pub metric: &'static str,
    pub plan: CustomPlan,
}

/// The plans of one run.
pub struct Plans {
    /// Aggregates for the `metrics` and `lift` tables, in the pipeline's order.
    pub aggregates: Vec<MetricAggregate>,
    /// Output tables by name, before their published shape
    /// (`output::tables::shape`): `retention_curve`, `revenue_movements`,
    /// `account_health` when configured, and always `account_cohorts`.
    pub tables: BTreeMap<&'static str, LazyFrame>,
    /// Plans finished in Rust (survival).
    pub custom: Vec<MetricCustom>,
}

/// What the plan stage does with the account frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountFrame {
    /// Computed before the plans are built (a run): the plans read it from
    /// memory, and row-level facts take their account's cohorts and
    /// segments from it by id (docs/ARCHITECTURE.md, "The account frame").
    Computed,
    /// Left a plan in every output's plan (`explain` shows it).
    Planned,
}

/// The account frame and what the metrics share, built once per run.
pub(crate) struct Frames {
    training: Option<LazyFrame>,
    accounts: LazyFrame,
    /// The account frame computed ([`AccountFrame::Computed`]).
    computed: Option<DataFrame>,
    /// The accounts carry `stratum` (`adjust:`; not needed to find the
    /// activity reductions, so the propensity model is fitted once).
    stratified: bool,
}

impl Frames {
    pub(crate) fn new(pipeline: &Pipeline, inputs: &Inputs, strata: bool) -> Result<Frames> {
        // Read once: the cohort rule and the education metrics share it.
        let training = match inputs.get(SourceName::Training) {
            Some(_) => Some(inputs.frame(SourceName::Training)?.cache()),
            None => None,
        };
        // The segment columns and, with `adjust`, the covariates (for the
        // strata and `balance`).
        let mut carried = pipeline.segment_by.clone();
        for covariate in pipeline.adjust.iter().flat_map(|a| &a.covariates) {
            if !carried.contains(covariate) {
                carried.push(covariate.clone());
            }
        }
        let accounts = cohort::account_frame(
            inputs.frame(SourceName::Accounts)?,
            training.clone(),
            &pipeline.cohort,
            &pipeline.period,
            &carried,
        )
        .cache();
        let (accounts, stratified) = match &pipeline.adjust {
            Some(adjust) if strata => (
                crate::strata::with_strata(accounts, adjust, inputs)?.cache(),
                true,
            ),
            _ => (accounts, false),
        };
        Ok(Frames {
            training,
            accounts,
            computed: None,
            stratified,
        })
    }

    /// Computes the account frame ([`AccountFrame::Computed`]).
    fn compute_accounts(mut self) -> Result<Frames> {
        let computed =
            crate::frame::collect_all(vec![self.accounts.clone()], "building the account frame")?
                .pop()
                .unwrap_or_default();
        self.accounts = computed.clone().lazy();
        self.computed = Some(computed);
        Ok(self)
    }

    pub(crate) fn context<'a>(&self, job: &'a Job, inputs: &'a Inputs) -> Result<PlanContext<'a>> {
        let pipeline = &job.pipeline;
        let ctx = PlanContext::new(
            &pipeline.period,
            inputs,
            &pipeline.segment_by,
            &pipeline.cohort,
            self.accounts.clone(),
        );
        if let Some(training) = &self.training {
            ctx.seed(SourceName::Training.as_str(), training.clone());
        }
        let ctx = match crate::stats::AdjustSpec::of(pipeline) {
            Some(spec) if self.stratified => ctx.with_strata(spec),
            _ => ctx,
        };
        let ctx = match &self.computed {
            Some(accounts) => ctx.with_computed_accounts(accounts.clone())?,
            None => ctx,
        };
        Ok(
            match needs::activity_range(&job.metrics, &pipeline.period) {
                Some(range) => ctx.with_activity(range, crate::activity::local(inputs, range)?),
                None => ctx,
            },
        )
    }
}

/// Builds every plan; of the outputs, nothing is executed (the account
/// frame is, with [`AccountFrame::Computed`]). With `activity`, the metrics
/// read its collected reductions; without it, their lazy plans.
pub fn build_plans(
    job: &Job,
    inputs: &Inputs,
    activity: Option<&ComputedActivity>,
    account_frame: AccountFrame,
) -> Result<Plans> {
    let pipeline = &job.pipeline;
    let frames = Frames::new(pipeline, inputs, true)?;
    let frames = match account_frame {
        AccountFrame::Computed => frames.compute_accounts()?,
        AccountFrame::Planned => frames,
    };
    let ctx = frames.context(job, inputs)?;
    let ctx = match activity {
        Some(computed) => ctx.with_reductions(computed.reductions.clone()),
        None => ctx,
    };
    let accounts = frames.accounts.clone();
    let mut plans = Plans {
        aggregates: Vec::new(),
        tables: BTreeMap::new(),
        custom: Vec::new(),
    };
    for config in &job.metrics {
        let metric = config.id();
        let MetricPlan {
            aggregates,
            tables,
            custom,
            skipped,
        } = config.metric().plan(&ctx)?;
        if let Some(reason) = skipped {
            crate::log::warn("plan", &format!("metric `{metric}`: {reason}"));
        }
        plans.aggregates.extend(
            aggregates
                .into_iter()
                .map(|plan| MetricAggregate { metric, plan }),
        );
        plans
            .tables
            .extend(tables.into_iter().map(|t| (t.table, t.frame)));
        plans
            .custom
            .extend(custom.into_iter().map(|plan| MetricCustom { metric, plan }));
    }
    if let Some(adjust) = pipeline.adjust.as_ref().filter(|_| frames.stratified) {
        plans
            .tables
            .insert("balance", crate::strata::balance(accounts.clone(), adjust));
    }
    plans.tables.insert(
        "account_cohorts",
        accounts.with_column(cohort::cohort_label_at_as_of()),
    );
    Ok(plans)
}
