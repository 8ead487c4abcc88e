//! The rows of the `metrics` and `lift` tables (docs/OUTPUTS.md), how they are built
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
    /// Accounts behind the row (docs/STATISTICS.md: "`metrics` carries the number of
    /// accounts in a `clusters` column"); null where units are not counted
    /// by account (medians, associations).
    pub clusters: Option<i64>,
}

impl MetricRow {
    /// The row of one cohort: its estimate, the number of units `n` and the
    /// accounts behind them.
    pub fn new(
        metric: &str,
        cohort: &str,
        key: &RowKey,
        estimate: Estimate,
        n: f64,
        clusters: Option<f64>,
    ) -> MetricRow {
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
            clusters: clusters.map(|c| c.round() as i64),
        }
    }
}

/// One cohort's side of a comparison: its value, the variance of that value
/// (docs/STATISTICS.md, unpooled) and its number of units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Side {
    pub value: Option<f64>,
    pub variance: Option<f64>,
    pub n: f64,
}

impl Side {
    /// The Wald test of this side against `other`: z from the difference
    /// and the two variances (null where either is unknown).
    pub fn wald_p(&self, other: &Side) -> Option<f64> {
        let (a, b) = (self.value?, other.value?);
        super::formulas::p_from_diff(a - b, (self.variance? + other.variance?).sqrt())
    }
}

/// The adjusted comparison of a lift row (docs/STATISTICS.md#adjustment);
/// every field null without `adjust`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Adjusted {
    /// What the trained would have had untrained: Σ_k w_k θ̂₀k.
    pub untrained_value: Option<f64>,
    pub abs_diff: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_value: Option<f64>,
    pub method: Option<String>,
    pub n_trained: Option<i64>,
    pub n_untrained: Option<i64>,
    /// Why the adjusted columns are null, when they are.
    pub note: Option<String>,
    /// The E-values of the adjusted difference and of its interval's limit
    /// nearest the null (docs/STATISTICS.md#e-values).
    pub e_value: Option<f64>,
    pub e_value_ci: Option<f64>,
    /// The minimum detectable difference of the adjusted comparison
    /// (docs/STATISTICS.md#power).
    pub mde: Option<f64>,
    pub q_value: Option<f64>,
    /// The Cochran–Mantel–Haenszel cross-check of a proportion (in the
    /// manifest, not in the table).
    pub cmh_p_value: Option<f64>,
    /// Trained units left out of the comparison, of all trained units (for
    /// the run's overlap warning, not in the table).
    pub left_out: f64,
    pub trained_units: f64,
    /// Untrained units in strata without enough trained units to compare
    /// with, of all untrained units: the adjusted estimate does not speak
    /// for them (for the warning, not in the table).
    pub untrained_unused: f64,
    pub untrained_units: f64,
}

impl Adjusted {
    /// The E-values of the adjusted difference and interval on `scale`.
    pub fn read_as(&mut self, scale: Option<super::evalue::Scale>) {
        let interval = self.ci_low.zip(self.ci_high);
        (self.e_value, self.e_value_ci) = super::evalue::pair(scale, self.abs_diff, interval);
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
    pub direction: Direction,
    pub n_trained: i64,
    pub n_untrained: i64,
    /// The 95 % interval of `abs_diff` from the two sides' variances
    /// (unpooled); null where either variance is unknown or both are 0.
    pub diff_ci_low: Option<f64>,
    pub diff_ci_high: Option<f64>,
    /// The smallest absolute difference the row's test detects with 80 %
    /// power (docs/STATISTICS.md#power).
    pub mde: Option<f64>,
    /// The E-values of `abs_diff` and of the limit of its interval nearest
    /// the null (docs/STATISTICS.md#e-values).
    pub e_value: Option<f64>,
    pub e_value_ci: Option<f64>,
    /// The multiple-testing family of the row's p-values
    /// (docs/STATISTICS.md#multiple-testing); null for a row without a test.
    pub family: Option<Family>,
    pub adjusted: Adjusted,
    /// Benjamini–Hochberg across the run's lift rows with a p-value
    /// ([`add_q_values`]).
    pub q_value: Option<f64>,
}

impl LiftRow {
    /// docs/OUTPUTS.md#lift: trained against untrained for one key. `rel_lift` is
    /// null when the untrained value is ≤ 0 (a ratio to a negative NPS reads
    /// backwards); the difference's interval is abs_diff ± z·√(V₁ + V₀).
    pub fn compare(
        metric: &str,
        key: &RowKey,
        trained: Side,
        untrained: Side,
        p_value: Option<f64>,
        alpha: f64,
        direction: Direction,
    ) -> LiftRow {
        let (t, u) = (trained.value, untrained.value);
        let abs_diff = t.zip(u).map(|(t, u)| t - u);
        let diff_ci = difference_interval(abs_diff, trained.variance, untrained.variance);
        let variance = trained.variance.zip(untrained.variance).map(|(a, b)| a + b);
        LiftRow {
            metric: metric.to_string(),
            segment: key.segment.clone(),
            dimension: key.dimension.clone(),
            period_start: key.period_start,
            period_end: key.period_end,
            trained_value: t,
            untrained_value: u,
            abs_diff,
            rel_lift: t
                .zip(u)
                .and_then(|(t, u)| if u > 0.0 { Some(t / u - 1.0) } else { None }),
            p_value,
            significant: p_value.map(|p| p < alpha),
            direction,
            n_trained: trained.n.round() as i64,
            n_untrained: untrained.n.round() as i64,
            diff_ci_low: diff_ci.map(|c| c.0),
            diff_ci_high: diff_ci.map(|c| c.1),
            mde: super::formulas::minimum_detectable(variance).filter(|_| diff_ci.is_some()),
            e_value: None,
            e_value_ci: None,
            family: None,
            adjusted: Adjusted::default(),
            q_value: None,
        }
    }

