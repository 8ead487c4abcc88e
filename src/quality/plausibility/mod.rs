//! Plausibility checks: the inputs pass every docs/INPUTS.md rule, but would they
//! give numbers worth publishing? A misspelled course, a training export
//! whose ids match no account, a programme younger than the period: each
//! gives a run that "works" and compares nothing. Run by `validate` and
//! `run` after the data rules, before anything is computed or written.
//!
//! - **Courses**: every entry of `cohort.courses` must match a `course_id`
//!   of `training` (an error listing the ids seen, closest first).
//! - **Cohorts**: with a `training` source, the accounts assigned at R = A
//!   must include trained and untrained ones (an error: nothing to compare);
//!   at R = S a missing side is a warning naming the metrics it leaves
//!   without a comparison.
//! - **Revenue grain**: the share of `revenue` rows not dated on the 1st,
//!   the (account, month) pairs with several rows and the largest
//!   month-over-month jump; above `quality.max_off_grain_share` a warning
//!   points to `grain: invoice`.
//! - **User ids**: with a `users` source and user ids in `events` or
//!   `training`, the share of their rows (with a user id) whose user is in
//!   `users` must reach `quality.min_user_overlap` (an error with examples
//!   from both sides). The shares are counted in the data rules' scan.
//! - **Completions**: without `completed_values`, `completed_at` equal to
//!   `enrolled_at` on every row, or rows with a `completed_at` whose status
//!   does not read as completed, is a warning naming the column.
//! - **Duplicate companies**: account ids sharing a normalized `name`: a
//!   warning, exit 3 above `quality.max_duplicate_name_share`.
//! - **NPS scale**: at least 20 `nps_responses` scores and none above 5
//!   is an error (a 1–5 survey mapped as NPS would read −100).
//! - **Activity rollup**: a rollup read from `activity.table` must reach
//!   the day before as_of (an error: a rollup job that did not run would
//!   otherwise count its missing days as days without activity).

use polars::prelude::*;

mod completions;
mod courses;
pub mod freshness;
mod names;
mod revenue;
mod scales;
mod users;

use super::report::count_of;
use crate::cohort::{self, TRAINED, UNTRAINED};
use crate::config::{Pipeline, SourceName};
use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::inputs::Inputs;
use courses::{check_courses, course_rows};
use freshness::SourceAge;
pub use revenue::MrrSummary;
use revenue::{
    check_mrr, check_revenue_grain, mrr_summary_plan, negative_months, revenue_grain_plan,
};
use users::{overlap_plans, user_ids, user_overlap_error, UserSide};

/// Accounts per cohort at one reference date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CohortSizes {
    pub trained: u64,
    pub untrained: u64,
    pub unassigned: u64,
}

impl std::fmt::Display for CohortSizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} trained, {} untrained, {} not assigned",
            self.trained, self.untrained, self.unassigned
        )
    }
}

/// What the checks found, for the logs, the manifest and `validate`.
#[derive(Debug, Clone, Default)]
pub struct Plausibility {
    /// Cohort sizes at R = S and R = A.
    pub at_start: CohortSizes,
    pub at_as_of: CohortSizes,
    /// `cohort.courses` entries and the rows that matched each.
    pub courses: Vec<(String, u64)>,
    /// Each dated source's last date against as_of (docs/INPUTS.md#freshness).
    pub ages: Vec<SourceAge>,
    /// The last month's MRR before the as-of month, with `revenue`.
    pub mrr: Option<MrrSummary>,
    pub warnings: Vec<String>,
}

/// How many ids a message lists.
pub(super) const IDS_SHOWN: usize = 10;

