//! The rows of the `metrics` and `lift` tables (SPEC §7), how they are built
//! from an estimate, and typed access to the columns of a collected frame.

use polars::prelude::*;

use super::estimate::Estimate;
use super::kind::Direction;
use crate::error::{Error, Result};

/// What identifies a row besides its metric and cohort.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowKey {
    pub segment: Option<String>,
    pub dimension: Option<String>,
    /// Days since 1970-01-01.
    pub period_start: i32,
    pub period_end: i32,
}

/// A row of the `metrics` table (without run_id and as_of).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub metric: String,
    pub cohort: String,
    pub segment: Option<String>,
    pub dimension: Option<String>,
    /// Days since 1970-01-01.
    pub period_start: i32,
    pub period_end: i32,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n: i64,
}

impl MetricRow {
    /// The row of one cohort: its estimate and the number of units `n`.
    pub fn new(metric: &str, cohort: &str, key: &RowKey, estimate: Estimate, n: f64) -> MetricRow {
        MetricRow {
            metric: metric.to_string(),
            cohort: cohort.to_string(),
            segment: key.segment.clone(),
            dimension: key.dimension.clone(),
            period_start: key.period_start,
            period_end: key.period_end,
            numerator: estimate.numerator,
            denominator: estimate.denominator,
            value: estimate.value,
            ci_low: estimate.interval.map(|i| i.0),
            ci_high: estimate.interval.map(|i| i.1),
            n: n.round() as i64,
        }
    }
}

/// A row of the `lift` table (without run_id and as_of).
#[derive(Debug, Clone, PartialEq)]
pub struct LiftRow {
    pub metric: String,
    pub segment: Option<String>,
    pub dimension: Option<String>,
    pub period_start: i32,
    pub period_end: i32,
    pub trained_value: Option<f64>,
    pub untrained_value: Option<f64>,
    pub abs_diff: Option<f64>,
    pub rel_lift: Option<f64>,
    pub p_value: Option<f64>,
    pub significant: Option<bool>,
    pub direction: &'static str,
    pub n_trained: i64,
    pub n_untrained: i64,
}

impl LiftRow {
    /// SPEC §7 `lift`: trained against untrained for one key; each side is
    /// a value with its n.
    pub fn compare(
        metric: &str,
        key: &RowKey,
        trained: (Option<f64>, f64),
        untrained: (Option<f64>, f64),
        p_value: Option<f64>,
        alpha: f64,
        direction: Direction,
    ) -> LiftRow {
        let (t, u) = (trained.0, untrained.0);
        LiftRow {
            metric: metric.to_string(),
            segment: key.segment.clone(),
            dimension: key.dimension.clone(),
            period_start: key.period_start,
            period_end: key.period_end,
            trained_value: t,
            untrained_value: u,
            abs_diff: t.zip(u).map(|(t, u)| t - u),
            rel_lift: t
                .zip(u)
                .and_then(|(t, u)| if u == 0.0 { None } else { Some(t / u - 1.0) }),
            p_value,
            significant: p_value.map(|p| p < alpha),
            direction: direction.as_str(),
            n_trained: trained.1.round() as i64,
            n_untrained: untrained.1.round() as i64,
        }
    }
}

/// Sorts rows by their key columns (SPEC §7: "Rows sorted by their leading key columns").
pub fn sort_rows(metric_rows: &mut [MetricRow], lift_rows: &mut [LiftRow]) {
    metric_rows.sort_by(|a, b| {
        (
            &a.metric,
            &a.cohort,
            &a.segment,
            &a.dimension,
            a.period_start,
        )
            .cmp(&(
                &b.metric,
                &b.cohort,
                &b.segment,
                &b.dimension,
                b.period_start,
            ))
    });
    lift_rows.sort_by(|a, b| {
        (&a.metric, &a.segment, &a.dimension, a.period_start).cmp(&(
            &b.metric,
            &b.segment,
            &b.dimension,
            b.period_start,
        ))
    });
}

/// Typed columns of a small collected frame (aggregates, survival counts):
/// each accessor casts the column and names `what` in its error.
pub struct FrameColumns<'a> {
    frame: &'a DataFrame,
    what: &'static str,
}

impl<'a> FrameColumns<'a> {
    pub fn new(frame: &'a DataFrame, what: &'static str) -> Self {
        FrameColumns { frame, what }
    }

    /// Column `name` cast to `dtype`, read through `as_chunked`.
    fn typed<T: PolarsDataType>(
        &self,
        name: &str,
        dtype: DataType,
        as_chunked: fn(&Column) -> PolarsResult<&ChunkedArray<T>>,
    ) -> Result<ChunkedArray<T>> {
        let error = |e: PolarsError| Error::Other(format!("reading {}: {e}", self.what));
        let column = self
            .frame
            .column(name)
            .and_then(|c| c.cast(&dtype))
            .map_err(error)?;
        Ok(as_chunked(&column).map_err(error)?.clone())
    }

    pub fn text(&self, name: &str) -> Result<StringChunked> {
        self.typed(name, DataType::String, Column::str)
    }

    /// A date column as days since 1970-01-01.
    pub fn days(&self, name: &str) -> Result<Int32Chunked> {
        self.typed(name, DataType::Int32, Column::i32)
    }

    pub fn whole(&self, name: &str) -> Result<Int64Chunked> {
        self.typed(name, DataType::Int64, Column::i64)
    }

    pub fn index(&self, name: &str) -> Result<UInt32Chunked> {
        self.typed(name, DataType::UInt32, Column::u32)
    }

    pub fn number(&self, name: &str) -> Result<Float64Chunked> {
        self.typed(name, DataType::Float64, Column::f64)
    }

    pub fn flag(&self, name: &str) -> Result<BooleanChunked> {
        self.typed(name, DataType::Boolean, Column::bool)
    }

    pub fn height(&self) -> usize {
        self.frame.height()
    }
}
