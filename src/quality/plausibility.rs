//! Plausibility checks: the inputs pass every SPEC §4 rule, but would they
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
//! - **Activity rollup**: a rollup read from `activity.table` must reach
//!   the day before as_of (an error: a rollup job that did not run would
//!   otherwise count its missing days as days without activity).

use polars::prelude::*;

use super::report::{count_of, values_shown};
use super::{number_of, text_of};
use crate::cohort::{self, TRAINED, UNTRAINED};
use crate::config::{Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::metrics::Reference;

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
    pub warnings: Vec<String>,
}

/// How many ids a message lists.
const IDS_SHOWN: usize = 10;

/// Runs the checks (one `collect_all`: the course ids of `training` and the
/// cohort counts). Errors (exit 3) name what is wrong and how to fix it.
pub fn check(
    inputs: &Inputs,
    pipeline: &Pipeline,
    report: &super::QualityReport,
) -> Result<Plausibility> {
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
    let revenue = inputs.get(SourceName::Revenue).is_some();
    let invoices = pipeline
        .sources
        .get(&SourceName::Revenue)
        .is_some_and(|r| r.config.grain == Some(crate::config::Grain::Invoice));
    if revenue {
        plans.extend(revenue_grain_plans(inputs.frame(SourceName::Revenue)?));
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
            (total > 0 && share < pipeline.min_user_overlap).then_some((side, share, total))
        })
        .collect();
    for (side, _, _) in &short_sides {
        plans.extend(overlap_plans(
            user_ids(inputs.frame(side.source())?),
            user_ids(inputs.frame(SourceName::Users)?),
        ));
    }
    let mut results = crate::execute::collect_all(plans, "checking the cohorts")?.into_iter();
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
        check_courses(inputs, &found.courses, &seen)?;
    }
    if revenue {
        let grain: Vec<DataFrame> = (0..3).map(|_| results.next().unwrap_or_default()).collect();
        check_revenue_grain(pipeline, &grain, &mut found);
    }
    if invoices {
        negative_months(&results.next().unwrap_or_default())?;
    }
    for (side, share, total) in &short_sides {
        let examples: Vec<DataFrame> = (0..2).map(|_| results.next().unwrap_or_default()).collect();
        user_overlap_error(pipeline, *side, *share, *total, &examples)?;
    }
    check_rollup_days(inputs, pipeline, report)?;
    if has_training {
        check_cohorts(pipeline, &mut found)?;
    } else {
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

/// (course_id, rows) from the group-by, most rows first.
fn course_rows(df: &DataFrame) -> Vec<(String, u64)> {
    let (Ok(ids), Ok(rows)) = (df.column("course_id"), df.column("rows")) else {
        return Vec::new();
    };
    let (Ok(ids), Ok(rows)) = (ids.str(), rows.u64()) else {
        return Vec::new();
    };
    let mut seen: Vec<(String, u64)> = ids
        .iter()
        .zip(rows.iter())
        .filter_map(|(id, n)| Some((id?.to_string(), n.unwrap_or(0))))
        .collect();
    seen.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    seen
}

/// Every entry of `cohort.courses` must match a course id of `training`.
fn check_courses(
    inputs: &Inputs,
    configured: &[(String, u64)],
    seen: &[(String, u64)],
) -> Result<()> {
    let unmatched: Vec<&String> = configured
        .iter()
        .filter(|(_, rows)| *rows == 0)
        .map(|(c, _)| c)
        .collect();
    if unmatched.is_empty() {
        return Ok(());
    }
    let files = inputs
        .get(SourceName::Training)
        .map(|t| t.files_shown())
        .unwrap_or_default();
    let mut message = format!(
        "`cohort.courses` names {} course(s) that match no `course_id` of source `training` ({files}); \
         course ids match exactly, case included:",
        unmatched.len()
    );
    for course in &unmatched {
        let mut ranked: Vec<&(String, u64)> = seen.iter().collect();
        ranked.sort_by_key(|(id, rows)| (distance(course, id), std::cmp::Reverse(*rows)));
        let closest = ranked
            .iter()
            .take(IDS_SHOWN)
            .map(|(id, rows)| format!("`{id}` ({rows} rows)"))
            .collect::<Vec<_>>()
            .join(", ");
        message.push_str(&format!(
            "\n  - `{course}`: the ids seen, closest first: {}",
            if closest.is_empty() {
                "none (no completed row has a course id)".into()
            } else {
                closest
            }
        ));
    }
    message.push_str(&format!(
        "\nhint: copy the ids as written in the training export ({} distinct ids seen)",
        seen.len()
    ));
    Err(Error::Data(message))
}

/// With a `training` source, the cohorts must have both sides at R = A
/// (an error otherwise) and should at R = S (a warning).
fn check_cohorts(pipeline: &Pipeline, found: &mut Plausibility) -> Result<()> {
    let a = found.at_as_of;
    let missing = |sizes: CohortSizes| match (sizes.trained, sizes.untrained) {
        (0, 0) => Some("no account is assigned"),
        (0, _) => Some("no assigned account is trained"),
        (_, 0) => Some("no assigned account is untrained"),
        _ => None,
    };
    if let Some(what) = missing(a) {
        return Err(Error::Data(format!(
            "cohorts at the end of the period (R = as_of {}): {what} ({a}): there is nothing to compare\n\
             hint: check that `cohort.courses` and `cohort.min_courses` fit the training export, that its \
             account ids are those of `accounts`, and that `cohort.window_days` ({}) leaves landmarks before as_of",
            pipeline.period.as_of, pipeline.cohort.window_days
        )));
    }
    if let Some(what) = missing(found.at_start) {
        let period_metrics: Vec<String> = pipeline
            .metrics
            .iter()
            .filter(|m| m.metric().compares_at() == Reference::PeriodStart)
            .map(|m| format!("`{}`", m.id()))
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

/// Three one-row-or-small plans over revenue at month grain: the share of
/// rows not on the 1st; the (account, month) pairs with several rows; the
/// largest month-over-month rise of an account's MRR.
fn revenue_grain_plans(revenue: LazyFrame) -> Vec<LazyFrame> {
    let month = col("month").dt().month_start().alias("month_start");
    let shares = revenue.clone().select([
        len().cast(DataType::UInt64).alias("rows"),
        col("month")
            .dt()
            .day()
            .neq(lit(1))
            .cast(DataType::UInt64)
            .sum()
            .alias("off_grain"),
    ]);
    let per_month = revenue.clone().group_by([col("account_id"), month]).agg([
        len().cast(DataType::UInt64).alias("copies"),
        col("mrr").sum().alias("mrr"),
    ]);
    let duplicates = per_month
        .clone()
        .filter(col("copies").gt(lit(1u64)))
        .select([len().cast(DataType::UInt64).alias("pairs")]);
    let previous = per_month.clone().select([
        col("account_id"),
        col("month_start")
            .dt()
            .offset_by(lit("1mo"))
            .alias("month_start"),
        col("mrr").alias("previous"),
    ]);
    let jump = per_month
        .join(
            previous,
            [col("account_id"), col("month_start")],
            [col("account_id"), col("month_start")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("previous").gt(lit(0.0)))
        .with_column((col("mrr") / col("previous")).alias("ratio"))
        .sort(
            ["ratio"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .limit(1)
        .select([
            col("account_id").cast(DataType::String),
            col("month_start"),
            col("previous"),
            col("mrr"),
            col("ratio"),
        ]);
    vec![shares, duplicates, jump]
}

/// Warns when revenue does not look like month grain.
fn check_revenue_grain(pipeline: &Pipeline, grain: &[DataFrame], found: &mut Plausibility) {
    let rows = number_of(&grain[0], "rows");
    if rows == 0.0 {
        return;
    }
    let share = number_of(&grain[0], "off_grain") / rows;
    if share <= pipeline.max_off_grain_share {
        return;
    }
    let pairs = number_of(&grain[1], "pairs");
    let jump = if grain[2].height() > 0 {
        let text = |column: &str| text_of(&grain[2], column, 0).unwrap_or_default();
        format!(
            "; the largest month-over-month rise is ×{:.1} (account `{}`, {}: {:.2} after {:.2})",
            number_of(&grain[2], "ratio"),
            text("account_id"),
            text("month_start"),
            number_of(&grain[2], "mrr"),
            number_of(&grain[2], "previous")
        )
    } else {
        String::new()
    };
    found.warnings.push(format!(
        "source `revenue` does not look like one row per account and month: {:.0} % of its rows are not dated on the 1st (above quality.max_off_grain_share {:.0} %), {pairs} (account, month) pair(s) have several rows{jump}. Invoices (an annual invoice read as one month of 12× MRR) give wrong revenue metrics: declare `grain: invoice` on `sources.revenue` if these are invoices",
        share * 100.0,
        pipeline.max_off_grain_share * 100.0
    ));
}

/// Invoices whose sum for an account and month is negative (refunds beyond
/// the charges) cannot be monthly revenue: an error naming them.
fn negative_months(df: &DataFrame) -> Result<()> {
    if df.height() == 0 {
        return Ok(());
    }
    let text = |column: &str, i: usize| text_of(df, column, i).unwrap_or_default();
    let sums = df.column("mrr").ok().and_then(|c| c.f64().ok().cloned());
    let examples: Vec<String> = (0..df.height().min(5))
        .map(|i| {
            format!(
                "account `{}`, {}: {:.2}",
                text("account_id", i),
                text("month", i),
                sums.as_ref().and_then(|s| s.get(i)).unwrap_or(0.0)
            )
        })
        .collect();
    Err(Error::Data(format!(
        "source `revenue` (grain: invoice): {} account-month(s) sum to a negative amount (refunds beyond the \
         charges of the month), which is not revenue: {}",
        df.height(),
        examples.join("; ")
    )))
}

/// Which side keys users: `events` or `training`.
#[derive(Debug, Clone, Copy)]
enum UserSide {
    Events,
    Training,
}

impl UserSide {
    fn source(self) -> SourceName {
        match self {
            UserSide::Events => SourceName::Events,
            UserSide::Training => SourceName::Training,
        }
    }
}

fn user_ids(frame: LazyFrame) -> LazyFrame {
    frame
        .select([col("user_id")])
        .filter(col("user_id").is_not_null())
        .unique(None, UniqueKeepStrategy::Any)
}

/// Examples of a side's user ids missing from `users`, and of `users`' ids.
fn overlap_plans(ids: LazyFrame, users: LazyFrame) -> Vec<LazyFrame> {
    let examples = |frame: LazyFrame| {
        frame
            .select([col("user_id").cast(DataType::String)])
            .sort(["user_id"], SortMultipleOptions::default())
            .limit(5)
    };
    vec![
        examples(ids.anti_join(users.clone(), col("user_id"), col("user_id"))),
        examples(users),
    ]
}

/// Too few rows of a side have a user of `users`: the error, with examples.
fn user_overlap_error(
    pipeline: &Pipeline,
    side: UserSide,
    share: f64,
    total: u64,
    examples: &[DataFrame],
) -> Result<()> {
    let shown = |df: &DataFrame| values_shown(df, "user_id");
    let source = side.source();
    Err(Error::Data(format!(
        "source `{source}`: {:.0} % of its {total} rows with a user id have a user of `users`, below \
         quality.min_user_overlap {:.0} %: user-level metrics would find almost no one\n\
         e.g. in `{source}`: {}; in `users`: {}\n\
         hint: the two sources key users differently (an email against an id?): map the same id in `columns` of both",
        share * 100.0,
        pipeline.min_user_overlap * 100.0,
        shown(&examples[0]),
        shown(&examples[1])
    )))
}

/// Edit distance between two ids, ignoring case (for "closest first").
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::distance;

    #[test]
    fn edit_distance_ignores_case() {
        assert_eq!(distance("Admin Fundamentals", "admin fundamentals"), 0);
        assert_eq!(distance("Admin Fundamentalz", "Admin Fundamentals"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }
}

/// A rollup from `activity.table` must have rows up to the day before A: a
/// warehouse job that stopped would otherwise leave the last days empty,
/// and the event metrics would count them as days nobody was active. The
/// last day comes from the data rules' scan (the days read, and a day's
/// margin on each side).
fn check_rollup_days(
    inputs: &Inputs,
    pipeline: &Pipeline,
    report: &super::QualityReport,
) -> Result<()> {
    let Some(rollup) = inputs.get(SourceName::Events).filter(|s| s.is_rollup()) else {
        return Ok(());
    };
    // A rollup this run computed (spark, or the store's days) covers its
    // days by construction: a day without events is a day without rows.
    if pipeline.activity_engine != crate::config::ActivityEngine::Table
        || crate::activity::range(pipeline).is_none()
    {
        return Ok(());
    }
    let needed = pipeline.period.as_of - chrono::Days::new(1);
    let last = report.day_span(SourceName::Events).map(|(_, last)| last);
    match last {
        Some(last) if last >= needed => Ok(()),
        _ => Err(Error::Data(format!(
            "source `events` ({}) ends {}, but the run needs its days up to {needed} \
             (the day before as_of {}): the job that writes it has not run for the last days, or writes another \
             range. Run it for the missing days, or pass an earlier `--as-of`.",
            rollup.files_shown(),
            last.map_or("before the days the metrics read (no rows in them)".to_string(), |d| format!("on {d}")),
            pipeline.period.as_of
        ))),
    }
}