/// Runs the checks (one `collect_all`: the course ids of `training` and the
/// cohort counts). Each failed check (exit 3, naming what is wrong and how
/// to fix it) joins `problems`, unless it reads a `broken` source (one with
/// a broken data rule, or that could not be read): the others still run.
pub fn check(
    inputs: &Inputs,
    pipeline: &Pipeline,
    scope: &super::Scope,
    report: &super::QualityReport,
    broken: &BTreeSet<SourceName>,
    problems: &mut Vec<Error>,
) -> Result<Plausibility> {
    let mut keep = |reads: &[SourceName], outcome: Result<()>| {
        if let Err(problem) = outcome {
            if !reads.iter().any(|s| broken.contains(s)) {
                problems.push(problem);
            }
        }
    };
    use SourceName::{Accounts, Events, NpsResponses, Revenue, Training, Users};
    let has_training = inputs.get(SourceName::Training).is_some();
    let training = has_training
        .then(|| inputs.frame(SourceName::Training))
        .transpose()?;
    let accounts = cohort::account_frame(
        inputs.frame(SourceName::Accounts)?,
        training.clone(),
        &pipeline.cohort,
        &pipeline.period,
        &[],
    );
    let count = |column: &str, label: Option<&str>| {
        let matches = match label {
            Some(label) => col(column).eq(lit(label)),
            None => col(column).is_null(),
        };
        matches
            .cast(DataType::UInt64)
            .sum()
            .alias(format!("{column}:{}", label.unwrap_or("none")))
    };
    let mut counts = Vec::new();
    for column in ["cohort_at_start", "cohort_at_as_of"] {
        for label in [Some(TRAINED), Some(UNTRAINED), None] {
            counts.push(count(column, label));
        }
    }
    let mut plans = vec![accounts.select(counts)];
    let configured_courses = pipeline.cohort.courses.clone().filter(|_| has_training);
    if let (Some(training), Some(_)) = (&training, &configured_courses) {
        plans.push(
            training
                .clone()
                .filter(col("course_id").is_not_null())
                .group_by([col("course_id")])
                .agg([len().cast(DataType::UInt64).alias("rows")]),
        );
    }
    let training_source = inputs.get(SourceName::Training);
    let gated = pipeline
        .sources
        .get(&SourceName::Training)
        .is_some_and(|t| !t.config.completed_values.is_empty());
    if let (Some(source), Some(frame)) = (training_source, &training) {
        plans.extend(completions::plans(source, frame, gated));
    }
    let named = inputs
        .get(SourceName::Accounts)
        .is_some_and(|a| a.has_column("name"));
    if named {
        plans.extend(names::plans(inputs.frame(SourceName::Accounts)?));
    }
    let nps = inputs.get(SourceName::NpsResponses).is_some();
    if nps {
        plans.push(scales::nps_scale_plan(
            inputs.frame(SourceName::NpsResponses)?,
        ));
    }
    let revenue = inputs.get(SourceName::Revenue).is_some();
    let invoices = revenue
        && pipeline
            .sources
            .get(&SourceName::Revenue)
            .is_some_and(|r| r.config.grain == Some(crate::config::Grain::Invoice));
    if revenue {
        plans.push(revenue_grain_plan(inputs.frame(SourceName::Revenue)?));
        plans.push(mrr_summary_plan(
            inputs.frame(SourceName::Revenue)?,
            pipeline.period.as_of,
        ));
    }
    if invoices {
        plans.push(
            inputs
                .frame(SourceName::Revenue)?
                .group_by([col("account_id"), col("month")])
                .agg([col("mrr").sum()])
                .filter(col("mrr").lt(lit(-0.005)))
                .sort(["account_id", "month"], SortMultipleOptions::default())
                .select([
                    col("account_id").cast(DataType::String),
                    col("month").cast(DataType::String),
                    col("mrr"),
                ]),
        );
    }
    // The share of rows whose user is in `users` was counted in the data
    // rules' scan; examples are read only for a source below the threshold.
    let short_sides: Vec<(UserSide, f64, u64)> = [UserSide::Events, UserSide::Training]
        .into_iter()
        .filter_map(|side| {
            let (known, total) = *report.user_rows.get(&side.source())?;
            let share = known as f64 / total.max(1) as f64;
            (total > 0 && share < pipeline.quality.min_user_overlap).then_some((side, share, total))
        })
        .collect();
    for (side, _, _) in &short_sides {
        plans.extend(overlap_plans(
            user_ids(inputs.frame(side.source())?),
            user_ids(inputs.frame(SourceName::Users)?),
        ));
    }
    let mut results = crate::frame::collect_all(plans, "checking the cohorts")?.into_iter();
    let sizes = results.next().unwrap_or_default();
    let size = |column: &str, label: &str| count_of(&sizes, &format!("{column}:{label}"));
    let sizes_at = |column: &str| CohortSizes {
        trained: size(column, TRAINED),
        untrained: size(column, UNTRAINED),
        unassigned: size(column, "none"),
    };
    let mut found = Plausibility {
        at_start: sizes_at("cohort_at_start"),
        at_as_of: sizes_at("cohort_at_as_of"),
        ..Default::default()
    };

    if let Some(courses) = &configured_courses {
        let seen = course_rows(&results.next().unwrap_or_default());
        found.courses = courses
            .iter()
            .map(|c| {
                let rows = seen
                    .iter()
                    .find(|(id, _)| id == c)
                    .map(|(_, n)| *n)
                    .unwrap_or(0);
                (c.clone(), rows)
            })
            .collect();
        keep(&[Training], check_courses(inputs, &found.courses, &seen));
    }
    if let (Some(source), Some(_), false) = (training_source, &training, gated) {
        completions::check(source, &mut results, &mut found);
    }
    if named {
        keep(
            &[Accounts],
            names::check(inputs, pipeline, &mut results, &mut found),
        );
    }
    if nps {
        let files = inputs
            .get(SourceName::NpsResponses)
            .map(|s| s.files_shown())
            .unwrap_or_default();
        keep(
            &[NpsResponses],
            scales::check_nps_scale(&results.next().unwrap_or_default(), &files),
        );
    }
    if revenue {
        let shares = results.next().unwrap_or_default();
        check_revenue_grain(
            pipeline,
            &shares,
            inputs.frame(SourceName::Revenue)?,
            &mut found,
        )?;
        let currency = inputs
            .get(SourceName::Revenue)
            .and_then(|r| r.currency.clone());
        check_mrr(
            pipeline,
            currency.as_deref(),
            &results.next().unwrap_or_default(),
            &mut found,
        );
    }
    if invoices {
        keep(
            &[Revenue],
            negative_months(&results.next().unwrap_or_default()),
        );
    }
    for (side, share, total) in &short_sides {
        let examples: Vec<DataFrame> = (0..2).map(|_| results.next().unwrap_or_default()).collect();
        keep(
            &[side.source(), Users],
            user_overlap_error(pipeline, *side, *share, *total, &examples),
        );
    }
    keep(
        &[Events],
        check_rollup_days(inputs, pipeline, scope, report),
    );
    found.ages = freshness::ages(pipeline, scope, report);
    found.ages.retain(|age| !broken.contains(&age.source));
    let files = |name: SourceName| {
        inputs
            .get(name)
            .map(|s| s.files_shown())
            .unwrap_or_default()
    };
    let fresh = freshness::check(pipeline, &found.ages, files, &mut found.warnings);
    keep(&[], fresh);
    if has_training {
        let cohorts = check_cohorts(pipeline, scope, &mut found);
        keep(&[Accounts, Training], cohorts);
    } else if !inputs.failed(Training) {
        found.warnings.push(
            "no `training` source: no trained-vs-untrained comparison is made (every assigned account counts as untrained)"
                .to_string(),
        );
    }
    for warning in &found.warnings {
        crate::log::warn("check", warning);
    }
    crate::log::info(
        "check",
        &format!(
            "cohorts at the period start {}: {}; at as_of {}: {}",
            pipeline.period.start, found.at_start, pipeline.period.as_of, found.at_as_of
        ),
    );
    Ok(found)
}

