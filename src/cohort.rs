//! The landmark cohort rule (docs/METRICS.md#cohorts), written once. Every metric takes its
//! cohort from the account frame built here.

use polars::prelude::*;

use crate::config::CohortConfig;
use crate::time::{add_days, customer_at, date_lit, Period};

/// Cohort labels.
pub const TRAINED: &str = "trained";
pub const UNTRAINED: &str = "untrained";
pub const UNASSIGNED: &str = "unassigned";
/// The column of the account frame, and of every unit frame, that holds
/// the account's stratum when the pipeline has `adjust`
/// (docs/STATISTICS.md, "Adjustment").
pub const STRATUM: &str = "stratum";

/// One row per account with its landmark and its cohort at both reference
/// dates:
///
/// `account_id`, segment columns, `signup_date`, `churn_date`,
/// `landmark_date`, `first_completed_at`, `courses_by_landmark`,
/// `cohort_at_start` (R = S) and `cohort_at_as_of` (R = A); a cohort is
/// `trained`, `untrained`, or null when the account is not assigned.
///
/// docs/METRICS.md#cohorts: "Landmark of an account: L = signup_date + W days. An account is
/// assigned at reference date R when L ≤ R and it is a customer at instant L.
/// An assigned account is trained when it completed at least min_courses
/// distinct qualifying courses with completed_at < L (completions before
/// signup count; course ids match exactly, case included); otherwise untrained."
pub fn account_frame(
    accounts: LazyFrame,
    training: Option<LazyFrame>,
    rule: &CohortConfig,
    period: &Period,
    segment_by: &[String],
) -> LazyFrame {
    let mut account_columns = vec![col("account_id")];
    account_columns.extend(segment_by.iter().map(|s| col(s.as_str())));
    account_columns.push(col("signup_date"));
    account_columns.push(col("churn_date"));
    let accounts = accounts
        .select(account_columns)
        .with_column(add_days(col("signup_date"), rule.window_days as i64).alias("landmark_date"));

    let completions = match training {
        Some(training) => qualifying_completions(training, rule, period),
        None => empty_completions(&accounts),
    };
    let completions = completions.join(
        accounts
            .clone()
            .select([col("account_id"), col("landmark_date")]),
        [col("account_id")],
        [col("account_id")],
        JoinArgs::new(JoinType::Inner),
    );
    let first_completed =
        completions
            .clone()
            .group_by([col("account_id")])
            .agg([col("completed_at").min().alias("first_completed_at")]);
    let by_landmark = completions
        .filter(col("completed_at").lt(col("landmark_date")))
        .group_by([col("account_id")])
        .agg([col("course_id")
            .n_unique()
            .cast(DataType::Int64)
            .alias("courses_by_landmark")]);
    let left = JoinArgs::new(JoinType::Left);

    let trained = col("courses_by_landmark").gt_eq(lit(rule.min_courses as i64));
    accounts
        .join(
            first_completed,
            [col("account_id")],
            [col("account_id")],
            left.clone(),
        )
        .join(by_landmark, [col("account_id")], [col("account_id")], left)
        .with_column(col("courses_by_landmark").fill_null(lit(0i64)))
        .with_columns([
            cohort_at(date_lit(period.start), trained.clone()).alias("cohort_at_start"),
            cohort_at(date_lit(period.as_of), trained).alias("cohort_at_as_of"),
        ])
}

/// The cohort at reference date `reference`: trained / untrained / null.
fn cohort_at(reference: Expr, trained: Expr) -> Expr {
    let assigned = col("landmark_date")
        .lt_eq(reference)
        .and(customer_at(col("landmark_date")));
    when(assigned)
        .then(when(trained).then(lit(TRAINED)).otherwise(lit(UNTRAINED)))
        .otherwise(lit(NULL).cast(DataType::String))
}

/// Completed rows of qualifying courses, observed before A.
fn qualifying_completions(training: LazyFrame, rule: &CohortConfig, period: &Period) -> LazyFrame {
    qualifying_rows(training, rule, period).select([
        col("account_id"),
        col("course_id"),
        col("completed_at"),
    ])
}

/// Completed rows of qualifying courses observed before A, all columns kept.
fn qualifying_rows(training: LazyFrame, rule: &CohortConfig, period: &Period) -> LazyFrame {
    let mut keep = col("completed_at")
        .is_not_null()
        .and(col("completed_at").lt(date_lit(period.as_of)));
    if let Some(courses) = &rule.courses {
        let list = Series::new("courses".into(), courses.clone());
        keep = keep.and(col("course_id").is_in(lit(list).implode(false), false));
    }
    training.filter(keep)
}

