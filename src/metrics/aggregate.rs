//! The shared counting stage. A metric describes what one unit (an account,
//! a row) contributes — numerator, denominator, squares, auxiliary counts —
//! and this module sums those contributions per cohort and segment, adds the
//! `all` cohort and the no-segment rows, for every metric the same way.

use polars::prelude::*;

use super::{AggregatePlan, Direction, PlanContext, Reference};
use crate::error::{Error, Result};

/// Granularity of summed contributions: 2¹⁶ steps per unit.
const QUANTUM: f64 = 65536.0;

/// The sum columns every unit frame carries.
pub const SUM_COLUMNS: [&str; 6] = ["num", "den", "sq", "a1", "a2", "n"];

/// How the shared statistics stage turns sums into a value, an interval and
/// a lift p-value (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// x/n with a Wilson interval; pooled two-proportion z-test.
    Proportion,
    /// 100·x/n with the Wilson interval × 100 (CSAT).
    Percent,
    /// NPS from promoters (`a1`), detractors (`a2`) and responses (`den`).
    Nps,
    /// Mean of values: `num` = Σx, `sq` = Σx², `den` = count; Welch z.
    Mean,
    /// Counts per account: `num` = count, `den` = accounts; Poisson.
    Rate,
    /// A count (`num`) with its Poisson interval; `den` = accounts; no p-value.
    Count,
    /// A median (`num`) of `n` values: no interval, no p-value.
    Median,
    /// A 2×2 association of cohort (trained/untrained) and an outcome
    /// (`num` of `den`): one row for the cohort `all`, no lift row.
    Association(Association),
    /// A ratio of sums: no interval, no p-value. `numerator`/`denominator`
    /// are the sums divided by `divisor` (100 for sums kept in cents).
    Ratio { divisor: f64 },
    /// Customer lifetime value: `a1` = Σ MRR (cents), `a2` = account-months
    /// with MRR > 0, `num`/`den` = retained/pop(S); no interval.
    LifetimeValue { months: u32, margin: f64 },
}

/// Measures of association for [`Kind::Association`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Association {
    Phi,
    Tetrachoric,
}

/// What one unit contributes to the sums. Unset parts contribute 0, except
/// `n` (the units counted in `n`), which defaults to 1 per unit.
pub struct Sums {
    pub num: Expr,
    pub den: Expr,
    pub sq: Expr,
    pub a1: Expr,
    pub a2: Expr,
    pub n: Expr,
}

impl Sums {
    /// Every part zero and `n` = 1.
    pub fn zero() -> Self {
        Sums {
            num: lit(0.0),
            den: lit(0.0),
            sq: lit(0.0),
            a1: lit(0.0),
            a2: lit(0.0),
            n: lit(1.0),
        }
    }

    /// A unit that counts in the denominator and, when `hit`, in the numerator.
    pub fn proportion(hit: Expr) -> Self {
        Sums {
            num: hit.cast(DataType::Float64),
            den: lit(1.0),
            ..Sums::zero()
        }
    }

    /// A unit contributing `num` and `den` to a ratio of sums.
    pub fn ratio(num: Expr, den: Expr) -> Self {
        Sums {
            num,
            den,
            ..Sums::zero()
        }
    }

    /// Each contribution is rounded to a multiple of 2⁻¹⁶ (integers are
    /// unchanged). Such values add up exactly in f64 — whatever order a
    /// parallel group-by adds them in — as long as a sum of fractional values
    /// stays below 2³⁷, so reruns give bit-identical results.
    fn exprs(self) -> Vec<Expr> {
        let parts = [self.num, self.den, self.sq, self.a1, self.a2, self.n];
        parts
            .into_iter()
            .zip(SUM_COLUMNS)
            .map(|(e, name)| {
                let value = e.cast(DataType::Float64).fill_null(lit(0.0));
                ((value * lit(QUANTUM)).round(0, RoundMode::HalfAwayFromZero) / lit(QUANTUM))
                    .alias(name)
            })
            .collect()
    }
}

/// Builder of a unit frame for the metrics table.
pub struct Units {
    frame: LazyFrame,
    reference: Reference,
    dimension: Expr,
    period_start: Expr,
    period_end: Expr,
}

impl Units {
    /// Units from `frame`, which must hold the cohort columns and segment
    /// columns (from [`PlanContext::accounts`] or joined with
    /// [`PlanContext::account_dimensions`]). Period defaults to `[S, A)`.
    pub fn new(frame: LazyFrame, reference: Reference, ctx: &PlanContext) -> Self {
        Units {
            frame,
            reference,
            dimension: lit(NULL).cast(DataType::String),
            period_start: crate::time::date_lit(ctx.period.start),
            period_end: crate::time::date_lit(ctx.period.as_of),
        }
    }

    pub fn dimension(mut self, dimension: Expr) -> Self {
        self.dimension = dimension.cast(DataType::String);
        self
    }

    pub fn period(mut self, start: Expr, end: Expr) -> Self {
        self.period_start = start;
        self.period_end = end;
        self
    }

