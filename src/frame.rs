//! Ground floor: running lazy plans and showing their values. Every stage
//! that must materialize a frame (the data checks' counts, the activity
//! reductions, the outputs) collects through here, with one engine and one
//! error mapping.

use std::sync::Arc;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::ids::IdSet;

/// Collects `plans` together. `what` names the stage for error messages.
///
/// The streaming engine: on 100k accounts / 14.8M input rows it takes the
/// whole pipeline from 26.2 s and 3.7 GB peak RSS (in-memory engine) to
/// 17.7 s and 1.9 GB with identical tables (docs/BENCHMARKS.md). Operators it
/// lacks fall back to the in-memory engine inside the same plan.
pub fn collect_all(plans: Vec<LazyFrame>, what: &str) -> Result<Vec<DataFrame>> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let dsl = plans.into_iter().map(|lf| lf.logical_plan).collect();
    LazyFrame::collect_all_with_engine(dsl, Engine::Streaming, OptFlags::default())
        .map_err(|e| Error::engine(what, e))
}

/// A second reader of a streaming pass over a source's rows: it names the
/// columns it reads, which the engine computes beside the pass's own over
/// the same rows, and takes each batch after the pass has
/// (docs/ARCHITECTURE.md, "Activity": the activity fold rides the events'
/// data rules, so that events are read once).
pub trait Rider: Send {
    /// The columns it reads, as expressions over the pass's rows; `slots`
    /// are the id lookups the pass makes anyway, for it to reuse.
    fn columns(&self, slots: &Slots) -> Vec<Expr>;
    /// Takes one batch (the pass's columns and [`Rider::columns`]).
    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()>;
    /// Whether it needs the batches in the order of the rows.
    fn ordered(&self) -> bool {
        false
    }
    /// Every row has been read.
    fn done(&mut self);
}

/// Several riders of one pass, as one: each reads its columns and every
/// batch (the kept rows' writer and a fold, on a CSV source).
pub struct Riders(pub Vec<Box<dyn Rider>>);

impl Rider for Riders {
    fn columns(&self, slots: &Slots) -> Vec<Expr> {
        self.0.iter().flat_map(|r| r.columns(slots)).collect()
    }
    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        self.0.iter_mut().try_for_each(|r| r.add(batch))
    }
    fn ordered(&self) -> bool {
        self.0.iter().any(|r| r.ordered())
    }
    fn done(&mut self) {
        self.0.iter_mut().for_each(|r| r.done());
    }
}

/// The id lookups a pass makes for each row and offers its [`Rider`]:
/// each row's slot among the known accounts and users
/// ([`IdSet::slot_of`]), as a column of the pass's rows.
#[derive(Clone, Default)]
pub struct Slots {
    pub account: Option<Lookup>,
    pub user: Option<Lookup>,
}

/// One lookup of [`Slots`]: the slot of `value` in `set` is `slot`.
#[derive(Clone)]
pub struct Lookup {
    pub value: Expr,
    pub set: Arc<IdSet>,
    pub slot: Expr,
}

impl Slots {
    /// The slot of `value` in `set`: the offered column when it looks the
    /// same value up in the same set, else a lookup of its own.
    pub fn slot(offered: Option<&Lookup>, set: &Arc<IdSet>, value: Expr) -> Expr {
        match offered {
            Some(lookup) if Arc::ptr_eq(&lookup.set, set) && lookup.value == value => {
                lookup.slot.clone()
            }
            _ => set.slot_of(value),
        }
    }
}

/// `left` with the other columns of `right` attached by key: what a left
/// join of `left` on `left_key` with `right` on `right_key` gives when
/// `right`'s keys are distinct, without the join's hash table
/// ([`Attachable`]; docs/ARCHITECTURE.md, "Activity": the per-subject
/// reductions are attached to their subjects this way). None when the join
/// is needed: keys of another type than integers or text, of different
/// types on the two sides, a null key or a key twice in `right`. With
/// [`Unmatched::Dropped`], the rows of an inner join instead: a row whose
/// key `right` lacks is dropped.
pub fn attach_by_key(
    left: LazyFrame,
    left_key: &str,
    right: &DataFrame,
    right_key: &str,
    unmatched: Unmatched,
) -> PolarsResult<Option<LazyFrame>> {
    match Attachable::new(right.clone(), right_key)? {
        Some(right) => right.attach(left, left_key, unmatched),
        None => Ok(None),
    }
}

/// An in-memory frame with distinct keys, ready to be attached to other
/// frames by key ([`attach_by_key`]) as often as needed: its keys become an
/// [`IdSet`] ([`IdSet::compact`]) once, and each row of a frame it is
/// attached to looks its key up in the engine's threads and takes the
/// values of its row, or nulls when it has none.
#[derive(Clone)]
pub struct Attachable {
    frame: DataFrame,
    key: String,
    set: Arc<IdSet>,
    /// The row of `frame` of each slot; None when they are the slots
    /// themselves (keys in the set's order, as the activity fold writes
    /// them).
    rows: Arc<Option<Vec<IdxSize>>>,
}

impl Attachable {
    /// `frame` keyed by `key`; None when its keys are not distinct,
    /// integer or text ids without nulls.
    pub fn new(frame: DataFrame, key: &str) -> PolarsResult<Option<Attachable>> {
        let keys = frame.column(key)?;
        let dtype = keys.dtype();
        if !(dtype.is_integer() || *dtype == DataType::String) || keys.null_count() > 0 {
            return Ok(None);
        }
        let set = IdSet::compact(keys.as_materialized_series())?;
        if set.len() != frame.height() {
            return Ok(None);
        }
        let slots = set.slots_of(keys)?;
        let rows = if slots
            .into_no_null_iter()
            .enumerate()
            .all(|(row, slot)| slot as usize == row)
        {
            None
        } else {
            let mut rows = vec![0; set.len()];
            for (row, slot) in slots.into_no_null_iter().enumerate() {
                rows[slot as usize] = row as IdxSize;
            }
            Some(rows)
        };
        Ok(Some(Attachable {
            frame,
            key: key.to_string(),
            set: Arc::new(set),
            rows: Arc::new(rows),
        }))
    }

