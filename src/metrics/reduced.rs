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
    pub id: &'static str,
}

impl Reduced {
    /// A reduction the activity stage has computed.
    pub fn computed(frame: DataFrame, id: &'static str) -> Self {
        Reduced {
            frame: frame.clone().lazy(),
            computed: Some(frame),
            id,
        }
    }

    /// A reduction not computed yet: its plan.
    pub fn planned(plan: LazyFrame, id: &'static str) -> Self {
        Reduced {
            frame: plan,
            computed: None,
            id,
        }
    }

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
        let mut kept = vec![self.id.to_string()];
        kept.extend(columns.into_iter().flatten().cloned());
        if let Some(computed) = &self.computed {
            let computed = match columns {
                Some(_) => computed.select(kept.iter().map(String::as_str)),
                None => Ok(computed.clone()),
            };
            let attached = computed
                .and_then(|computed| {
                    crate::frame::attach_by_key(
                        units.clone(),
                        on,
                        &computed,
                        self.id,
                        crate::frame::Unmatched::Kept,
                    )
                })
                .map_err(|e| Error::engine("attaching the activity of each subject", e))?;
            if let Some(attached) = attached {
                return Ok(attached);
            }
        }
        let rows = match columns {
            Some(_) => self
                .frame
                .clone()
                .select(kept.iter().map(|c| col(c.as_str())).collect::<Vec<_>>()),
            None => self.frame.clone(),
        };
        Ok(units.join(
            rows,
            [col(on)],
            [col(self.id)],
            JoinArgs::new(JoinType::Left),
        ))
    }
}
