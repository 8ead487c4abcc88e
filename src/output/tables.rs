//! The output tables: exact column names, order and types (docs/OUTPUTS.md).

use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::{Error, Result};
use crate::stats::{Adjusted, Direction, Family, FrameColumns, LiftRow, MetricRow};
use crate::time::{date_lit, date_to_days};

/// Table names, in the order they are written.
pub const TABLES: [&str; 9] = [
    "metrics",
    "lift",
    "impact",
    "retention_curve",
    "survival_curve",
    "revenue_movements",
    "account_cohorts",
    "account_health",
    "balance",
];

fn date_column(name: &str, days: Vec<Option<i32>>) -> Result<Column> {
    Column::new(name.into(), days)
        .cast(&DataType::Date)
        .map_err(|e| Error::other(format!("building `{name}`: {e}")))
}

fn frame(table: &str, columns: Vec<Column>) -> Result<DataFrame> {
    DataFrame::new_infer_height(columns)
        .map_err(|e| Error::other(format!("building table `{table}`: {e}")))
}

/// What every table of one run carries in front: `run_id` and `as_of`.
#[derive(Debug, Clone)]
pub struct RunColumns {
    pub run_id: String,
    pub as_of: NaiveDate,
}

impl RunColumns {
    fn exprs(&self) -> Vec<Expr> {
        vec![
            lit(self.run_id.as_str()).alias("run_id"),
            date_lit(self.as_of).alias("as_of"),
        ]
    }
}

/// Adds `run_id` and `as_of` in front of a lazy table and orders its columns.
fn with_run_columns(frame: LazyFrame, run: &RunColumns, columns: &[&str]) -> LazyFrame {
    let mut select = run.exprs();
    select.extend(columns.iter().map(|c| col(*c)));
    frame.select(select)
}

/// docs/OUTPUTS.md: a table of the plan stage in its published shape: its rows
/// sorted by the leading key columns, `run_id` and `as_of` in front, its
/// columns in order. `segment_by` columns follow `account_id` in
/// `account_cohorts`.
pub fn shape(table: &str, frame: LazyFrame, run: &RunColumns, segment_by: &[String]) -> LazyFrame {
    let sorted = |keys: &[&str]| {
        frame.clone().sort(
            keys.to_vec(),
            SortMultipleOptions::default().with_nulls_last(false),
        )
    };
    match table {
        "retention_curve" => with_run_columns(
            sorted(&["cohort", "segment", "signup_month", "months_since_signup"]),
            run,
            &RETENTION_CURVE_COLUMNS,
        ),
        "survival_curve" => with_run_columns(
            sorted(&["cohort", "segment", "day"]),
            run,
            &SURVIVAL_CURVE_COLUMNS,
        ),
        "revenue_movements" => with_run_columns(
            sorted(&["month", "cohort", "segment", "movement"]),
            run,
            &REVENUE_MOVEMENTS_COLUMNS,
        ),
        "balance" => with_run_columns(frame, run, &crate::strata::BALANCE_COLUMNS),
        "account_cohorts" => {
            let mut columns: Vec<&str> = vec!["account_id"];
            columns.extend(segment_by.iter().map(String::as_str));
            columns.extend(ACCOUNT_COHORTS_COLUMNS);
            let sorted = frame.sort(["account_id"], SortMultipleOptions::default());
            with_run_columns(sorted, run, &columns)
        }
        // account_health: account_id, cohort, health_score, then one column per configured signal.
        _ => {
            let mut select = run.exprs();
            select.push(col("*"));
            frame
                .sort(["account_id"], SortMultipleOptions::default())
                .select(select)
        }
    }
}

/// docs/OUTPUTS.md: `account_id` is a String column sorted as text, also when the
/// run compared integer ids as integers (see `build_source`): cast and
/// re-sort the per-account tables.
pub fn ids_as_text(df: DataFrame) -> Result<DataFrame> {
    match df.schema().get("account_id") {
        Some(DataType::String) | None => Ok(df),
        Some(_) => df
            .lazy()
            .with_column(col("account_id").cast(DataType::String))
            .sort(
                ["account_id"],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .collect()
            .map_err(|e| Error::engine("writing account ids as text", e)),
    }
}

/// The leading columns of a `metrics` or `lift` row.
struct Leading<'a> {
    metric: &'a str,
    /// `metrics` only.
    cohort: Option<&'a str>,
    segment: Option<&'a str>,
    dimension: Option<&'a str>,
    period_start: i32,
    period_end: i32,
}

