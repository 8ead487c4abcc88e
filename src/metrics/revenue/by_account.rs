//! MRR per account and month folded in one pass over the revenue rows
//! (docs/ARCHITECTURE.md, "Facts folded in the data rules' passes"): each
//! row's account is looked up among the known account ids, its day placed
//! among the months M0 … Mk, and its whole cents added to that account's
//! month in a dense table. The frame is the one
//! [`super::mrr`] plans as a group-by over the rows (same rows, columns
//! and values: the sums are whole cents, exact in any order); the fold
//! does without the group-by's hash table of a million accounts and
//! without truncating each row's day to its month.

use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::SourceName;
use crate::frame::Slots;
use crate::ids::{IdSet, NO_SLOT};
use crate::inputs::ride::{ride, FactFold, FoldRide};
use crate::inputs::{Inputs, RiderStart};
use crate::time::{add_months, date_to_days, days_to_date, first_day, MonthOfDay};

/// The columns the fold reads: each row's account slot, day and MRR.
const SLOT: &str = "__revenue_slot";
const DAY: &str = "__revenue_day";
const MRR: &str = "__revenue_mrr";

/// The table the pass fills, by slot of the account set.
struct Table {
    /// A row counts when its month starts before A: when its day is
    /// before this (A itself when A is a first day, else the next first day).
    limit: i32,
    /// Per slot, per month of M0 … Mk (`slot × months + i`): the cents.
    cents: Vec<f64>,
    /// Per slot: the earliest day of a row with cents > 0 (`i32::MAX`: none).
    first_paid: Vec<i32>,
    /// Per slot: whether it has a row that counts.
    seen: Vec<bool>,
    /// The months of M0 … Mk.
    months: usize,
    /// The month (0 for M0) of each day of M0 … Mk.
    month_of: MonthOfDay,
}

impl Table {
    fn new(accounts: usize, months: &[NaiveDate], as_of: NaiveDate) -> Table {
        let limit = match first_day(as_of) == as_of {
            true => as_of,
            false => add_months(first_day(as_of), 1),
        };
        Table {
            limit: date_to_days(limit),
            cents: vec![0.0; accounts * months.len()],
            first_paid: vec![i32::MAX; accounts],
            seen: vec![false; accounts],
            months: months.len(),
            month_of: MonthOfDay::new(months),
        }
    }

    /// docs/INPUTS.md revenue and docs/METRICS.md "Revenue": a row's
    /// month is its day's month; its MRR in whole cents (rounded half
    /// away from zero); a row of a month that starts on or after A does
    /// not count; a null MRR adds nothing.
    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let slots = batch.column(SLOT)?.u32()?.rechunk();
        let days = batch.column(DAY)?.cast(&DataType::Int32)?;
        let days = days.i32()?.rechunk();
        let mrr = batch.column(MRR)?.cast(&DataType::Float64)?;
        let mrr = mrr.f64()?.rechunk();
        // Without nulls (the data rules' usual case), over plain slices.
        if let (Ok(slots), Ok(days), Ok(mrr)) =
            (slots.cont_slice(), days.cont_slice(), mrr.cont_slice())
        {
            for ((slot, day), mrr) in slots.iter().zip(days).zip(mrr) {
                self.add_row(*slot, *day, Some(*mrr));
            }
            return Ok(());
        }
        let rows = slots.iter().zip(days.iter()).zip(mrr.iter());
        for ((slot, day), mrr) in rows {
            if let (Some(slot), Some(day)) = (slot, day) {
                self.add_row(slot, day, mrr);
            }
        }
        Ok(())
    }

    /// One row: its account's slot, its day and its MRR.
    #[inline]
    fn add_row(&mut self, slot: u32, day: i32, mrr: Option<f64>) {
        if slot == NO_SLOT || day >= self.limit {
            return;
        }
        let at = slot as usize;
        self.seen[at] = true;
        let Some(mrr) = mrr else { return };
        let cents = (mrr * 100.0).round();
        if cents > 0.0 && day < self.first_paid[at] {
            self.first_paid[at] = day;
        }
        if let Some(month) = self.month_of.of(day) {
            self.cents[at * self.months + month] += cents;
        }
    }

    /// One row per account with a row that counts, in the order of the
    /// set's slots: `account_id` (`id_type`), `mrr_0` … `mrr_k` and
    /// `first_paid_month` (the first day of the month of `first_paid`).
    fn frame(
        &self,
        set: &IdSet,
        id_type: &DataType,
        mrr_of: fn(usize) -> String,
    ) -> PolarsResult<DataFrame> {
        let slots: Vec<u32> = (0..self.seen.len() as u32)
            .filter(|s| self.seen[*s as usize])
            .collect();
        let months = self.months;
        let mut columns = vec![set.column("account_id", &slots, id_type)?];
        for month in 0..months {
            let cents: Vec<f64> = slots
                .iter()
                .map(|s| self.cents[*s as usize * months + month])
                .collect();
            columns.push(Column::new(mrr_of(month).into(), cents));
        }
        let first_paid: Int32Chunked = slots
            .iter()
            .map(|s| {
                let day = self.first_paid[*s as usize];
                (day != i32::MAX).then(|| date_to_days(first_day(days_to_date(day))))
            })
            .collect();
        let first_paid = first_paid
            .into_series()
            .cast(&DataType::Date)?
            .with_name("first_paid_month".into());
        columns.push(first_paid.into_column());
        DataFrame::new(slots.len(), columns)
    }
}

