//! Test helpers: a tiny dataset written as CSV files into a temporary
//! directory, run through the real pipeline (scan → check → plan → execute →
//! statistics). Expected values in the tests are computed by hand from the
//! tables below.
//!
//! A = 2026-01-01, months = 2 → S = 2025-11-01; complete months Nov and Dec
//! 2025; M0 = Oct 2025. W = 30 days; qualifying courses c1, c2.
//!
//! | id | signup | churn | plan | landmark | cohort at S | cohort at A | note |
//! |---|---|---|---|---|---|---|---|
//! | 1 | 2025-01-01 | – | a | 2025-01-31 | trained | trained | c1 twice (the last on L−1); c2 never completed |
//! | 2 | 2025-01-01 | 2025-11-01 | a | 2025-01-31 | untrained | untrained | c1 on L (too late); churns on S |
//! | 3 | 2025-01-01 | 2026-01-01 | b | 2025-01-31 | untrained | untrained | `C1` (case) and c9 don't qualify; churns on A |
//! | 4 | 2025-06-01 | 2025-12-01 | b | 2025-07-01 | trained | trained | c2 before signup and c1: 2 courses; churns on 1 Dec |
//! | 5 | 2025-11-01 | – | a | 2025-12-01 | – | trained | signs up on S |
//! | 6 | 2025-03-01 | 2025-03-01 | b | 2025-03-31 | – | – | churn == signup: never a customer |
//! | 7 | 2025-02-01 | 2025-10-15 | a | 2025-03-03 | trained | trained | churned before S |
//! | 8 | 2025-10-10 | – | b | 2025-11-09 | – | untrained | landmark after S |

use std::path::PathBuf;

use crate::run::{compute, load, Computed, RunOptions};
use crate::stats::{LiftRow, MetricRow};

mod catalog;
pub use catalog::*;

pub const ACCOUNTS: &str = "account_id,signup_date,churn_date,plan
1,2025-01-01,,a
2,2025-01-01,2025-11-01,a
3,2025-01-01,2026-01-01,b
4,2025-06-01,2025-12-01,b
5,2025-11-01,,a
6,2025-03-01,2025-03-01,b
7,2025-02-01,2025-10-15,a
8,2025-10-10,,b
";

pub const TRAINING: &str = "account_id,course_id,completed_at
1,c1,2025-01-30T12:00:00Z
1,c1,2025-01-20T00:00:00Z
1,c2,
2,c1,2025-01-31T00:00:00Z
3,C1,2025-01-05T00:00:00Z
3,c9,2025-01-10T00:00:00Z
4,c2,2025-05-20T00:00:00Z
4,c1,2025-06-15T00:00:00Z
5,c1,2025-11-15T00:00:00Z
7,c1,2025-02-10T00:00:00Z
";

/// Account 1 has two November rows (one dated mid-month) and a row on A
/// (not observed); account 99 is an orphan.
pub const REVENUE: &str = "account_id,month,mrr
1,2025-09-01,100
1,2025-10-01,100
1,2025-11-15,60
1,2025-11-01,60
1,2025-12-01,120
1,2026-01-01,999
2,2025-10-01,50
3,2025-08-01,80
3,2025-11-01,90
3,2025-12-01,70
4,2025-10-01,200
4,2025-11-01,200
4,2025-12-01,0
5,2025-11-01,40
5,2025-12-01,40
8,2025-10-01,30
8,2025-11-01,30
8,2025-12-01,45
99,2025-11-01,500
";

pub const NPS: &str = "account_id,responded_at,score
1,2025-11-01T00:00:00Z,10
1,2025-12-31T23:59:59Z,9
2,2026-01-01T00:00:00Z,0
3,2025-10-31T23:59:59Z,0
3,2025-11-10T10:00:00Z,6
4,2025-11-20T08:00:00Z,7
8,2025-12-01T00:00:00Z,3
";

pub const CSAT: &str = "account_id,responded_at,score
1,2025-11-02,5
1,2025-12-02,4
3,2025-11-03,2
4,2025-11-04,3
8,2025-12-05,4
2,2025-10-31,1
";

