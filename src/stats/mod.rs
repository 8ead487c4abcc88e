//! Statistics, in one place (docs/STATISTICS.md). Metrics import this module; it never
//! imports them.
//!
//! - [`kind`]: what an aggregate measures ([`Kind`]), its [`Direction`], and
//!   the [`Totals`] its units sum to.
//! - [`formulas`]: Wilson, z-tests, NPS variance, Welch, phi and
//!   tetrachoric, Kaplan–Meier, Greenwood, log-rank.
//! - [`estimate`]: a cohort's value and interval per kind, and the lift p-value.
//! - [`rows`]: the rows of the `metrics` and `lift` tables.
//! - [`stage`]: the statistics stage of a run, from collected aggregates to rows.

pub mod adjust;
pub mod estimate;
pub mod evalue;
pub mod formulas;
pub mod impact;
pub mod kind;
pub mod lifetime;
pub mod logit;
mod overlap;
pub mod rows;
pub mod stage;
pub mod survival;

pub use adjust::{AdjustSpec, ByStratum, Standardized};
pub use estimate::{estimate, lift_p_value, Estimate, Measure};
pub use formulas::*;
pub use kind::{Association, Direction, Kind, Totals, BALANCED_SMD, SUM_COLUMNS, UNIT_SUM_COLUMNS};
pub use rows::{
    add_q_values, difference_interval, sort_rows, Adjusted, Family, FrameColumns, LiftRow,
    MetricRow, RowKey, Side,
};
pub use stage::{evaluate, AggregateInfo, Evaluated};
