//! The activity stage: the per-subject reductions of events that the
//! configured metrics read, found by planning every metric, then folded
//! together in one pass over the rows, the day bounds reaching the events
//! reader (docs/ARCHITECTURE.md, "Activity"). The fold is prepared before
//! the checks and rides the events' data rules ([`prepare_ride`]); the
//! stage itself runs after them and before the plan stage, whose plans
//! read the folded frames.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::{Frames, Job};
use crate::activity::fold::{self, Reduction};
use crate::error::Result;
use crate::inputs::{Inputs, RiderStart};
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
    /// The reductions computed together in one pass over the rows
    /// ([`crate::activity::fold`]), by key (their plans are in `plans`).
    pub folds: BTreeMap<String, Reduction>,
    /// The run's activity frame, which the fold reads.
    pub activity: Option<LazyFrame>,
}

/// The reductions of activity the configured metrics read, found by
/// planning every metric once.
fn plan_reductions(job: &Job, inputs: &Inputs) -> Result<ActivityPlans> {
    let frames = Frames::new(&job.pipeline, inputs, false)?;
    let ctx = frames.context(job, inputs)?;
    for config in &job.metrics {
        config.metric().plan(&ctx)?;
    }
    Ok(ActivityPlans {
        plans: ctx.requested_reductions(),
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
            folds: BTreeMap::new(),
            activity: None,
        });
    }
    plan_reductions(job, inputs)
}

/// The activity stage's result: every reduction the metrics read, collected.
pub struct ComputedActivity {
    pub range: DayRange,
    /// Per reduction: its key and frame.
    pub reductions: BTreeMap<String, DataFrame>,
}

/// The activity fold, prepared before the checks so that it reads the
/// events' rows in the pass of their data rules ([`crate::frame::Rider`]):
/// events are read once per run (docs/ARCHITECTURE.md, "Activity").
pub struct Ride {
    state: Arc<Mutex<Riding>>,
}

/// What the rider shares with [`Ride`]: the fold, and whether the pass
/// has read every row.
struct Riding {
    pass: Option<fold::Pass>,
    done: bool,
    /// The time spent folding batches in.
    seconds: f64,
}

/// The [`crate::frame::Rider`] handed to the checks.
struct Rider {
    state: Arc<Mutex<Riding>>,
    /// Where the fold finds each row's values among the checks' columns.
    rows: fold::RowColumns,
}

impl crate::frame::Rider for Rider {
    fn columns(&self, slots: &crate::frame::Slots) -> Vec<Expr> {
        match self.state.lock() {
            Ok(state) => state
                .pass
                .as_ref()
                .map(|pass| pass.columns(&self.rows, slots))
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| polars_err!(ComputeError: "the activity fold failed on a batch"))?;
        let started = std::time::Instant::now();
        let added = match &mut state.pass {
            Some(pass) => pass.add(batch),
            None => Ok(()),
        };
        state.seconds += started.elapsed().as_secs_f64();
        added
    }

    fn done(&mut self) {
        if let Ok(mut state) = self.state.lock() {
            state.done = true;
        }
    }
}

/// The activity fold of the reductions the metrics read, ready to ride
/// the events' data rules (None when no metric reads events): a [`Ride`]
/// for [`compute_activity`] and what starts the rider for
/// [`crate::quality::check_all`], once the passes over `accounts` and
/// `users` have made their ids known (the fold looks rows up in them).
/// A rider that cannot start leaves the fold to a pass of its own.
pub fn prepare_ride(job: &Job, inputs: &Inputs) -> Result<Option<(Ride, RiderStart)>> {
    let Some(range) = range(job) else {
        return Ok(None);
    };
    let Some(folds) = folds_to_compute(job, inputs)? else {
        return Ok(None);
    };
    let types = fold::types_of(&crate::activity::local_rows(inputs, range)?)?;
    let rows = crate::activity::checked_rows(inputs, range)?;
    let state = Arc::new(Mutex::new(Riding {
        pass: None,
        done: false,
        seconds: 0.0,
    }));
    let riding = state.clone();
    let start: RiderStart = Box::new(move |inputs: &Inputs| {
        let pass = fold::Pass::new(&folds, &known_ids(inputs)?, types)?;
        let mut state = riding.lock().map_err(|_| {
            crate::error::Error::other("preparing the activity fold: a thread failed")
        })?;
        state.pass = Some(pass);
        drop(state);
        let rider: Box<dyn crate::frame::Rider> = Box::new(Rider {
            state: riding,
            rows,
        });
        Ok(rider)
    });
    Ok(Some((Ride { state }, start)))
}

