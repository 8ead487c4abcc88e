//! Tickets counted per account, in the period and in each complete month,
//! folded from the rows the tickets' data rules' pass reads
//! (docs/ARCHITECTURE.md, "Facts folded in the data rules' passes"): what
//! `support_incident_rate` otherwise groups the tickets by, by account and
//! by account and month.

use std::sync::Arc;

use polars::prelude::*;

use crate::config::SourceName;
use crate::frame::Slots;
use crate::ids::{IdSet, NO_SLOT};
use crate::inputs::ride::{ride, FactFold, FoldRide};
use crate::inputs::{Inputs, RiderStart};
use crate::time::{date_to_days, MonthOfDay, Period};

/// The key of the folded frame among [`Inputs::folded`].
pub const FOLDED: &str = "tickets_by_account";

/// The column of the count in complete month `i` (M1 is 0).
pub fn month_count(i: usize) -> String {
    format!("count_{i}")
}

const SLOT: &str = "__tickets_slot";
const DAY: &str = "__tickets_day";

/// Counts per slot of the account set.
struct Counts {
    /// S and A (days since 1970).
    period: (i32, i32),
    /// The month (0 for M1) of each day of M1 … Mk.
    month_of: MonthOfDay,
    months: usize,
    /// Per slot: the tickets created in [S, A).
    count: Vec<u32>,
    /// Per slot and complete month (`slot × months + i`).
    by_month: Vec<u32>,
}

impl Counts {
    fn new(accounts: usize, period: &Period) -> Counts {
        let months = period.complete_months();
        Counts {
            period: (date_to_days(period.start), date_to_days(period.as_of)),
            month_of: MonthOfDay::new(&months),
            months: months.len(),
            count: vec![0; accounts],
            by_month: vec![0; accounts * months.len()],
        }
    }

    /// docs/METRICS.md#support_incident_rate: a ticket counts for its
    /// account when created in [S, A), and in the complete month of its day.
    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let slots = batch.column(SLOT)?.u32()?;
        let days = batch.column(DAY)?.cast(&DataType::Int32)?;
        for (slot, day) in slots.iter().zip(days.i32()?.iter()) {
            let (Some(slot), Some(day)) = (slot, day) else {
                continue;
            };
            if slot == NO_SLOT || day < self.period.0 || day >= self.period.1 {
                continue;
            }
            let at = slot as usize;
            self.count[at] += 1;
            if let Some(month) = self.month_of.of(day) {
                self.by_month[at * self.months + month] += 1;
            }
        }
        Ok(())
    }

    /// One row per account with a ticket in [S, A), in the order of the
    /// set's slots: `account_id`, `count` and one [`month_count`] per
    /// complete month (Float64, as the counts' sums take them).
    fn frame(&self, set: &IdSet, id_type: &DataType) -> PolarsResult<DataFrame> {
        let slots: Vec<u32> = (0..self.count.len() as u32)
            .filter(|s| self.count[*s as usize] > 0)
            .collect();
        let mut columns = vec![set.column("account_id", &slots, id_type)?];
        let count: Vec<f64> = slots
            .iter()
            .map(|s| self.count[*s as usize] as f64)
            .collect();
        columns.push(Column::new("count".into(), count));
        for month in 0..self.months {
            let counts: Vec<f64> = slots
                .iter()
                .map(|s| self.by_month[*s as usize * self.months + month] as f64)
                .collect();
            columns.push(Column::new(month_count(month).into(), counts));
        }
        DataFrame::new(slots.len(), columns)
    }
}

/// The fold riding the tickets' pass when `support_incident_rate` is
/// configured and the tickets' frame is its rows typed one by one; the
/// rider starts when the pass begins, over the known account ids.
pub fn prepare_ride(
    metrics: &[crate::metrics::MetricConfig],
    period: &Period,
    inputs: &Inputs,
) -> Option<(FoldRide, RiderStart)> {
    if !metrics.iter().any(|m| m.id() == "support_incident_rate") {
        return None;
    }
    let tickets = inputs.get(SourceName::Tickets)?;
    let account = tickets.over_checked("account_id")?;
    let day = tickets.over_checked("created_at")?;
    let id_type = tickets.column_type("account_id")?;
    let period = period.clone();
    Some(ride(FOLDED, move |inputs: &Inputs| {
        let (accounts, _) = inputs.known_sets(false)?;
        let fold: Box<dyn FactFold> = Box::new(TicketFold {
            counts: Counts::new(accounts.len(), &period),
            accounts,
            id_type,
            columns: [account, day],
        });
        Ok(fold)
    }))
}

struct TicketFold {
    counts: Counts,
    accounts: Arc<IdSet>,
    id_type: DataType,
    /// The typed `account_id` and `created_at` over the pass's rows.
    columns: [Expr; 2],
}

impl FactFold for TicketFold {
    fn columns(&self, slots: &Slots) -> Vec<Expr> {
        let [account, day] = self.columns.clone();
        vec![
            Slots::slot(slots.account.as_ref(), &self.accounts, account).alias(SLOT),
            day.alias(DAY),
        ]
    }

    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        self.counts.add(batch)
    }

    fn frame(&self) -> PolarsResult<DataFrame> {
        self.counts.frame(&self.accounts, &self.id_type)
    }
}

/// [`Counts`] of `rows` (`account_id`, `created_at`) over `accounts`, in
/// one pass of their own (for tests).
#[cfg(test)]
pub(crate) fn fold_rows(
    rows: LazyFrame,
    accounts: &Arc<IdSet>,
    period: &Period,
    id_type: &DataType,
) -> DataFrame {
    let plan = rows.select([
        accounts.slot_of(col("account_id")).alias(SLOT),
        col("created_at").alias(DAY),
    ]);
    let counts = Counts::new(accounts.len(), period);
    let counts = crate::frame::fold_batches(plan, counts, None, false, "tickets", |c, b| c.add(b))
        .expect("fold");
    counts.frame(accounts, id_type).expect("frame")
}

#[cfg(test)]
mod tests;