    /// Finishes the plan for `metric`.
    pub fn plan(
        self,
        ctx: &PlanContext,
        metric: &'static str,
        kind: Kind,
        direction: Direction,
        sums: Sums,
    ) -> AggregatePlan {
        let mut columns = vec![col(self.reference.column()).alias("cohort")];
        columns.extend(ctx.segment_by.iter().map(|s| col(s.as_str())));
        columns.push(self.dimension.alias("dimension"));
        columns.push(self.period_start.cast(DataType::Date).alias("period_start"));
        columns.push(self.period_end.cast(DataType::Date).alias("period_end"));
        columns.extend(sums.exprs());
        let units = by_cohort_and_segment(
            self.frame.select(columns),
            ctx.segment_by,
            &["dimension", "period_start", "period_end"],
            &SUM_COLUMNS,
        );
        AggregatePlan {
            metric,
            kind,
            direction,
            units,
        }
    }
}

/// SPEC §3: "Every metric is emitted for the cohorts trained, untrained and
/// all. With segment_by every metric is also emitted per segment value, in a
/// column segment holding "col=value" ("col=(null)" for a null value;
/// segment null = all segments)."
///
/// `units` holds `cohort` (trained / untrained / null when not assigned),
/// the segment columns, the `keys` and the `sums`. The result has `cohort`,
/// `segment`, the keys and the summed columns. Sums are first taken at the
/// finest grain and then rolled up, so the large frame is grouped once.
pub fn by_cohort_and_segment(
    units: LazyFrame,
    segment_by: &[String],
    keys: &[&str],
    sums: &[&str],
) -> LazyFrame {
    let segment_cols: Vec<Expr> = segment_by.iter().map(|s| col(s.as_str())).collect();
    let key_cols: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let sum_aggs: Vec<Expr> = sums.iter().map(|s| col(*s).sum()).collect();

    let mut finest = vec![col("cohort")];
    finest.extend(segment_cols.iter().cloned());
    finest.extend(key_cols.iter().cloned());
    let base = units.group_by(finest).agg(sum_aggs.clone());

    let segment_variants = segment_variants(segment_by);
    let mut frames = Vec::new();
    for assigned_only in [true, false] {
        for segment in &segment_variants {
            let (frame, cohort) = if assigned_only {
                (
                    base.clone().filter(col("cohort").is_not_null()),
                    col("cohort"),
                )
            } else {
                (base.clone(), lit("all"))
            };
            let mut group = vec![cohort.alias("cohort"), segment.clone().alias("segment")];
            group.extend(key_cols.iter().cloned());
            frames.push(frame.group_by(group).agg(sum_aggs.clone()));
        }
    }
    concat(frames, UnionArgs::default()).unwrap_or(base)
}

/// The `segment` values every unit is counted under: null (all segments)
/// and `"col=value"` (`"col=(null)"`) for each `segment_by` column.
fn segment_variants(segment_by: &[String]) -> Vec<Expr> {
    let mut variants = vec![lit(NULL).cast(DataType::String)];
    for name in segment_by {
        let value = col(name.as_str())
            .cast(DataType::String)
            .fill_null(lit("(null)"));
        variants.push(concat_str([lit(format!("{name}=")), value], "", false));
    }
    variants
}

/// Concatenates the unit frames of every aggregate plan into one frame with a
/// `plan` index column (position in `plans`).
pub fn combine(plans: &[AggregatePlan]) -> Result<Option<LazyFrame>> {
    if plans.is_empty() {
        return Ok(None);
    }
    let frames: Vec<LazyFrame> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| p.units.clone().with_column(lit(i as u32).alias("plan")))
        .collect();
    let combined = concat(
        frames,
        UnionArgs {
            to_supertypes: true,
            ..Default::default()
        },
    )
    .map_err(|e| Error::Other(format!("combining metric plans: {e}")))?;
    Ok(Some(combined))
}

/// Medians cannot be rolled up from sums, so the unit rows are repeated per
/// cohort variant (own cohort, `all`) and segment variant and grouped once.
/// `units` has `cohort`, the segment columns and `value_column`. The result
/// has the columns of a sums aggregate: `num` = median, `den` = `n` = count.
pub fn median_by_cohort_and_segment(
    units: LazyFrame,
    ctx: &PlanContext,
    value_column: &str,
    dimension: &str,
) -> LazyFrame {
    let segment_variants = segment_variants(ctx.segment_by);
    let mut frames = Vec::new();
    for assigned_only in [true, false] {
        for segment in &segment_variants {
            let (frame, cohort) = if assigned_only {
                (
                    units.clone().filter(col("cohort").is_not_null()),
                    col("cohort"),
                )
            } else {
                (units.clone(), lit("all"))
            };
            frames.push(frame.select([
                cohort.alias("cohort"),
                segment.clone().alias("segment"),
                col(value_column).alias("value"),
            ]));
        }
    }
    let stacked = concat(frames, UnionArgs::default()).unwrap_or(units);
    let count = len().cast(DataType::Float64);
    stacked
        .group_by([col("cohort"), col("segment")])
        .agg([
            col("value").median().alias("num"),
            count.clone().alias("den"),
            lit(0.0).alias("sq"),
            lit(0.0).alias("a1"),
            lit(0.0).alias("a2"),
            count.alias("n"),
        ])
        .with_columns([
            lit(dimension).alias("dimension"),
            crate::time::date_lit(ctx.period.start).alias("period_start"),
            crate::time::date_lit(ctx.period.as_of).alias("period_end"),
        ])
        .select([
            col("cohort"),
            col("segment"),
            col("dimension"),
            col("period_start"),
            col("period_end"),
            col("num"),
            col("den"),
            col("sq"),
            col("a1"),
            col("a2"),
            col("n"),
        ])
}
