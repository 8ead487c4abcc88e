//! Folds of a source's rows into a frame of facts that ride the source's
//! data rules' pass (docs/ARCHITECTURE.md, "Facts folded in the data
//! rules' passes"): the rows are read once, by their checks, and the run
//! keeps the folded frame in [`Inputs::folded`] for the plans.

use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::{Inputs, RiderStart};
use crate::error::{Error, Result};
use crate::frame::{Rider, Slots};

/// A fold of one source's rows into a frame (per account, per account and
/// month …).
pub trait FactFold: Send {
    /// The columns it reads, as expressions over the pass's rows; `slots`
    /// are the id lookups the pass makes anyway.
    fn columns(&self, slots: &Slots) -> Vec<Expr>;
    /// Takes one batch (the pass's columns and [`FactFold::columns`]).
    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()>;
    /// The frame of what it has read.
    fn frame(&self) -> PolarsResult<DataFrame>;
}

/// A fold's place between the rider and the run: the fold once started,
/// and whether the pass read every row.
#[derive(Default)]
struct Riding {
    fold: Option<Box<dyn FactFold>>,
    done: bool,
}

/// What the run keeps of a fold riding a pass ([`ride`]).
pub struct FoldRide {
    key: &'static str,
    state: Arc<Mutex<Riding>>,
}

/// A fold that rides a pass, and what starts its rider when the pass
/// begins: `start` builds the fold from the inputs then (their known ids
/// read by then). Its frame is kept under `key` ([`FoldRide::keep`]).
pub fn ride(
    key: &'static str,
    start: impl FnOnce(&Inputs) -> Result<Box<dyn FactFold>> + 'static,
) -> (FoldRide, RiderStart) {
    let ride = FoldRide {
        key,
        state: Default::default(),
    };
    let state = ride.state.clone();
    let starter: RiderStart = Box::new(move |inputs: &Inputs| {
        let fold = start(inputs)?;
        let what = || Error::other(format!("starting the fold `{key}`: a thread failed"));
        state.lock().map_err(|_| what())?.fold = Some(fold);
        let rider: Box<dyn Rider> = Box::new(FoldRider { state });
        Ok(rider)
    });
    (ride, starter)
}

impl FoldRide {
    /// Keeps the folded frame in `inputs` under its key, once the pass has
    /// read every row (nothing when the rider did not start or the pass
    /// did not end: the plans read the rows themselves).
    pub fn keep(self, inputs: &mut Inputs) -> Result<()> {
        let what = format!("folding `{}`", self.key);
        let state = self
            .state
            .lock()
            .map_err(|_| Error::other(format!("{what}: a thread failed")))?;
        if let (Some(fold), true) = (&state.fold, state.done) {
            let frame = fold.frame().map_err(|e| Error::engine(&what, e))?;
            inputs.keep_folded(self.key, frame);
        }
        Ok(())
    }
}

/// The rider of a [`FoldRide`].
struct FoldRider {
    state: Arc<Mutex<Riding>>,
}

impl Rider for FoldRider {
    fn columns(&self, slots: &Slots) -> Vec<Expr> {
        match self.state.lock() {
            Ok(state) => state
                .fold
                .as_ref()
                .map(|fold| fold.columns(slots))
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| polars_err!(ComputeError: "a fold failed on a batch"))?;
        match state.fold.as_mut() {
            Some(fold) => fold.add(batch),
            None => Ok(()),
        }
    }

    fn done(&mut self) {
        if let Ok(mut state) = self.state.lock() {
            state.done = true;
        }
    }
}