/// docs/METRICS.md#cohorts user level: "when training rows carry user_id, a user's cohort is
/// decided by the same rule from the user's own completions, with the user's
/// created_at (users table) in place of signup_date". The user is "a customer
/// at L" when its account is. `users` has one row per user with `user_id`,
/// `created_at` (null falls back to the account's signup date) and its
/// account's `signup_date` and `churn_date` (joined once by the caller);
/// every column is kept, and `landmark_date`, `courses_by_landmark` (null
/// without completions), `cohort_at_start`, `cohort_at_as_of` added.
pub fn user_cohorts(
    users: LazyFrame,
    training: LazyFrame,
    rule: &CohortConfig,
    period: &Period,
) -> LazyFrame {
    // Read twice below (the completions' landmarks, the result): computed once.
    let users = users
        .with_column(
            add_days(
                col("created_at").fill_null(col("signup_date")),
                rule.window_days as i64,
            )
            .alias("landmark_date"),
        )
        .cache();
    let courses = qualifying_rows(training, rule, period)
        .filter(col("user_id").is_not_null())
        .select([col("user_id"), col("course_id"), col("completed_at")])
        .join(
            users.clone().select([col("user_id"), col("landmark_date")]),
            [col("user_id")],
            [col("user_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("completed_at").lt(col("landmark_date")))
        .group_by([col("user_id")])
        .agg([col("course_id")
            .n_unique()
            .cast(DataType::Int64)
            .alias("courses_by_landmark")]);
    let trained = col("courses_by_landmark")
        .fill_null(lit(0i64))
        .gt_eq(lit(rule.min_courses as i64));
    users
        .join(
            courses,
            [col("user_id")],
            [col("user_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            cohort_at(date_lit(period.start), trained.clone()).alias("cohort_at_start"),
            cohort_at(date_lit(period.as_of), trained).alias("cohort_at_as_of"),
        ])
}

/// No completions, with the account id type of `accounts`.
fn empty_completions(accounts: &LazyFrame) -> LazyFrame {
    accounts
        .clone()
        .select([
            col("account_id"),
            lit(NULL).cast(DataType::String).alias("course_id"),
            lit(NULL).cast(DataType::Date).alias("completed_at"),
        ])
        .filter(lit(false))
}

/// The `cohort` column of the `account_cohorts` table: the cohort at R = A,
/// or `unassigned`.
pub fn cohort_label_at_as_of() -> Expr {
    col("cohort_at_as_of")
        .fill_null(lit(UNASSIGNED))
        .alias("cohort")
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use crate::testkit::*;

    fn cohorts(c: &crate::run::Computed, column: &str) -> Vec<String> {
        column_values(
            &c.outputs["account_cohorts"],
            lit(true),
            &["account_id"],
            column,
        )
    }

    #[test]
    fn landmark_rule_on_boundary_days() {
        // 1: c1 on L−1 → trained. 2: c1 on L → untrained. 3: `C1` (case differs) and c9 (not listed) → untrained.
        // 4: c2 before signup + c1 → trained. 5: signs up on S, completes c1 before L → trained at A.
        // 6: churn == signup: not a customer at L → unassigned. 7: trained. 8: no training → untrained.
        let c = Fixture::tiny().compute("[logo_retention]");
        assert_eq!(
            cohorts(&c, "account_id"),
            ["1", "2", "3", "4", "5", "6", "7", "8"]
        );
        assert_eq!(
            cohorts(&c, "cohort"),
            [
                "trained",
                "untrained",
                "untrained",
                "trained",
                "trained",
                "unassigned",
                "trained",
                "untrained"
            ]
        );
        assert_eq!(
            cohorts(&c, "courses_by_landmark"),
            ["1", "0", "0", "2", "1", "0", "1", "0"]
        );
        assert_eq!(cohorts(&c, "landmark_date")[0], "2025-01-31");
        assert_eq!(
            cohorts(&c, "first_completed_at")[..2],
            ["2025-01-20", "2025-01-31"]
        );
        assert_eq!(
            cohorts(&c, "plan"),
            ["a", "a", "b", "b", "a", "b", "a", "b"]
        );
    }

    #[test]
    fn min_courses_counts_distinct_courses() {
        // min_courses 2: only 4 (c2 + c1) qualifies; 1 completed c1 twice (one course).
        let c = Fixture::tiny().compute_cohort(
            "[logo_retention]",
            "{ window_days: 30, courses: [c1, c2], min_courses: 2 }",
        );
        assert_eq!(
            cohorts(&c, "cohort"),
            [
                "untrained",
                "untrained",
                "untrained",
                "trained",
                "untrained",
                "unassigned",
                "untrained",
                "untrained"
            ]
        );
    }

    #[test]
    fn without_course_list_every_course_counts() {
        // No `courses`: 3's `C1` and c9 (both before L) make it trained.
        let c = Fixture::tiny().compute_cohort("[logo_retention]", "{ window_days: 30 }");
        assert_eq!(cohorts(&c, "cohort")[2], "trained");
        assert_eq!(cohorts(&c, "courses_by_landmark")[2], "2");
    }

    #[test]
    fn window_days_moves_the_landmark() {
        // W = 10: 1's landmark is 2025-01-11; its completions (01-20, 01-30) come after → untrained.
        let c = Fixture::tiny()
            .compute_cohort("[logo_retention]", "{ window_days: 10, courses: [c1, c2] }");
        assert_eq!(cohorts(&c, "cohort")[0], "untrained");
        assert_eq!(cohorts(&c, "landmark_date")[0], "2025-01-11");
    }
}