    /// The E-values of the difference and its interval on `scale`.
    pub fn read_as(mut self, scale: Option<super::evalue::Scale>) -> Self {
        let interval = self.diff_ci_low.zip(self.diff_ci_high);
        (self.e_value, self.e_value_ci) = super::evalue::pair(scale, self.abs_diff, interval);
        self
    }

    /// docs/STATISTICS.md#descriptive-metrics: a comparison that is circular
    /// by construction keeps its values, differences and n, and loses every
    /// part of a test (p, q, significance, intervals of the difference,
    /// power, E-values, family), adjusted ones included.
    pub fn descriptive(&mut self) {
        self.p_value = None;
        self.significant = None;
        self.diff_ci_low = None;
        self.diff_ci_high = None;
        self.mde = None;
        self.e_value = None;
        self.e_value_ci = None;
        self.family = None;
        self.q_value = None;
        let a = &mut self.adjusted;
        a.ci_low = None;
        a.ci_high = None;
        a.p_value = None;
        a.q_value = None;
        a.e_value = None;
        a.e_value_ci = None;
        a.mde = None;
        a.cmh_p_value = None;
    }

    /// Whether the row carries a test (a naive or adjusted p-value).
    pub fn tested(&self) -> bool {
        self.p_value.is_some() || self.adjusted.p_value.is_some()
    }

    /// The adjusted comparison where the run adjusted this row (its method
    /// is set; its estimate may still be null, with a note saying why).
    pub fn adjustment(&self) -> Option<&Adjusted> {
        self.adjusted.method.as_ref().map(|_| &self.adjusted)
    }

    /// The 95 % interval of `abs_diff` as (low, high).
    pub fn diff_ci(&self) -> (Option<f64>, Option<f64>) {
        (self.diff_ci_low, self.diff_ci_high)
    }
}

/// abs_diff ± z·√(V₁ + V₀); null when a variance is unknown or the standard
/// error is 0 (docs/STATISTICS.md: "A zero standard error gives a null p-value", and a
/// zero-width interval would claim certainty just as wrongly).
pub fn difference_interval(
    diff: Option<f64>,
    var1: Option<f64>,
    var2: Option<f64>,
) -> Option<(f64, f64)> {
    let (diff, variance) = (diff?, var1? + var2?);
    (variance > 0.0 && variance.is_finite() && diff.is_finite())
        .then(|| super::formulas::wald_interval(diff, variance))
}

/// The multiple-testing family of a lift row (docs/STATISTICS.md#multiple-testing):
/// Benjamini–Hochberg runs within each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// The overall rows of the pipeline's primary metrics: the question the
    /// run was set up to answer.
    Primary,
    /// The overall rows of the other compared metrics.
    Secondary,
    /// The overall rows of the guardrail metrics (support load,
    /// satisfaction): what must not get worse.
    Guardrail,
    /// Every segment, month, breakdown or other dimension row.
    Exploratory,
}

impl Family {
    pub const ALL: [Family; 4] = [
        Family::Primary,
        Family::Secondary,
        Family::Guardrail,
        Family::Exploratory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Primary => "primary",
            Family::Secondary => "secondary",
            Family::Guardrail => "guardrail",
            Family::Exploratory => "exploratory",
        }
    }

    /// The family written as in the `lift` table's `family` column.
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// docs/STATISTICS.md#multiple-testing: Benjamini–Hochberg q-values within each
/// family of lift rows (naive p-values give `q_value`, adjusted ones
/// `adjusted_q_value`); rows without a p-value are outside every family.
pub fn add_q_values(rows: &mut [LiftRow]) {
    let families: std::collections::BTreeSet<Option<Family>> =
        rows.iter().map(|r| r.family).collect();
    for family in families {
        let members: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].family == family)
            .collect();
        let naive = super::formulas::benjamini_hochberg(
            &members.iter().map(|&i| rows[i].p_value).collect::<Vec<_>>(),
        );
        let adjusted = super::formulas::benjamini_hochberg(
            &members
                .iter()
                .map(|&i| rows[i].adjusted.p_value)
                .collect::<Vec<_>>(),
        );
        for ((&i, q), aq) in members.iter().zip(naive).zip(adjusted) {
            rows[i].q_value = q;
            rows[i].adjusted.q_value = aq;
        }
    }
}

/// Sorts rows by their key columns (docs/OUTPUTS.md: "Rows sorted by their leading key columns").
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
        let error = |e: PolarsError| Error::other(format!("reading {}: {e}", self.what));
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

    /// A text column the frame may lack (`stratum` without `adjust`).
    pub fn optional_text(&self, name: &str) -> Result<Option<StringChunked>> {
        match self.frame.column(name) {
            Ok(_) => self.text(name).map(Some),
            Err(_) => Ok(None),
        }
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
