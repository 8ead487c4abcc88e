//! What a metric plan is built from: the period, the inputs, the account
//! frame with cohorts and segments, and the shapes several metrics share.

use std::cell::RefCell;
use std::collections::BTreeMap;

use polars::prelude::*;

use crate::config::{CohortConfig, SourceName};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::time::{customer_in_period, date_lit, in_range, Period};

/// The cohort reference date R of SPEC §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// R = S: period metrics.
    PeriodStart,
    /// R = A: metrics that follow accounts from signup.
    AsOf,
}

impl Reference {
    /// The column of the account frame holding the cohort at this reference.
    pub fn column(self) -> &'static str {
        match self {
            Reference::PeriodStart => "cohort_at_start",
            Reference::AsOf => "cohort_at_as_of",
        }
    }
}

/// What a metric plan needs: the period, the loaded inputs and the account
/// frame with cohorts and segment columns.
pub struct PlanContext<'a> {
    pub period: &'a Period,
    pub inputs: &'a Inputs,
    pub segment_by: &'a [String],
    /// The landmark rule (for user-level cohorts).
    pub cohort_rule: &'a CohortConfig,
    /// One row per account: `account_id`, `signup_date`, `churn_date`,
    /// `landmark_date`, `cohort_at_start`, `cohort_at_as_of`, segment columns.
    pub accounts: LazyFrame,
    /// Intermediate frames shared by several metrics, built once per run.
    shared: RefCell<BTreeMap<&'static str, LazyFrame>>,
    /// Whether [`PlanContext::daily_events`] is one shared (cached) frame.
    share_events: bool,
}

impl<'a> PlanContext<'a> {
    pub fn new(
        period: &'a Period,
        inputs: &'a Inputs,
        segment_by: &'a [String],
        cohort_rule: &'a CohortConfig,
        accounts: LazyFrame,
    ) -> Self {
        PlanContext {
            period,
            inputs,
            segment_by,
            cohort_rule,
            accounts,
            shared: Default::default(),
            share_events: false,
        }
    }

    /// Shares one in-memory copy of the events between the adoption
    /// metrics when the events have at most [`SHARED_EVENTS_MAX_ROWS`] rows
    /// (`rows`: the events' row count, `None` when not known).
    pub fn with_event_rows(mut self, rows: Option<u64>) -> Self {
        self.share_events = rows.is_some_and(|n| n <= SHARED_EVENTS_MAX_ROWS);
        self
    }

    /// A frame that several metrics use (e.g. MRR per account and month):
    /// built on first use, then shared as one cached node so that a run
    /// computes it once however many metrics read it.
    pub fn shared(
        &self,
        key: &'static str,
        build: impl FnOnce() -> Result<LazyFrame>,
    ) -> Result<LazyFrame> {
        if let Some(frame) = self.shared.borrow().get(key) {
            return Ok(frame.clone());
        }
        let frame = build()?.cache();
        self.shared.borrow_mut().insert(key, frame.clone());
        Ok(frame)
    }

    /// The account columns that row-level metrics join to their rows:
    /// `account_id`, both cohort columns and the segment columns.
    pub fn account_dimensions(&self) -> LazyFrame {
        let mut columns = vec![col("account_id")];
        columns.extend(self.dimension_columns());
        self.accounts.clone().select(columns)
    }

    /// Both cohort columns and the segment columns of the account frame.
    pub fn dimension_columns(&self) -> Vec<Expr> {
        let mut columns = vec![col("cohort_at_start"), col("cohort_at_as_of")];
        columns.extend(self.segment_columns());
        columns
    }

    /// The `segment_by` columns.
    pub fn segment_columns(&self) -> Vec<Expr> {
        self.segment_by.iter().map(|s| col(s.as_str())).collect()
    }

    /// The columns that place a unit in its cohort and segments: `cohort`
    /// (the cohort at `reference`) and the segment columns, as the shared
    /// counting stage expects them.
    pub fn unit_columns(&self, reference: Reference) -> Vec<Expr> {
        let mut columns = vec![col(reference.column()).alias("cohort")];
        columns.extend(self.segment_columns());
        columns
    }