    /// The frame.
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }

    /// The set of its keys (a key's slot is not its row).
    pub fn set(&self) -> &Arc<IdSet> {
        &self.set
    }

    /// [`attach_by_key`] of this frame; None when `left_key` is of another
    /// type than its keys.
    pub fn attach(
        &self,
        left: LazyFrame,
        left_key: &str,
        unmatched: Unmatched,
    ) -> PolarsResult<Option<LazyFrame>> {
        let left_type = left.clone().collect_schema()?.get(left_key).cloned();
        if left_type.as_ref() != Some(self.frame.column(&self.key)?.dtype()) {
            return Ok(None);
        }
        let (set, rows) = (self.set.clone(), self.rows.clone());
        const ROW: &str = "__attached_row";
        let row_of = col(left_key).map(
            move |ids| {
                let slots = set.slots_of(&ids)?;
                let found: IdxCa = slots
                    .into_no_null_iter()
                    .map(|slot| {
                        (slot != crate::ids::NO_SLOT).then(|| match rows.as_deref() {
                            Some(rows) => rows[slot as usize],
                            None => slot as IdxSize,
                        })
                    })
                    .collect();
                Ok(found.with_name(ids.name().clone()).into_column())
            },
            |_, field| Ok(Field::new(field.name().clone(), IDX_DTYPE)),
        );
        let attached: Vec<Expr> = self
            .frame
            .columns()
            .iter()
            .filter(|c| c.name().as_str() != self.key)
            .map(|values| {
                let (values, name) = (values.clone(), values.name().clone());
                let field = values.field().into_owned();
                col(ROW)
                    .map(
                        move |rows| values.take(rows.idx()?),
                        move |_, _| Ok(field.clone()),
                    )
                    .alias(name)
            })
            .collect();
        let left = left.with_column(row_of.alias(ROW));
        let left = match unmatched {
            Unmatched::Kept => left,
            Unmatched::Dropped => left.filter(col(ROW).is_not_null()),
        };
        Ok(Some(left.with_columns(attached).drop(by_name(
            [ROW],
            true,
            false,
        ))))
    }
}

/// What [`attach_by_key`] does with a row of `left` whose key is not one of
/// `right`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    /// Kept, with nulls: a left join.
    Kept,
    /// Dropped: an inner join.
    Dropped,
}

/// Streams the rows of `plan` in batches (`batch_rows`, None: as the
/// engine reads them) into `state` through `add`, one batch at a time,
/// and gives the state back: a fold in Rust over a plan whose per-row work
/// (flags, lookups) runs in the engine's threads. At debug level (`-v`)
/// it says how long the pass took and how much of it `add` took (the
/// batches wait on it). `what` names the pass for messages. With
/// `ordered`, the batches come in the order of the plan's rows.
pub fn fold_batches<S: Send + 'static>(
    plan: LazyFrame,
    state: S,
    batch_rows: Option<std::num::NonZeroUsize>,
    ordered: bool,
    what: &str,
    add: impl Fn(&mut S, &DataFrame) -> PolarsResult<()> + Send + Sync + 'static,
) -> Result<S> {
    use std::sync::{Arc, Mutex};
    let shared = Arc::new(Mutex::new((state, 0u64, 0.0f64)));
    let sink = shared.clone();
    let callback = PlanCallback::new(move |batch: DataFrame| {
        let mut guard = sink
            .lock()
            .map_err(|_| polars_err!(ComputeError: "a batch failed before this one"))?;
        let started = std::time::Instant::now();
        add(&mut guard.0, &batch)?;
        guard.1 += 1;
        guard.2 += started.elapsed().as_secs_f64();
        Ok(false)
    });
    let started = std::time::Instant::now();
    plan.sink_batches(callback, ordered, batch_rows)
        .and_then(|sink| sink.collect_with_engine(Engine::Streaming))
        .map_err(|e| Error::engine(what, e))?;
    let (state, batches, seconds) = Arc::try_unwrap(shared)
        .ok()
        .and_then(|shared| shared.into_inner().ok())
        .ok_or_else(|| Error::other(format!("{what}: a batch failed")))?;
    crate::log::debug(
        "frame",
        &format!(
            "{what}: {batches} batch(es) in {:.2}s, {seconds:.2}s of it folding them in",
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(state)
}

/// The sum of `values` added in ascending order, so that it does not depend
/// on the order a parallel group-by meets the rows in (for values that do
/// not add up exactly, unlike the quantized unit sums). A cumulative sum's
/// last value, not `sum`: the optimizer drops a sort before a `sum`, whose
/// result it takes to be order-free. 0 for no rows.
pub fn ordered_sum(values: Expr) -> Expr {
    values
        .sort(SortOptions::default())
        .cum_sum(false)
        .last()
        .fill_null(lit(0.0))
}

/// Every value of a text column as `a`, `b`, … (`(empty)` for a null).
pub fn values_shown(df: &DataFrame, column: &str) -> String {
    df.column(column)
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    v.map(|v| format!("`{v}`"))
                        .unwrap_or_else(|| "(empty)".into())
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