/// The activity stage: computes the reductions of activity the metrics
/// read (None when no metric reads events), folded together in one pass
/// over the rows: the pass of the events' data rules when `ride` rode it
/// to the end, else a pass of its own.
pub fn compute_activity(
    job: &Job,
    inputs: &Inputs,
    ride: Option<Ride>,
) -> Result<Option<ComputedActivity>> {
    let Some(range) = range(job) else {
        return Ok(None);
    };
    let ridden = ride.and_then(|ride| {
        let mut state = ride.state.lock().ok()?;
        let riding = &mut *state;
        let pass = riding.pass.take().filter(|_| riding.done)?;
        Some((pass, riding.seconds))
    });
    if let Some((pass, folding)) = ridden {
        let reductions = pass.frames()?;
        log_folded(
            &reductions,
            &format!("(with the data rules of events, {folding:.2}s of folding)"),
        );
        return Ok(Some(ComputedActivity { range, reductions }));
    }
    let reductions = match folds_to_compute(job, inputs)? {
        // The fold drops the rows of unknown accounts by the slots it looks
        // up: the events without the contract's join to them.
        Some(folds) => {
            let rows = crate::activity::local_rows(inputs, range)?;
            compute_folds(inputs, rows, &folds)?
        }
        None => BTreeMap::new(),
    };
    Ok(Some(ComputedActivity { range, reductions }))
}

/// At debug level (`-v`): the frames of the fold's pass, and the pass.
fn log_folded(frames: &BTreeMap<String, DataFrame>, pass: &str) {
    let rows: Vec<String> = frames
        .iter()
        .map(|(key, frame)| format!("{key} {}", frame.height()))
        .collect();
    crate::log::debug(
        "activity",
        &format!("one pass {pass}: {} row(s)", rows.join(", ")),
    );
}

/// The reductions the metrics read, to fold in one pass (None when there
/// are none, or no activity).
fn folds_to_compute(job: &Job, inputs: &Inputs) -> Result<Option<BTreeMap<String, Reduction>>> {
    let ActivityPlans {
        folds, activity, ..
    } = plan_reductions(job, inputs)?;
    Ok((activity.is_some() && !folds.is_empty()).then_some(folds))
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
    let seconds = started.elapsed().as_secs_f64();
    log_folded(&frames, &format!("(of its own, {seconds:.2}s)"));
    Ok(frames)
}

/// The ids known before the fold's pass: the account ids of `accounts` and
/// the user ids of `users` (when the pipeline has it), so that their
/// subjects' positions are found in the engine's threads
/// ([`fold::Known`]).
fn known_ids(inputs: &Inputs) -> Result<fold::Known> {
    let (accounts, users) = inputs.known_sets(true)?;
    Ok(fold::Known {
        accounts: Some(accounts),
        users,
        only_these_accounts: true,
    })
}

/// Empty frames with the schemas of the reductions `activity` (from
/// [`activity_plans`]), standing in for them in the metrics' plans that
/// `explain` shows (None when no metric reads events).
pub fn activity_stand_ins(job: &Job, activity: &ActivityPlans) -> Result<Option<ComputedActivity>> {
    let Some(range) = range(job) else {
        return Ok(None);
    };
    let reductions = activity
        .plans
        .iter()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Lookup, Slots};
    use crate::testkit::*;

    /// The fold riding the events' data rules reads the rules' lookups of
    /// each row's account and user (docs/ARCHITECTURE.md, "Activity"): it
    /// folds with the sets the rules look the ids up in
    /// (`Inputs::known_sets`) and the same typed id columns, so that an
    /// event's ids are looked up once.
    #[test]
    fn the_riding_fold_reads_the_slots_the_rules_look_up() {
        // The fixture's directory lives as long as `fixture`.
        let fixture = Fixture::tiny();
        let (job, inputs) = fixture
            .scan_users_and_events("[{ active_user_rate: { window_days: [30], level: user } }]");
        let (_ride, start) = prepare_ride(&job, &inputs)
            .unwrap()
            .expect("a fold to ride");
        let rider = start(&inputs).expect("the rider starts");
        let (accounts, users) = inputs.known_sets(true).unwrap();
        let typed = |column: &str| col(crate::source::typed_column(column));
        let slots = Slots {
            account: Some(Lookup {
                value: typed("account_id"),
                set: accounts,
                slot: col("__offered_account_slot"),
            }),
            user: Some(Lookup {
                value: typed("user_id"),
                set: users.expect("the users' ids"),
                slot: col("__offered_user_slot"),
            }),
        };
        let shown = format!("{:?}", rider.columns(&slots));
        assert!(
            shown.contains("__offered_account_slot") && shown.contains("__offered_user_slot"),
            "the fold looks the ids up again: {shown}"
        );
    }
}