/// [`super::mrr`]'s `monthly_by_account` of a monthly MRR table
/// (`revenue` rows, each `mrr` ≥ 0), computed by one pass of its own over
/// `rows` (`account_id`, `month`, `mrr`, typed; for tests): accounts are
/// the slots of `accounts` (rows of other accounts are dropped, as the
/// source's frame drops them), `months` are M0 … Mk and `as_of` is A.
#[cfg(test)]
fn monthly_by_account(
    rows: LazyFrame,
    accounts: &Arc<IdSet>,
    months: &[NaiveDate],
    as_of: NaiveDate,
    mrr_of: fn(usize) -> String,
) -> crate::error::Result<DataFrame> {
    let what = "reading revenue by account and month";
    use crate::error::Error;
    let engine = |e| Error::engine(what, e);
    let id_type = rows
        .clone()
        .collect_schema()
        .map_err(engine)?
        .get("account_id")
        .cloned()
        .ok_or_else(|| Error::other(format!("{what}: no `account_id`")))?;
    let plan = rows.select([
        accounts.slot_of(col("account_id")).alias(SLOT),
        col("month").alias(DAY),
        col("mrr").alias(MRR),
    ]);
    let table = Table::new(accounts.len(), months, as_of);
    let table = crate::frame::fold_batches(plan, table, None, false, what, |table, batch| {
        table.add(batch)
    })?;
    table.frame(accounts, &id_type, mrr_of).map_err(engine)
}

/// The key of the folded frame among [`Inputs::folded`].
pub(super) const FOLDED: &str = "monthly_by_account";

/// The fold of [`monthly_by_account`] riding the revenue data rules' pass
/// (docs/ARCHITECTURE.md, "Facts folded in the data rules' passes"): the
/// revenue rows are read once, by their checks. Prepared before the checks when a
/// configured metric reads MRR, revenue is a monthly MRR table whose
/// frame is its rows typed one by one, and the period has a complete
/// month; the rider starts when the pass begins, over the known account
/// ids ([`Inputs::known_sets`]).
pub fn prepare_ride(
    metrics: &[crate::metrics::MetricConfig],
    period: &crate::time::Period,
    inputs: &Inputs,
) -> Option<(FoldRide, RiderStart)> {
    let reads_mrr = metrics.iter().any(|m| {
        m.metric()
            .requires()
            .contains(&(SourceName::Revenue, "mrr"))
    });
    let revenue = inputs.get(SourceName::Revenue)?;
    let monthly = revenue.spec.iter().any(|c| c.name == "mrr");
    let months = super::mrr::months_of(period);
    if !reads_mrr || !monthly || months.is_empty() {
        return None;
    }
    let columns = ["account_id", "month", "mrr"].map(|c| revenue.over_checked(c));
    let [Some(account), Some(day), Some(mrr)] = columns else {
        return None;
    };
    let id_type = revenue.column_type("account_id")?;
    let as_of = period.as_of;
    Some(ride(FOLDED, move |inputs: &Inputs| {
        let (accounts, _) = inputs.known_sets(false)?;
        let fold: Box<dyn FactFold> = Box::new(RevenueFold {
            table: Table::new(accounts.len(), &months, as_of),
            accounts,
            id_type,
            columns: [account, day, mrr],
        });
        Ok(fold)
    }))
}

/// The fold of the revenue pass: each row's account slot (the pass's own
/// lookup when it makes the same), day and MRR, added to the table.
struct RevenueFold {
    table: Table,
    accounts: Arc<IdSet>,
    id_type: DataType,
    /// The typed `account_id`, `month` and `mrr` over the pass's rows.
    columns: [Expr; 3],
}

impl FactFold for RevenueFold {
    fn columns(&self, slots: &Slots) -> Vec<Expr> {
        let [account, day, mrr] = self.columns.clone();
        vec![
            Slots::slot(slots.account.as_ref(), &self.accounts, account).alias(SLOT),
            day.alias(DAY),
            mrr.alias(MRR),
        ]
    }

    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        self.table.add(batch)
    }

    fn frame(&self) -> PolarsResult<DataFrame> {
        self.table
            .frame(&self.accounts, &self.id_type, super::mrr::mrr_of)
    }
}

#[cfg(test)]
mod tests;