/// A temporary directory with input files and a pipeline.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// The tiny dataset above.
    pub fn tiny() -> Self {
        Fixture::new().with_files(&[
            ("accounts.csv", ACCOUNTS),
            ("training.csv", TRAINING),
            ("revenue.csv", REVENUE),
            ("nps.csv", NPS),
            ("csat.csv", CSAT),
        ])
    }

    /// Writes each (name, text) into the fixture's directory.
    pub fn with_files(self, files: &[(&str, &str)]) -> Self {
        for (name, text) in files {
            self.file(name, text);
        }
        self
    }

    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write fixture file");
        path
    }

    /// Writes a pipeline over the tiny dataset with the given `metrics:` list
    /// (YAML flow or block text) and extra top-level settings.
    pub fn pipeline(&self, metrics: &str, extra: &str) -> PathBuf {
        self.pipeline_with_cohort(
            metrics,
            "{ window_days: 30, courses: [c1, c2], min_courses: 1 }",
            extra,
        )
    }

    /// Like [`Fixture::pipeline`] with another `cohort:` block.
    pub fn pipeline_with_cohort(&self, metrics: &str, cohort: &str, extra: &str) -> PathBuf {
        let text = format!(
            "name: tiny
sources:
  accounts: {{ path: accounts.csv }}
  training: {{ path: training.csv }}
  revenue: {{ path: revenue.csv }}
  nps_responses: {{ path: nps.csv }}
  csat_responses: {{ path: csat.csv }}
cohort: {cohort}
period: {{ as_of: 2026-01-01, months: 2 }}
segment_by: [plan]
{extra}
metrics: {metrics}
output: {{ path: out }}
"
        );
        self.file("pipeline.yaml", &text)
    }

    pub fn compute(&self, metrics: &str) -> Computed {
        self.compute_with(metrics, "")
    }

    pub fn compute_with(&self, metrics: &str, extra: &str) -> Computed {
        self.compute_path(self.pipeline(metrics, extra))
    }

    pub fn compute_cohort(&self, metrics: &str, cohort: &str) -> Computed {
        self.compute_path(self.pipeline_with_cohort(metrics, cohort, ""))
    }

    pub fn compute_path(&self, path: PathBuf) -> Computed {
        compute(&self.job_at(path)).expect("pipeline computes")
    }

    /// The job of the pipeline at `path`.
    pub fn job_at(&self, path: PathBuf) -> crate::plan::Job {
        load(&RunOptions {
            pipeline: path,
            ..Default::default()
        })
        .expect("pipeline loads")
    }

    /// The job of `metrics` with three users (11 and 12 of account 1, 21
    /// of account 2) and the events of [`EVENTS`], and its inputs scanned.
    pub fn scan_users_and_events(
        &self,
        metrics: &str,
    ) -> (crate::plan::Job, crate::inputs::Inputs) {
        self.file("users.csv", "user_id,account_id\n11,1\n12,1\n21,2\n");
        self.file("events.csv", EVENTS);
        let sources = format!("  users: {{ path: users.csv }}\n{EVENTS_SOURCE}");
        let job = self.job_at(self.pipeline_with_sources(metrics, "training.csv", &sources));
        let inputs = crate::run::scan(&job, None).expect("inputs scan");
        (job, inputs)
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// The metrics row of (metric, cohort, segment, dimension); panics when absent.
pub fn row<'a>(
    c: &'a Computed,
    metric: &str,
    cohort: &str,
    segment: Option<&str>,
    dimension: Option<&str>,
) -> &'a MetricRow {
    c.metric_rows
        .iter()
        .find(|r| {
            r.metric == metric
                && r.cohort == cohort
                && r.segment.as_deref() == segment
                && r.dimension.as_deref() == dimension
        })
        .unwrap_or_else(|| panic!("no row {metric}/{cohort}/{segment:?}/{dimension:?}"))
}

/// The value of the overall (no segment, no dimension) row.
pub fn value(c: &Computed, metric: &str, cohort: &str) -> Option<f64> {
    row(c, metric, cohort, None, None).value
}

