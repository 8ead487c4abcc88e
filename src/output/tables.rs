//! The output tables: exact column names, order and types (SPEC §7).

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::summary::{LiftRow, MetricRow};
use crate::time::date_to_days;

/// Table names, in the order they are written.
pub const TABLES: [&str; 6] = [
    "metrics",
    "lift",
    "retention_curve",
    "revenue_movements",
    "account_cohorts",
    "account_health",
];

fn date_column(name: &str, days: Vec<Option<i32>>) -> Result<Column> {
    Column::new(name.into(), days)
        .cast(&DataType::Date)
        .map_err(|e| Error::Other(format!("building `{name}`: {e}")))
}

fn frame(table: &str, columns: Vec<Column>) -> Result<DataFrame> {
    DataFrame::new_infer_height(columns)
        .map_err(|e| Error::Other(format!("building table `{table}`: {e}")))
}

/// Adds `run_id` and `as_of` in front of a lazy table and orders its columns.
pub fn with_run_columns(
    frame: LazyFrame,
    run_id: &str,
    as_of: chrono::NaiveDate,
    columns: &[&str],
) -> LazyFrame {
    let mut select = vec![
        lit(run_id).alias("run_id"),
        crate::time::date_lit(as_of).alias("as_of"),
    ];
    select.extend(columns.iter().map(|c| col(*c)));
    frame.select(select)
}

/// The `metrics` table.
pub fn metrics_table(
    run_id: &str,
    as_of: chrono::NaiveDate,
    rows: &[MetricRow],
) -> Result<DataFrame> {
    let n = rows.len();
    let text = |f: &dyn Fn(&MetricRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let number = |f: &dyn Fn(&MetricRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    frame(
        "metrics",
        vec![
            Column::new("run_id".into(), vec![run_id; n]),
            date_column("as_of", vec![Some(date_to_days(as_of)); n])?,
            Column::new("metric".into(), text(&|r| Some(r.metric.clone()))),
            Column::new("cohort".into(), text(&|r| Some(r.cohort.clone()))),
            Column::new("segment".into(), text(&|r| r.segment.clone())),
            Column::new("dimension".into(), text(&|r| r.dimension.clone())),
            date_column(
                "period_start",
                rows.iter().map(|r| Some(r.period_start)).collect(),
            )?,
            date_column(
                "period_end",
                rows.iter().map(|r| Some(r.period_end)).collect(),
            )?,
            Column::new("numerator".into(), number(&|r| r.numerator)),
            Column::new("denominator".into(), number(&|r| r.denominator)),
            Column::new("value".into(), number(&|r| r.value)),
            Column::new("ci_low".into(), number(&|r| r.ci_low)),
            Column::new("ci_high".into(), number(&|r| r.ci_high)),
            Column::new("n".into(), rows.iter().map(|r| r.n).collect::<Vec<i64>>()),
        ],
    )
}

/// The `lift` table.
pub fn lift_table(run_id: &str, as_of: chrono::NaiveDate, rows: &[LiftRow]) -> Result<DataFrame> {
    let n = rows.len();
    let number = |f: &dyn Fn(&LiftRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    frame(
        "lift",
        vec![
            Column::new("run_id".into(), vec![run_id; n]),
            date_column("as_of", vec![Some(date_to_days(as_of)); n])?,
            Column::new(
                "metric".into(),
                rows.iter().map(|r| r.metric.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "segment".into(),
                rows.iter().map(|r| r.segment.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "dimension".into(),
                rows.iter().map(|r| r.dimension.clone()).collect::<Vec<_>>(),
            ),
            date_column(
                "period_start",
                rows.iter().map(|r| Some(r.period_start)).collect(),
            )?,
            date_column(
                "period_end",
                rows.iter().map(|r| Some(r.period_end)).collect(),
            )?,
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
                rows.iter().map(|r| r.direction).collect::<Vec<_>>(),
            ),
            Column::new(
                "n_trained".into(),
                rows.iter().map(|r| r.n_trained).collect::<Vec<i64>>(),
            ),
            Column::new(
                "n_untrained".into(),
                rows.iter().map(|r| r.n_untrained).collect::<Vec<i64>>(),
            ),
        ],
    )
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
        other => return Err(Error::Other(format!("no empty schema for table `{other}`"))),
    };
    frame(table, columns)
}