/// With a `training` source, the cohorts must have both sides at R = A
/// (an error otherwise) and should at R = S (a warning).
fn check_cohorts(
    pipeline: &Pipeline,
    scope: &super::Scope,
    found: &mut Plausibility,
) -> Result<()> {
    let a = found.at_as_of;
    let missing = |sizes: CohortSizes| match (sizes.trained, sizes.untrained) {
        (0, 0) => Some("no account is assigned"),
        (0, _) => Some("no assigned account is trained"),
        (_, 0) => Some("no assigned account is untrained"),
        _ => None,
    };
    if let Some(what) = missing(a) {
        return Err(Error::data_hint(
            format!(
                "cohorts at the end of the period (R = as_of {}): {what} ({a}): there is nothing to compare",
                pipeline.period.as_of
            ),
            format!(
                "check that `cohort.courses` and `cohort.min_courses` fit the training export, that its \
                 account ids are those of `accounts`, and that `cohort.window_days` ({}) leaves landmarks before as_of",
                pipeline.cohort.window_days
            ),
        ));
    }
    if let Some(what) = missing(found.at_start) {
        let period_metrics: Vec<String> = scope
            .period_metrics
            .iter()
            .map(|id| format!("`{id}`"))
            .collect();
        if !period_metrics.is_empty() {
            found.warnings.push(format!(
                "cohorts at the start of the period (R = {}): {what} ({}): the period metrics {} have no \
                 trained-vs-untrained comparison (a young programme, or a backfill?)",
                pipeline.period.start,
                found.at_start,
                period_metrics.join(", ")
            ));
        }
    }
    Ok(())
}

/// A rollup from `activity.table` must have rows up to the day before A: a
/// warehouse job that stopped would otherwise leave the last days empty,
/// and the event metrics would count them as days nobody was active. The
/// last day comes from the data rules' scan (the days read, and a day's
/// margin on each side).
fn check_rollup_days(
    inputs: &Inputs,
    pipeline: &Pipeline,
    scope: &super::Scope,
    report: &super::QualityReport,
) -> Result<()> {
    let Some(rollup) = inputs.get(SourceName::Events).filter(|s| s.is_rollup()) else {
        return Ok(());
    };
    // A rollup this run computed (spark, or the store's days) covers its
    // days by construction: a day without events is a day without rows.
    if pipeline.activity_engine != crate::config::ActivityEngine::Table || scope.activity.is_none()
    {
        return Ok(());
    }
    let needed = pipeline.period.as_of - chrono::Days::new(1);
    let last = report.day_span(SourceName::Events).map(|(_, last)| last);
    match last {
        Some(last) if last >= needed => Ok(()),
        _ => Err(Error::data(format!(
            "source `events` ({}) ends {}, but the run needs its days up to {needed} \
             (the day before as_of {}): the job that writes it has not run for the last days, or writes another \
             range. Run it for the missing days, or pass an earlier `--as-of`.",
            rollup.files_shown(),
            last.map_or("before the days the metrics read (no rows in them)".to_string(), |d| format!("on {d}")),
            pipeline.period.as_of
        ))),
    }
}