/// The value of (metric, cohort, no segment, dimension).
pub fn dimension_value(c: &Computed, metric: &str, cohort: &str, dimension: &str) -> Option<f64> {
    row(c, metric, cohort, None, Some(dimension)).value
}

/// The lift row of (metric, segment, dimension).
pub fn lift<'a>(c: &'a Computed, metric: &str, segment: Option<&str>) -> &'a LiftRow {
    c.lift_rows
        .iter()
        .find(|r| r.metric == metric && r.segment.as_deref() == segment && r.dimension.is_none())
        .unwrap_or_else(|| panic!("no lift row {metric}/{segment:?}"))
}

/// A lift row over 2025-11-01 to 2026-11-01 with the given values, interval,
/// p (and q) and counts, as the report reads it from the `lift` table.
pub fn lift_row(
    metric: &str,
    (trained, untrained): (f64, f64),
    (low, high): (f64, f64),
    p: f64,
    direction: crate::stats::Direction,
    (n_trained, n_untrained): (f64, f64),
) -> LiftRow {
    let side = |value: f64, n: f64| crate::stats::Side {
        value: Some(value),
        variance: None,
        n,
    };
    let key = crate::stats::RowKey {
        segment: None,
        dimension: None,
        period_start: day("2025-11-01"),
        period_end: day("2026-11-01"),
    };
    let mut row = LiftRow::compare(
        metric,
        &key,
        side(trained, n_trained),
        side(untrained, n_untrained),
        Some(p),
        0.05,
        direction,
    );
    (row.diff_ci_low, row.diff_ci_high, row.q_value) = (Some(low), Some(high), Some(p));
    row
}

pub fn assert_close(actual: Option<f64>, expected: f64) {
    let actual = actual.unwrap_or(f64::NAN);
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, got {actual}"
    );
}

/// Days since 1970-01-01 of a YYYY-MM-DD date.
pub fn day(text: &str) -> i32 {
    crate::time::date_to_days(chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date"))
}

/// Reads a table column as strings (nulls as "null") after filtering.
pub fn column_values(
    df: &polars::prelude::DataFrame,
    filter: polars::prelude::Expr,
    sort: &[&str],
    column: &str,
) -> Vec<String> {
    use polars::prelude::*;
    let out = df
        .clone()
        .lazy()
        .filter(filter)
        .sort(
            sort.to_vec(),
            SortMultipleOptions::default().with_nulls_last(false),
        )
        .collect()
        .expect("filter table");
    let values = out
        .column(column)
        .expect("column")
        .cast(&DataType::String)
        .expect("cast");
    let values = values.str().expect("strings");
    (0..values.len())
        .map(|i| values.get(i).unwrap_or("null").to_string())
        .collect()
}

/// Pipeline lines of the support and success tables.
const CATALOG_SOURCES: &str = "  tickets: { path: tickets.csv }\n  cancellations: { path: cancellations.csv }\n  touchpoints: { path: touchpoints.csv }\n  referrals: { path: referrals.csv }\n";
/// Pipeline line of the events table.
const EVENTS_SOURCE: &str = "  events: { path: events.csv }\n";

impl Fixture {
    /// The tiny dataset plus the support, success and education tables.
    pub fn catalog() -> Self {
        Fixture::tiny().with_files(&[
            ("tickets.csv", TICKETS),
            ("cancellations.csv", CANCELLATIONS),
            ("touchpoints.csv", TOUCHPOINTS),
            ("referrals.csv", REFERRALS),
            ("training_edu.csv", TRAINING_EDU),
        ])
    }

    /// Computes `metrics` over [`Fixture::catalog`]'s tables.
    pub fn compute_catalog(&self, metrics: &str) -> Computed {
        self.compute_with_sources(metrics, "training_edu.csv", CATALOG_SOURCES)
    }

    /// Computes `metrics` with `training` read from `training_file` and
    /// `extra_sources` (YAML lines) added to the pipeline's sources.
    pub fn compute_with_sources(
        &self,
        metrics: &str,
        training_file: &str,
        extra_sources: &str,
    ) -> Computed {
        self.compute_path(self.pipeline_with_sources(metrics, training_file, extra_sources))
    }

    /// The pipeline of [`Fixture::pipeline`] with `training` read from
    /// `training_file` and `extra_sources` (YAML lines) added to its sources.
    pub fn pipeline_with_sources(
        &self,
        metrics: &str,
        training_file: &str,
        extra_sources: &str,
    ) -> PathBuf {
        let text = std::fs::read_to_string(self.pipeline(metrics, ""))
            .expect("pipeline")
            .replace(
                "  training: { path: training.csv }\n",
                &format!("  training: {{ path: {training_file} }}\n{extra_sources}"),
            );
        self.file("with_sources.yaml", &text)
    }
}

/// The row of (metric, cohort, no segment, dimension) with the given period start.
pub fn row_at<'a>(
    c: &'a Computed,
    metric: &str,
    cohort: &str,
    dimension: Option<&str>,
    start: &str,
) -> &'a MetricRow {
    c.metric_rows
        .iter()
        .find(|r| {
            r.metric == metric
                && r.cohort == cohort
                && r.segment.is_none()
                && r.dimension.as_deref() == dimension
                && r.period_start == day(start)
        })
        .unwrap_or_else(|| panic!("no row {metric}/{cohort}/{dimension:?}/{start}"))
}

