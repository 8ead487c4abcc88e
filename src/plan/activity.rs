//! The activity stage: the per-subject reductions of events that the
//! configured metrics read, found by planning every metric, then collected
//! one by one, each with the day bounds reaching the events reader
//! (docs/ARCHITECTURE.md, "Activity"). It runs after the checks and before
//! the plan stage, whose plans read the collected frames.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{Frames, Job};
use crate::activity::fold::{self, Reduction};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::metrics::needs;
use crate::time::DayRange;

/// The days of activity the job's metrics read (None when none reads
/// events).
pub fn range(job: &Job) -> Option<DayRange> {
    needs::activity_range(&job.metrics, &job.pipeline.period)
}

/// The reductions of activity the configured metrics read.
pub struct ActivityPlans {
    /// By key, as lazy plans (nothing is executed).
    pub plans: BTreeMap<String, LazyFrame>,
    /// The keys of the plans the metrics need computed before they can be
    /// planned (the event-name dictionaries).
    pub prerequisites: std::collections::BTreeSet<String>,
    /// The reductions computed together in one pass over the rows
    /// ([`crate::activity::fold`]), by key (their plans are in `plans`).
    pub folds: BTreeMap<String, Reduction>,
    /// The run's activity frame, which the fold reads.
    pub activity: Option<LazyFrame>,
}

/// The reductions of activity the configured metrics read, found by
/// planning every metric once over the reductions already `computed`.
fn plan_reductions(
    job: &Job,
    inputs: &Inputs,
    computed: &BTreeMap<String, DataFrame>,
) -> Result<ActivityPlans> {
    let frames = Frames::new(&job.pipeline, inputs, false)?;
    let ctx = frames.context(job, inputs)?.with_reductions(
        computed
            .iter()
            .map(|(key, frame)| (key.clone(), frame.clone().lazy()))
            .collect(),
    );
    for config in &job.metrics {
        config.metric().plan(&ctx)?;
    }
    Ok(ActivityPlans {
        plans: ctx.requested_reductions(),
        prerequisites: ctx.prerequisites(),
        folds: ctx.requested_folds(),
        activity: ctx.activity_frame(),
    })
}

/// The reductions of activity the configured metrics read before any is
/// computed (what `explain` shows).
pub fn activity_plans(job: &Job, inputs: &Inputs) -> Result<ActivityPlans> {
    if range(job).is_none() {
        return Ok(ActivityPlans {
            plans: BTreeMap::new(),
            prerequisites: Default::default(),
            folds: BTreeMap::new(),
            activity: None,
        });
    }
    plan_reductions(job, inputs, &BTreeMap::new())
}

/// The activity stage's result: every reduction the metrics read, collected.
pub struct ComputedActivity {
    pub range: DayRange,
    /// Per reduction: its key and frame.
    pub reductions: BTreeMap<String, DataFrame>,
}

/// The activity stage: computes the reductions of activity the metrics
/// read (None when no metric reads events). First the prerequisites (the
/// event-name dictionaries), then, planned again with them, the rest: the
/// per-subject reductions folded in one pass over the rows, any other one
/// on its own.
pub fn compute_activity(job: &Job, inputs: &Inputs) -> Result<Option<ComputedActivity>> {
    let Some(range) = range(job) else {
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
            folds,
            activity,
        } = plan_reductions(job, inputs, &reductions)?;
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
        if last_round {
            let folds: BTreeMap<String, Reduction> = folds
                .into_iter()
                .filter(|(key, _)| !reductions.contains_key(key))
                .collect();
            if activity.is_some() && !folds.is_empty() {
                // The fold drops the rows of unknown accounts by the slots it
                // looks up: the events without the contract's join to them.
                let rows = crate::activity::local_rows(inputs, range)?;
                reductions.extend(compute_folds(inputs, rows, &folds)?);
            }
        }
        for (key, plan) in if last_round { missing } else { first } {
            if !reductions.contains_key(&key) {
                reductions.insert(key.clone(), compute_reduction(&key, plan)?);
            }
        }
        if last_round {
            return Ok(Some(ComputedActivity { range, reductions }));
        }
    }
    Err(crate::error::Error::other(
        "the activity stage did not settle: a metric asked for new prerequisites three times",
    ))
}

/// One reduction, collected on its own: each streams the events itself, so
/// the peak memory is that of one reduction's group-by (collected together,
/// every group-by and its scan buffers are alive at once).
fn compute_reduction(key: &str, plan: LazyFrame) -> Result<DataFrame> {
    let started = std::time::Instant::now();
    let frame = crate::frame::collect_all(vec![plan], "computing the activity of events")?
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

/// The reductions `folds`, computed together in one pass over `activity`.
fn compute_folds(
    inputs: &Inputs,
    activity: LazyFrame,
    folds: &BTreeMap<String, Reduction>,
) -> Result<BTreeMap<String, DataFrame>> {
    let started = std::time::Instant::now();
    let known = known_ids(inputs)?;
    let frames = fold::compute(activity, folds, &known)?;
    let rows: Vec<String> = frames
        .iter()
        .map(|(key, frame)| format!("{key} {}", frame.height()))
        .collect();
    crate::log::debug(
        "activity",
        &format!(
            "one pass: {} row(s) in {:.2}s",
            rows.join(", "),
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(frames)
}

/// The ids known before the fold's pass: the account ids of `accounts` and
/// the user ids of `users` (when the pipeline has it), so that their
/// subjects' positions are found in the engine's threads
/// ([`fold::Known`]).
fn known_ids(inputs: &Inputs) -> Result<fold::Known> {
    let (accounts, users) = inputs.known_ids(true)?;
    let set = |ids: &Series| {
        crate::ids::IdSet::of(ids)
            .map(std::sync::Arc::new)
            .map_err(|e| crate::error::Error::engine("reading the known ids", e))
    };
    Ok(fold::Known {
        accounts: Some(set(&accounts)?),
        users: users.as_ref().map(set).transpose()?,
        only_these_accounts: true,
    })
}

/// Empty frames with the schemas of the reductions `activity` (from
/// [`activity_plans`]), standing in for them in the metrics' plans that
/// `explain` shows (None when no metric reads events). Prerequisites get
/// none: their values are not known without reading the events, and the
/// metrics plan for that case.
pub fn activity_stand_ins(job: &Job, activity: &ActivityPlans) -> Result<Option<ComputedActivity>> {
    let Some(range) = range(job) else {
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