impl<'a> Leading<'a> {
    fn new(
        metric: &'a str,
        cohort: Option<&'a str>,
        segment: &'a Option<String>,
        dimension: &'a Option<String>,
        (period_start, period_end): (i32, i32),
    ) -> Self {
        Leading {
            metric,
            cohort,
            segment: segment.as_deref(),
            dimension: dimension.as_deref(),
            period_start,
            period_end,
        }
    }
}

/// `run_id`, `as_of`, `metric`, `cohort` (when the rows have one), `segment`,
/// `dimension`, `period_start`, `period_end`.
fn leading_columns(run: &RunColumns, rows: &[Leading], with_cohort: bool) -> Result<Vec<Column>> {
    let n = rows.len();
    let text = |f: &dyn Fn(&Leading) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let days = |f: &dyn Fn(&Leading) -> i32| rows.iter().map(|r| Some(f(r))).collect();
    let mut columns = vec![
        Column::new("run_id".into(), vec![run.run_id.as_str(); n]),
        date_column("as_of", vec![Some(date_to_days(run.as_of)); n])?,
        Column::new("metric".into(), text(&|r| Some(r.metric.to_string()))),
    ];
    if with_cohort {
        columns.push(Column::new(
            "cohort".into(),
            text(&|r| r.cohort.map(str::to_string)),
        ));
    }
    columns.extend([
        Column::new("segment".into(), text(&|r| r.segment.map(str::to_string))),
        Column::new(
            "dimension".into(),
            text(&|r| r.dimension.map(str::to_string)),
        ),
        date_column("period_start", days(&|r| r.period_start))?,
        date_column("period_end", days(&|r| r.period_end))?,
    ]);
    Ok(columns)
}

