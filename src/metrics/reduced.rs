//! A per-subject reduction of activity as the metric plans read it, and
//! how it is attached to their units (docs/ARCHITECTURE.md, "Activity").

use polars::prelude::*;

use crate::error::{Error, Result};

/// A reduction of activity with one row per subject (its ids in `key`):
/// its plan, or the frame the activity stage computed.
#[derive(Clone)]
pub struct Reduced {
    /// Its rows: the computed frame once there is one, else the plan.
    pub frame: LazyFrame,
    /// The computed frame.
    pub computed: Option<DataFrame>,
    /// The column of the subjects' ids (`subject_id`, or `account_id`).
    pub key: &'static str,
}

impl Reduced {
    /// `units` with the reduction's `columns` (every column but the key
    /// when None) attached by the units' column `on`: the rows of a left
    /// join. A computed frame is attached by id, without the join's hash
    /// table ([`crate::frame::attach_by_key`]), unless its keys need the
    /// join.
    pub fn attach_to(
        &self,
        units: LazyFrame,
        on: &str,
        columns: Option<&[String]>,
    ) -> Result<LazyFrame> {
        let wanted = |frame: LazyFrame| match columns {
            Some(columns) => {
                let mut kept = vec![col(self.key)];
                kept.extend(columns.iter().map(|c| col(c.as_str())));
                frame.select(kept)
            }
            None => frame,
        };
        if let Some(computed) = &self.computed {
            let computed = wanted(computed.clone().lazy())
                .collect()
                .map_err(|e| Error::engine("reading the activity of each subject", e))?;
            let attached = crate::frame::attach_by_key(units.clone(), on, &computed, self.key)
                .map_err(|e| Error::engine("attaching the activity of each subject", e))?;
            if let Some(attached) = attached {
                return Ok(attached);
            }
        }
        Ok(units.join(
            wanted(self.frame.clone()),
            [col(on)],
            [col(self.key)],
            JoinArgs::new(JoinType::Left),
        ))
    }
}