    /// SPEC §3: "A row-level metric takes the cohort of the row's account."
    /// The rows of `source` whose `day_column` falls in `[S, A)`, with the
    /// account's cohorts and segment columns joined.
    pub fn rows_in_period(&self, source: SourceName, day_column: &str) -> Result<LazyFrame> {
        let (s, a) = (date_lit(self.period.start), date_lit(self.period.as_of));
        Ok(self
            .source(source)?
            .filter(in_range(col(day_column), s, a))
            .join(
                self.account_dimensions(),
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Inner),
            ))
    }

    /// SPEC §2 "customers in a period" `[S, A)`: the account frame (cohorts,
    /// segments) restricted to accounts whose relationship overlaps the period.
    pub fn customers_in_period(&self) -> LazyFrame {
        let (s, a) = (date_lit(self.period.start), date_lit(self.period.as_of));
        self.accounts.clone().filter(customer_in_period(s, a))
    }

    /// SPEC §5: "Counted facts count only for accounts that are customers in
    /// the period." Customers in `[S, A)` with `count`: how many rows of
    /// `source` each has with `day_column` in `[S, A)` (0 when none).
    pub fn customers_with_counts(&self, source: SourceName, day_column: &str) -> Result<LazyFrame> {
        let (s, a) = (date_lit(self.period.start), date_lit(self.period.as_of));
        let counts = self
            .source(source)?
            .filter(in_range(col(day_column), s, a))
            .group_by([col("account_id")])
            .agg([len().cast(DataType::Float64).alias("count")]);
        Ok(left_join_filled(
            self.customers_in_period(),
            counts,
            &["account_id"],
            "count",
            lit(0.0),
        ))
    }

    /// Registers an already shared (cached) frame under `key`.
    pub fn seed(&self, key: &'static str, frame: LazyFrame) {
        self.shared.borrow_mut().insert(key, frame);
    }

    /// A source's normalized frame (orphans already dropped). Tables other
    /// than `events` are read once per run and shared by every
    /// metric; `events` (the one large table) is read through
    /// [`PlanContext::daily_events`] or scanned with the metric's own filters.
    pub fn source(&self, name: SourceName) -> Result<LazyFrame> {
        if name == SourceName::Events {
            return self.inputs.frame(name);
        }
        self.shared(name.as_str(), || self.inputs.frame(name))
    }

    /// Events before A with only the columns adoption metrics need
    /// (`account_id`, `user_id` when present, `event_time` as a day,
    /// `event_name`).
    ///
    /// Up to [`SHARED_EVENTS_MAX_ROWS`] rows they are read once and shared
    /// through a cache, which holds them in memory whole. Above that every
    /// adoption metric streams its own scan (reading only its columns), so
    /// that memory does not grow with the events: on 1M accounts / 113M
    /// events 267 s and 6.3 GB peak RSS, against 194 s and 15.2 GB with the
    /// shared copy; on 100k accounts / 11M events sharing is faster (17 s
    /// against 25 s) for 1.6 GB (docs/BENCHMARKS.md).
    pub fn daily_events(&self) -> Result<LazyFrame> {
        if self.share_events {
            return self.shared("daily_events", || self.event_columns());
        }
        self.event_columns()
    }

    fn event_columns(&self) -> Result<LazyFrame> {
        let has_user = self
            .inputs
            .get(SourceName::Events)
            .is_some_and(|e| e.has_column("user_id"));
        let mut columns = vec![col("account_id"), col("event_time"), col("event_name")];
        if has_user {
            columns.push(col("user_id"));
        }
        Ok(self
            .inputs
            .frame(SourceName::Events)?
            .filter(col("event_time").lt(date_lit(self.period.as_of)))
            .select(columns))
    }
}

/// Events up to this many rows (about 1.5 GB in memory) are read once and
/// shared by the adoption metrics; larger ones are streamed per metric.
pub const SHARED_EVENTS_MAX_ROWS: u64 = 20_000_000;

/// SPEC §5: "Counted facts count only for accounts that are customers in the
/// period", and a unit without facts counts as zero: `units` (for example
/// customers × a dimension) left-joined with `facts` on `keys`, and `value`
/// (a column of `facts`) set to `empty` where a unit has no fact.
pub fn left_join_filled(
    units: LazyFrame,
    facts: LazyFrame,
    keys: &[&str],
    value: &str,
    empty: Expr,
) -> LazyFrame {
    let on: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    units
        .join(facts, on.clone(), on, JoinArgs::new(JoinType::Left))
        .with_column(col(value).fill_null(empty))
}
