//! The plan stage: from the resolved pipeline and the scanned inputs to the
//! lazy plans of every output. Nothing is executed here.
//!
//! The account frame (cohorts at S and at A, segments) is built once and
//! shared by every metric through [`PlanContext`]; each configured metric
//! then contributes aggregates (for `metrics` and `lift`), extra tables and
//! custom plans, tagged here with the metric's id from the registry.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::activity::ActivityRange;
use crate::cohort;
use crate::config::{Pipeline, SourceName};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::metrics::{AggregatePlan, CustomPlan, MetricPlan, PlanContext};

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

pub use crate::activity::range as activity_range;

/// The account frame and what the metrics share, built once per run.
struct Frames {
    training: Option<LazyFrame>,
    accounts: LazyFrame,
    /// The accounts carry `stratum` (`adjust:`; not needed to find the
    /// activity reductions, so the propensity model is fitted once).
    stratified: bool,
}

impl Frames {
    fn new(pipeline: &Pipeline, inputs: &Inputs, strata: bool) -> Result<Frames> {
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
            stratified,
        })
    }

    fn context<'a>(&self, pipeline: &'a Pipeline, inputs: &'a Inputs) -> Result<PlanContext<'a>> {
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
        Ok(match activity_range(pipeline) {
            Some(range) => ctx.with_activity(range, crate::activity::local(inputs, range)?),
            None => ctx,
        })
    }
}

/// The reductions of activity the configured metrics read.
pub struct ActivityPlans {
    /// By key, as lazy plans (nothing is executed).
    pub plans: BTreeMap<String, LazyFrame>,
    /// The keys of the plans the metrics need computed before they can be
    /// planned (the event-name dictionaries).
    pub prerequisites: std::collections::BTreeSet<String>,
}

/// The reductions of activity the configured metrics read, found by
/// planning every metric once over the reductions already `computed`.
fn plan_reductions(
    pipeline: &Pipeline,
    inputs: &Inputs,
    computed: &BTreeMap<String, DataFrame>,
) -> Result<ActivityPlans> {
    let frames = Frames::new(pipeline, inputs, false)?;
    let ctx = frames.context(pipeline, inputs)?.with_reductions(
        computed
            .iter()
            .map(|(key, frame)| (key.clone(), frame.clone().lazy()))
            .collect(),
    );
    for config in &pipeline.metrics {
        config.metric().plan(&ctx)?;
    }
    Ok(ActivityPlans {
        plans: ctx.requested_reductions(),
        prerequisites: ctx.prerequisites(),
    })
}

/// The reductions of activity the configured metrics read before any is
/// computed (what `explain` shows).
pub fn activity_plans(pipeline: &Pipeline, inputs: &Inputs) -> Result<ActivityPlans> {
    if activity_range(pipeline).is_none() {
        return Ok(ActivityPlans {
            plans: BTreeMap::new(),
            prerequisites: Default::default(),
        });
    }
    plan_reductions(pipeline, inputs, &BTreeMap::new())
}

/// The activity stage's result: every reduction the metrics read, collected.
pub struct ComputedActivity {
    pub range: ActivityRange,
    /// Per reduction: its key and frame.
    pub reductions: BTreeMap<String, DataFrame>,
}

/// The activity stage: computes the reductions of activity the metrics
/// read, one at a time (None when no metric reads events). First the
/// prerequisites (the event-name dictionaries), then, planned again with
/// them, the rest.
pub fn compute_activity(pipeline: &Pipeline, inputs: &Inputs) -> Result<Option<ComputedActivity>> {
    let Some(range) = activity_range(pipeline) else {
        return Ok(None);
    };
    let mut reductions = BTreeMap::new();
    // Each round computes what is missing; a round that finds no missing
    // prerequisite computes everything else and is the last. Prerequisites
    // never depend on one another, so there are at most two rounds; the
    // bound guards against a plan that asks for a new one every time.
    for _ in 0..3 {
        let ActivityPlans {
            plans,
            prerequisites,
        } = plan_reductions(pipeline, inputs, &reductions)?;
        let missing: Vec<(String, LazyFrame)> = plans
            .into_iter()
            .filter(|(key, _)| !reductions.contains_key(key))
            .collect();
        let first: Vec<(String, LazyFrame)> = missing
            .iter()
            .filter(|(key, _)| prerequisites.contains(key))
            .cloned()
            .collect();
        let last_round = first.is_empty();
        for (key, plan) in if last_round { missing } else { first } {
            reductions.insert(key.clone(), compute_reduction(&key, plan)?);
        }
        if last_round {
            return Ok(Some(ComputedActivity { range, reductions }));
        }
    }
    Err(crate::error::Error::Other(
        "the activity stage did not settle: a metric asked for new prerequisites three times"
            .into(),
    ))
}

/// One reduction, collected on its own: each streams the events itself, so
/// the peak memory is that of one reduction's group-by (collected together,
/// every group-by and its scan buffers are alive at once).
fn compute_reduction(key: &str, plan: LazyFrame) -> Result<DataFrame> {
    let started = std::time::Instant::now();
    let frame = crate::execute::collect_all(vec![plan], "computing the activity of events")?
        .pop()
        .unwrap_or_default();
    crate::log::debug(
        "activity",
        &format!(
            "{key}: {} row(s) in {:.2}s",
            frame.height(),
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(frame)
}

/// Empty frames with the schemas of the reductions `activity` (from
/// [`activity_plans`]), standing in for them in the metrics' plans that
/// `explain` shows (None when no metric reads events). Prerequisites get
/// none: their values are not known without reading the events, and the
/// metrics plan for that case.
pub fn activity_stand_ins(
    pipeline: &Pipeline,
    activity: &ActivityPlans,
) -> Result<Option<ComputedActivity>> {
    let Some(range) = activity_range(pipeline) else {
        return Ok(None);
    };
    let reductions = activity
        .plans
        .iter()
        .filter(|(key, _)| !activity.prerequisites.contains(*key))
        .map(|(key, plan)| {
            let schema = plan
                .clone()
                .collect_schema()
                .map_err(|e| crate::error::Error::engine("explaining the activity", e))?;
            Ok((key.clone(), DataFrame::empty_with_schema(&schema)))
        })
        .collect::<Result<_>>()?;
    Ok(Some(ComputedActivity { range, reductions }))
}

/// Builds every plan; nothing is executed. With `activity`, the metrics read
/// its collected reductions; without it (for `explain`), their lazy plans.
pub fn build_plans(
    pipeline: &Pipeline,
    inputs: &Inputs,
    activity: Option<&ComputedActivity>,
) -> Result<Plans> {
    let frames = Frames::new(pipeline, inputs, true)?;
    let ctx = frames.context(pipeline, inputs)?;
    let ctx = match activity {
        Some(computed) => ctx.with_reductions(
            computed
                .reductions
                .iter()
                .map(|(key, frame)| (key.clone(), frame.clone().lazy()))
                .collect(),
        ),
        None => ctx,
    };
    let accounts = frames.accounts.clone();
    let mut plans = Plans {
        aggregates: Vec::new(),
        tables: BTreeMap::new(),
        custom: Vec::new(),
    };
    for config in &pipeline.metrics {
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