/// The `metrics` table.
pub fn metrics_table(run: &RunColumns, rows: &[MetricRow]) -> Result<DataFrame> {
    let leading: Vec<Leading> = rows
        .iter()
        .map(|r| {
            let period = (r.period_start, r.period_end);
            Leading::new(&r.metric, Some(&r.cohort), &r.segment, &r.dimension, period)
        })
        .collect();
    let mut columns = leading_columns(run, &leading, true)?;
    let number = |f: &dyn Fn(&MetricRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    columns.extend([
        Column::new("numerator".into(), number(&|r| r.numerator)),
        Column::new("denominator".into(), number(&|r| r.denominator)),
        Column::new("value".into(), number(&|r| r.value)),
        Column::new("ci_low".into(), number(&|r| r.ci_low)),
        Column::new("ci_high".into(), number(&|r| r.ci_high)),
        Column::new("n".into(), rows.iter().map(|r| r.n).collect::<Vec<i64>>()),
        Column::new(
            "clusters".into(),
            rows.iter().map(|r| r.clusters).collect::<Vec<_>>(),
        ),
    ]);
    frame("metrics", columns)
}

/// The `lift` table.
pub fn lift_table(run: &RunColumns, rows: &[LiftRow]) -> Result<DataFrame> {
    let leading: Vec<Leading> = rows
        .iter()
        .map(|r| {
            let period = (r.period_start, r.period_end);
            Leading::new(&r.metric, None, &r.segment, &r.dimension, period)
        })
        .collect();
    let mut columns = leading_columns(run, &leading, false)?;
    let number = |f: &dyn Fn(&LiftRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let whole = |f: &dyn Fn(&LiftRow) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
    let optional =
        |f: &dyn Fn(&LiftRow) -> Option<i64>| rows.iter().map(f).collect::<Vec<Option<i64>>>();
    let text = |f: &dyn Fn(&LiftRow) -> Option<String>| {
        rows.iter().map(f).collect::<Vec<Option<String>>>()
    };
    columns.extend([
        Column::new("trained_value".into(), number(&|r| r.trained_value)),
        Column::new("untrained_value".into(), number(&|r| r.untrained_value)),
        Column::new("abs_diff".into(), number(&|r| r.abs_diff)),
        Column::new("rel_lift".into(), number(&|r| r.rel_lift)),
        Column::new("p_value".into(), number(&|r| r.p_value)),
        Column::new(
            "significant".into(),
            rows.iter().map(|r| r.significant).collect::<Vec<_>>(),
        ),
        Column::new(
            "direction".into(),
            rows.iter()
                .map(|r| r.direction.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new("n_trained".into(), whole(&|r| r.n_trained)),
        Column::new("n_untrained".into(), whole(&|r| r.n_untrained)),
        Column::new("diff_ci_low".into(), number(&|r| r.diff_ci_low)),
        Column::new("diff_ci_high".into(), number(&|r| r.diff_ci_high)),
        Column::new("mde".into(), number(&|r| r.mde)),
        Column::new("e_value".into(), number(&|r| r.e_value)),
        Column::new("e_value_ci".into(), number(&|r| r.e_value_ci)),
        Column::new(
            "family".into(),
            rows.iter()
                .map(|r| r.family.map(|f| f.as_str()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "adjusted_untrained_value".into(),
            number(&|r| r.adjusted.untrained_value),
        ),
        Column::new("adjusted_abs_diff".into(), number(&|r| r.adjusted.abs_diff)),
        Column::new("adjusted_ci_low".into(), number(&|r| r.adjusted.ci_low)),
        Column::new("adjusted_ci_high".into(), number(&|r| r.adjusted.ci_high)),
        Column::new("adjusted_p_value".into(), number(&|r| r.adjusted.p_value)),
        Column::new("adjust_method".into(), text(&|r| r.adjusted.method.clone())),
        Column::new(
            "n_trained_adjusted".into(),
            optional(&|r| r.adjusted.n_trained),
        ),
        Column::new(
            "n_untrained_adjusted".into(),
            optional(&|r| r.adjusted.n_untrained),
        ),
        Column::new("adjusted_note".into(), text(&|r| r.adjusted.note.clone())),
        Column::new("adjusted_mde".into(), number(&|r| r.adjusted.mde)),
        Column::new("adjusted_e_value".into(), number(&|r| r.adjusted.e_value)),
        Column::new(
            "adjusted_e_value_ci".into(),
            number(&|r| r.adjusted.e_value_ci),
        ),
        Column::new("q_value".into(), number(&|r| r.q_value)),
        Column::new("adjusted_q_value".into(), number(&|r| r.adjusted.q_value)),
    ]);
    frame("lift", columns)
}

/// The rows of a `lift` table as written by [`lift_table`]: what the report
/// renders is this one row type of the statistics stage. The columns not in
/// the table (the CMH cross-check and the overlap shares, docs/OUTPUTS.md#lift)
/// read as null and 0.
pub fn read_lift(df: &DataFrame) -> Result<Vec<LiftRow>> {
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    let c = FrameColumns::new(df, "lift");
    let (metric, segment, dimension) =
        (c.text("metric")?, c.text("segment")?, c.text("dimension")?);
    let (period_start, period_end) = (c.days("period_start")?, c.days("period_end")?);
    let number = |name: &str| c.number(name);
    let (trained, untrained, abs_diff, rel_lift) = (
        number("trained_value")?,
        number("untrained_value")?,
        number("abs_diff")?,
        number("rel_lift")?,
    );
    let (p, q, significant) = (
        number("p_value")?,
        number("q_value")?,
        c.flag("significant")?,
    );
    let direction = c.text("direction")?;
    let (n1, n0) = (c.whole("n_trained")?, c.whole("n_untrained")?);
    let (low, high) = (number("diff_ci_low")?, number("diff_ci_high")?);
    let (a_untrained, a_diff, a_low, a_high) = (
        number("adjusted_untrained_value")?,
        number("adjusted_abs_diff")?,
        number("adjusted_ci_low")?,
        number("adjusted_ci_high")?,
    );
    let (a_p, a_q) = (number("adjusted_p_value")?, number("adjusted_q_value")?);
    let (mde, e_value, e_value_ci) = (number("mde")?, number("e_value")?, number("e_value_ci")?);
    let (a_mde, a_e_value, a_e_value_ci) = (
        number("adjusted_mde")?,
        number("adjusted_e_value")?,
        number("adjusted_e_value_ci")?,
    );
    let family = c.text("family")?;
    let (method, note) = (c.text("adjust_method")?, c.text("adjusted_note")?);
    let (a_n1, a_n0) = (
        c.whole("n_trained_adjusted")?,
        c.whole("n_untrained_adjusted")?,
    );
    let text = |column: &StringChunked, i: usize| column.get(i).map(str::to_string);
    (0..df.height())
        .map(|i| {
            let named = direction.get(i).unwrap_or_default();
            let direction = Direction::from_name(named).ok_or_else(|| {
                Error::other(format!(
                    "table `lift`, row {}: direction `{named}` is neither higher_is_better nor lower_is_better",
                    i + 1
                ))
            })?;
            let family = match family.get(i) {
                None => None,
                Some(name) => Some(Family::from_name(name).ok_or_else(|| {
                    Error::other(format!(
                        "table `lift`, row {}: family `{name}` is none of primary, secondary, guardrail, exploratory",
                        i + 1
                    ))
                })?),
            };
            let required = |value: Option<i32>, column: &str| {
                value.ok_or_else(|| {
                    Error::other(format!("table `lift`, row {}: `{column}` is null", i + 1))
                })
            };
            Ok(LiftRow {
                metric: text(&metric, i).unwrap_or_default(),
                segment: text(&segment, i),
                dimension: text(&dimension, i),
                period_start: required(period_start.get(i), "period_start")?,
                period_end: required(period_end.get(i), "period_end")?,
                trained_value: trained.get(i),
                untrained_value: untrained.get(i),
                abs_diff: abs_diff.get(i),
                rel_lift: rel_lift.get(i),
                p_value: p.get(i),
                significant: significant.get(i),
                direction,
                n_trained: n1.get(i).unwrap_or(0),
                n_untrained: n0.get(i).unwrap_or(0),
                diff_ci_low: low.get(i),
                diff_ci_high: high.get(i),
                mde: mde.get(i),
                e_value: e_value.get(i),
                e_value_ci: e_value_ci.get(i),
                family,
                adjusted: Adjusted {
                    untrained_value: a_untrained.get(i),
                    abs_diff: a_diff.get(i),
                    ci_low: a_low.get(i),
                    ci_high: a_high.get(i),
                    p_value: a_p.get(i),
                    method: text(&method, i),
                    n_trained: a_n1.get(i),
                    n_untrained: a_n0.get(i),
                    note: text(&note, i),
                    e_value: a_e_value.get(i),
                    e_value_ci: a_e_value_ci.get(i),
                    mde: a_mde.get(i),
                    q_value: a_q.get(i),
                    ..Adjusted::default()
                },
                q_value: q.get(i),
            })
        })
        .collect()
}

/// Columns of `retention_curve` after run_id and as_of.
pub const RETENTION_CURVE_COLUMNS: [&str; 7] = [
    "cohort",
    "segment",
    "signup_month",
    "months_since_signup",
    "at_risk",
    "retained",
    "rate",
];
/// Columns of `survival_curve` after run_id and as_of.
pub const SURVIVAL_CURVE_COLUMNS: [&str; 9] = [
    "cohort", "segment", "day", "at_risk", "events", "censored", "survival", "ci_low", "ci_high",
];
/// Columns of `account_cohorts` after run_id, as_of, account_id and the
/// segment columns.
const ACCOUNT_COHORTS_COLUMNS: [&str; 5] = [
    "signup_date",
    "landmark_date",
    "cohort",
    "first_completed_at",
    "courses_by_landmark",
];
/// Columns of `revenue_movements` after run_id and as_of.
pub const REVENUE_MOVEMENTS_COLUMNS: [&str; 6] =
    ["month", "cohort", "segment", "movement", "mrr", "accounts"];

/// An empty table with the schema of `table` (for tables whose metric is not
/// configured, so that every partition has the same files).
pub fn empty_table(table: &str) -> Result<DataFrame> {
    let s = |name: &str| Column::new_empty(name.into(), &DataType::String);
    let d = |name: &str| Column::new_empty(name.into(), &DataType::Date);
    let i = |name: &str| Column::new_empty(name.into(), &DataType::Int64);
    let f = |name: &str| Column::new_empty(name.into(), &DataType::Float64);
    let columns = match table {
        "retention_curve" => vec![
            s("run_id"),
            d("as_of"),
            s("cohort"),
            s("segment"),
            d("signup_month"),
            i("months_since_signup"),
            i("at_risk"),
            i("retained"),
            f("rate"),
        ],
        "survival_curve" => {
            let mut columns = vec![s("run_id"), d("as_of"), s("cohort"), s("segment")];
            columns.extend(["day", "at_risk", "events", "censored"].map(i));
            columns.extend(["survival", "ci_low", "ci_high"].map(f));
            columns
        }
        "revenue_movements" => {
            vec![
                s("run_id"),
                d("as_of"),
                d("month"),
                s("cohort"),
                s("segment"),
                s("movement"),
                f("mrr"),
                i("accounts"),
            ]
        }
        "account_health" => vec![
            s("run_id"),
            d("as_of"),
            s("account_id"),
            s("cohort"),
            f("health_score"),
        ],
        "balance" => {
            let mut columns = vec![s("run_id"), d("as_of"), s("covariate"), s("level")];
            columns.extend(crate::strata::BALANCE_COLUMNS[2..].iter().map(|c| f(c)));
            columns
        }
        other => return Err(Error::other(format!("no empty schema for table `{other}`"))),
    };
    frame(table, columns)
}

#[cfg(test)]
#[path = "tables_tests.rs"]
mod tests;