/// Product events. Customers in [S, A) are {1, 3, 4, 5, 8}; cohorts at S:
/// 1, 4 trained, 3 untrained, 5 and 8 unassigned.
pub const EVENTS: &str = "account_id,user_id,event_time,event_name
1,11,2025-12-31T23:59:00Z,login
1,11,2025-11-10T10:00:00Z,report_created
1,12,2025-12-20T10:00:00Z,login
1,11,2025-12-05T10:00:00Z,login
1,11,2025-12-06T10:00:00Z,login
1,12,2025-12-07T10:00:00Z,export
3,31,2026-01-01T00:00:00Z,login
3,31,2025-12-31T22:30:00-03:00,report_created
3,32,2025-12-10T10:00:00Z,login
4,41,2025-11-01T01:00:00+02:00,report_created
4,41,2025-12-28T10:00:00Z,login
5,51,2025-11-20T10:00:00Z,report_created
2,21,2025-12-15T10:00:00Z,login
";

impl Fixture {
    /// Computes `metrics` over the tiny dataset plus [`EVENTS`].
    pub fn compute_events(&self, metrics: &str) -> Computed {
        self.file("events.csv", EVENTS);
        self.compute_with_sources(metrics, "training.csv", EVENTS_SOURCE)
    }
}

impl Fixture {
    /// Computes `metrics` over the catalog tables and [`EVENTS`].
    pub fn compute_all(&self, metrics: &str) -> Computed {
        self.file("events.csv", EVENTS);
        self.compute_with_sources(
            metrics,
            "training_edu.csv",
            &format!("{CATALOG_SOURCES}{EVENTS_SOURCE}"),
        )
    }
}

/// The sample's naive churn row, in the `primary` family: 11.0 % against
/// 26.0 %, interval −20.6 to −9.4 pts, p = q = 0.0001, 552 and 1,099
/// accounts, smallest detectable difference 4.1 pts.
pub fn churn_lift_row() -> LiftRow {
    let mut row = lift_row(
        "churn_rate",
        (0.110, 0.260),
        (-0.206, -0.094),
        0.0001,
        crate::stats::Direction::LowerIsBetter,
        (552.0, 1099.0),
    );
    row.family = Some(crate::stats::Family::Primary);
    row.mde = Some(0.041);
    row
}

/// [`churn_lift_row`] adjusted by plan (stratify): −11.3 pts against an
/// adjusted untrained 22.3 %, interval −16.7 to −6.0 pts; its p- and
/// q-value are each test's to set.
pub fn adjusted_churn_lift_row() -> LiftRow {
    let mut row = churn_lift_row();
    row.adjusted.method = Some("stratify".into());
    row.adjusted.untrained_value = Some(0.223);
    row.adjusted.abs_diff = Some(-0.113);
    row.adjusted.ci_low = Some(-0.167);
    row.adjusted.ci_high = Some(-0.060);
    row
}
