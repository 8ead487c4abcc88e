//! What a metric plan is built from: the period, the inputs, the account
//! frame with cohorts and segments, and the shapes several metrics share.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::activity::fold::Reduction;
use crate::activity::reduce::{self, Subject, SummaryField};
use crate::config::{CohortConfig, SourceName};
use crate::error::Result;
use crate::frame::Attachable;
use crate::inputs::Inputs;
use crate::metrics::Reduced;
use crate::time::DayRange;
use crate::time::{customer_in_period, date_lit, in_range, Period};

mod accounts;

/// The cohort reference date R of docs/METRICS.md#cohorts
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
    /// `landmark_date`, `cohort_at_start`, `cohort_at_as_of`, segment columns
    /// (and `stratum` with `adjust`).
    pub accounts: LazyFrame,
    /// With `adjust`: units carry the account's `stratum` and every
    /// aggregate is summed per stratum ([`crate::strata`]).
    pub stratified: bool,
    /// With `adjust`: what the statistics stage needs of it (survival's
    /// rows are finished by the metric itself).
    pub adjust: Option<crate::stats::AdjustSpec>,
    /// Intermediate frames shared by several metrics, built once per run.
    shared: RefCell<BTreeMap<String, LazyFrame>>,
    /// The run's activity (the one frame that reads events) and its days.
    activity: Option<(DayRange, LazyFrame)>,
    /// Reductions of activity computed by the activity stage, by key.
    reductions: RefCell<BTreeMap<String, DataFrame>>,
    /// Reductions the plans asked for that are not computed yet, by key:
    /// the activity stage computes them in its one pass
    /// ([`crate::activity::fold`]).
    folds: RefCell<BTreeMap<String, Reduction>>,
    /// What the plans asked of each subject's summary ([`reduce::summary`]).
    summary_fields: RefCell<BTreeMap<Subject, BTreeSet<SummaryField>>>,
    /// The account frame's `account_id` and dimension columns, computed
    /// (a run; None for `explain`): row-level facts take them by id, and
    /// the fact sources look their rows' accounts up in its ids
    /// ([`Inputs::frame_among`]; not `training`, seeded with the frame it
    /// built). See [`accounts`].
    dimensions: Option<Attachable>,
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
            stratified: false,
            adjust: None,
            shared: Default::default(),
            activity: None,
            reductions: Default::default(),
            folds: Default::default(),
            summary_fields: Default::default(),
            dimensions: None,
        }
    }

    /// Units carry the account's stratum (the account frame has `stratum`).
    pub fn with_strata(mut self, adjust: crate::stats::AdjustSpec) -> Self {
        self.stratified = true;
        self.adjust = Some(adjust);
        self
    }

    /// Gives the event metrics the run's activity (see [`crate::activity`]).
    pub fn with_activity(mut self, range: DayRange, activity: LazyFrame) -> Self {
        self.activity = Some((range, activity));
        self
    }

    /// A frame that several metrics use (e.g. MRR per account and month):
    /// built on first use, then shared as one cached node so that a run
    /// computes it once however many metrics read it.
    pub fn shared(
        &self,
        key: impl Into<String>,
        build: impl FnOnce() -> Result<LazyFrame>,
    ) -> Result<LazyFrame> {
        let key = key.into();
        if let Some(frame) = self.shared.borrow().get(&key) {
            return Ok(frame.clone());
        }
        let frame = build()?.cache();
        self.shared.borrow_mut().insert(key, frame.clone());
        Ok(frame)
    }

    /// Both cohort columns and the segment columns of the account frame.
    pub fn dimension_columns(&self) -> Vec<Expr> {
        let mut columns = vec![col("cohort_at_start"), col("cohort_at_as_of")];
        columns.extend(self.segment_columns());
        columns
    }

    /// The account attributes every unit carries: the `segment_by` columns
    /// and, with `adjust`, the stratum.
    pub fn segment_columns(&self) -> Vec<Expr> {
        let mut columns: Vec<Expr> = self.segment_by.iter().map(|s| col(s.as_str())).collect();
        if self.stratified {
            columns.push(col(crate::cohort::STRATUM));
        }
        columns
    }

    /// The columns that place a unit in its cohort and segments: `cohort`
    /// (the cohort at `reference`) and the segment columns, as the shared
    /// counting stage expects them.
    pub fn unit_columns(&self, reference: Reference) -> Vec<Expr> {
        let mut columns = vec![col(reference.column()).alias("cohort")];
        columns.extend(self.segment_columns());
        columns
    }

    /// docs/METRICS.md#customers-and-churn "customers in a period" `[S, A)`: the account frame (cohorts,
    /// segments) restricted to accounts whose relationship overlaps the period.
    pub fn customers_in_period(&self) -> LazyFrame {
        let (s, a) = (date_lit(self.period.start), date_lit(self.period.as_of));
        self.accounts.clone().filter(customer_in_period(s, a))
    }

    /// docs/METRICS.md: "Counted facts count only for accounts that are customers in
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
        self.shared.borrow_mut().insert(key.to_string(), frame);
    }

    /// A source's normalized frame (orphans already dropped). Tables other
    /// than `events` are read once per run and shared by every metric;
    /// events are read only through [`PlanContext::activity`].
    pub fn source(&self, name: SourceName) -> Result<LazyFrame> {
        if name == SourceName::Events {
            return Err(crate::error::Error::other(
                "events are read through the activity layer only",
            ));
        }
        self.shared(name.as_str(), || match &self.dimensions {
            Some(dimensions) => self.inputs.frame_among(name, dimensions.set()),
            None => self.inputs.frame(name),
        })
    }

    /// The run's activity (contract in [`crate::activity`]) and its days.
    pub fn activity(&self) -> Result<(DayRange, LazyFrame)> {
        self.activity.clone().ok_or_else(|| {
            crate::error::Error::other("no metric of the pipeline declared that it reads events")
        })
    }

    /// A per-subject reduction of activity that the activity stage folds
    /// in its one pass over the rows ([`crate::activity::fold`]), by
    /// `key`: the computed frame, else the reduction's plan (recorded).
    fn folded(&self, key: String, reduction: Reduction) -> Result<LazyFrame> {
        Ok(self.reduced(key, reduction, "subject_id")?.frame)
    }

    /// [`PlanContext::folded`] with the computed frame (its subjects' ids
    /// in `id`), to attach to units ([`Reduced::attach_to`]).
    fn reduced(&self, key: String, reduction: Reduction, id: &'static str) -> Result<Reduced> {
        if let Some(frame) = self.reductions.borrow().get(&key) {
            return Ok(Reduced::computed(frame.clone(), id));
        }
        let (_, activity) = self.activity()?;
        let plan = reduction.plan(activity);
        self.folds.borrow_mut().entry(key).or_insert(reduction);
        Ok(Reduced::planned(plan, id))
    }

    /// The reductions the plans built so far asked for, by key, as polars
    /// plans (what `explain` shows).
    pub fn requested_reductions(&self) -> BTreeMap<String, LazyFrame> {
        let Some((_, activity)) = self.activity.clone() else {
            return BTreeMap::new();
        };
        self.requested_folds()
            .into_iter()
            .map(|(key, reduction)| (key, reduction.plan(activity.clone())))
            .collect()
    }

    /// The requested reductions that the activity stage folds in one pass:
    /// each subject's summary with every field asked, and the others.
    pub fn requested_folds(&self) -> BTreeMap<String, Reduction> {
        let mut folds = self.folds.borrow().clone();
        for (subject, fields) in self.summary_fields.borrow().iter() {
            folds.insert(
                summary_key(*subject),
                Reduction::Summary {
                    subject: *subject,
                    fields: fields.iter().cloned().collect(),
                },
            );
        }
        folds
    }

    /// The run's activity frame (None when no metric reads events).
    pub fn activity_frame(&self) -> Option<LazyFrame> {
        self.activity.as_ref().map(|(_, frame)| frame.clone())
    }

    /// A subject's whole summary ([`reduce::summary`]: `subject_id`,
    /// `last_day` and a `last_day:EVENT` column per event asked, one row per
    /// subject with activity) with `field` asked, and the column of `field`
    /// (`last_day` when None). Before the activity stage has computed the
    /// summary, the field is recorded and the summary is planned lazily with
    /// the fields asked so far.
    pub fn summary(&self, subject: Subject, field: Option<SummaryField>) -> Result<Summary> {
        let column = field
            .as_ref()
            .map_or("last_day".to_string(), |f| f.column());
        let computed = self.reductions.borrow().get(&summary_key(subject)).cloned();
        if let Some(frame) = computed {
            return Ok(Summary {
                rows: Reduced::computed(frame, "subject_id"),
                column,
                key: summary_key(subject),
            });
        }
        let mut fields = self.summary_fields.borrow_mut();
        let asked = fields.entry(subject).or_default();
        asked.extend(field);
        let asked: Vec<SummaryField> = asked.iter().cloned().collect();
        let key = asked.iter().fold(summary_key(subject), |key, field| {
            format!("{key}|{}", field.column())
        });
        Ok(Summary {
            rows: Reduced::planned(
                reduce::summary(self.activity()?.1, subject, &asked),
                "subject_id",
            ),
            column,
            key,
        })
    }

    /// Gives the metrics the computed reductions (by key).
    pub fn with_reductions(self, computed: BTreeMap<String, DataFrame>) -> Self {
        *self.reductions.borrow_mut() = computed;
        self.folds.borrow_mut().clear();
        self
    }

    /// Per subject: each event name it has a row of from the day `from`
    /// on ([`reduce::names_used`]: `subject_id`, `event_name`), folded in
    /// the one pass: no dictionary of names is needed before it.
    pub fn names_used(&self, subject: Subject, from: chrono::NaiveDate) -> Result<LazyFrame> {
        self.folded(
            names_used_key(subject, from),
            Reduction::NamesUsed { subject, from },
        )
    }

    /// The names of [`PlanContext::names_used`], once each and sorted, once
    /// the activity stage has computed it (None before: reading them would
    /// read the events).
    pub fn names_used_names(
        &self,
        subject: Subject,
        from: chrono::NaiveDate,
    ) -> Result<Option<Vec<String>>> {
        let key = names_used_key(subject, from);
        let Some(frame) = self.reductions.borrow().get(&key).cloned() else {
            return Ok(None);
        };
        let frame = frame.lazy();
        let what = |e| crate::error::Error::engine("reading the event names used", e);
        let names = frame
            .select([col("event_name")])
            .unique(None, UniqueKeepStrategy::Any)
            .sort(["event_name"], Default::default())
            .collect()
            .map_err(what)?;
        let names = names
            .column("event_name")
            .and_then(|c| c.str().cloned())
            .map_err(what)?;
        Ok(Some(names.iter().flatten().map(str::to_string).collect()))
    }

    /// Per subject: distinct active days in the `days` days before A
    /// ([`reduce::active_days`]).
    pub fn active_days(&self, subject: Subject, days: u32) -> Result<Reduced> {
        let (range, _) = self.activity()?;
        let a = self.period.as_of;
        let from = (a - chrono::Days::new(days as u64)).max(range.first);
        self.reduced(
            format!("active_days:{}:{days}", subject.name()),
            Reduction::ActiveDays {
                subject,
                from,
                end: a,
            },
            "subject_id",
        )
    }

    /// Per account: the first day of `event` on or after its signup
    /// ([`reduce::first_event_from`]).
    pub fn first_event_after_signup(&self, event: &str) -> Result<Reduced> {
        let starts = self
            .inputs
            .frame(SourceName::Accounts)?
            .select([col("account_id"), col("signup_date").alias("from")]);
        self.reduced(
            format!("first_event_after_signup:{event}"),
            Reduction::FirstEventFrom {
                event: event.to_string(),
                starts,
            },
            "account_id",
        )
    }

    /// Distinct (`user_id`, `account_id`) seen in activity ([`reduce::users_seen`]).
    pub fn users_seen(&self) -> Result<LazyFrame> {
        self.folded("users_seen".to_string(), Reduction::UsersSeen)
    }
}

/// docs/METRICS.md: "Counted facts count only for accounts that are customers in the
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

/// A subject's summary as [`PlanContext::summary`] gives it.
pub struct Summary {
    /// One row per subject with activity: `subject_id`, `last_day`, the fields.
    pub rows: Reduced,
    /// The column of the field asked.
    pub column: String,
    /// Names the frame's columns: equal keys, equal frames (for sharing a
    /// join with the summary between metrics).
    pub key: String,
}

/// The key of [`PlanContext::names_used`] among the reductions.
fn names_used_key(subject: Subject, from: chrono::NaiveDate) -> String {
    format!("names_used:{}:{from}", subject.name())
}

/// The key of a subject's summary among the reductions.
fn summary_key(subject: Subject) -> String {
    format!("summary:{}", subject.name())
}
