//! The shared counting stage. A metric describes what one unit (an account,
//! a row) contributes — numerator, denominator, squares, auxiliary counts —
//! and this module sums those contributions per cohort and segment, adds the
//! `all` cohort and the no-segment rows, for every metric the same way.

use polars::prelude::*;

use super::{AggregatePlan, PlanContext, Reference};
use crate::error::{Error, Result};
use crate::stats::{Direction, Kind, SUM_COLUMNS, UNIT_SUM_COLUMNS};

/// Granularity of summed contributions: 2¹⁶ steps per unit.
const QUANTUM: f64 = 65536.0;

/// What one unit contributes to the sums. Unset parts contribute 0, except
/// `n` (the units counted in `n`), which defaults to 1 per unit.
pub struct Sums {
    pub num: Expr,
    pub den: Expr,
    pub sq: Expr,
    pub a1: Expr,
    pub a2: Expr,
    pub n: Expr,
    /// The pair (X, Y) whose per-account totals give the variance of the
    /// ratio ΣX/ΣY (delta method, CR1); `None` = (`num`, `den`).
    pub cluster: Option<(Expr, Expr)>,
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
            cluster: None,
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

    /// An account contributing its count of facts (tickets, referrals) to a
    /// mean of counts per account: `num` = the count, `den` = 1, `sq` = the
    /// count² (docs/STATISTICS.md#counts-per-account: var = s²/n).
    pub fn count(count: Expr) -> Self {
        Sums {
            num: count.clone(),
            den: lit(1.0),
            sq: count.clone() * count,
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
    /// The unit sums of [`SUM_COLUMNS`], then the cluster pair as `cx`, `cy`.
    fn exprs(self) -> Vec<Expr> {
        let (cx, cy) = self
            .cluster
            .unwrap_or_else(|| (self.num.clone(), self.den.clone()));
        let parts = [
            self.num, self.den, self.sq, self.a1, self.a2, self.n, cx, cy,
        ];
        let names = SUM_COLUMNS[..UNIT_SUM_COLUMNS].iter().chain(&["cx", "cy"]);
        parts
            .into_iter()
            .zip(names)
            .map(|(e, name)| {
                let value = e.cast(DataType::Float64).fill_null(lit(0.0));
                ((value * lit(QUANTUM)).round(0, RoundMode::HalfAwayFromZero) / lit(QUANTUM))
                    .alias(*name)
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
    nested: bool,
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
            nested: false,
        }
    }

    /// The units are nested in accounts (survey responses, tickets, users,
    /// enrolments): intervals and tests take the cluster-robust variance by
    /// account (docs/STATISTICS.md, CR1).
    pub fn nested(self) -> Self {
        self.nested_when(true)
    }

    /// [`Units::nested`] when `nested` (user-level adoption metrics).
    pub fn nested_when(mut self, nested: bool) -> Self {
        self.nested = nested;
        self
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

    /// Finishes the plan as a proportion where higher is better: every unit
    /// counts in the denominator, and in the numerator when `hit`.
    pub fn share(self, ctx: &PlanContext, hit: Expr) -> AggregatePlan {
        self.plan(
            ctx,
            Kind::Proportion,
            Direction::HigherIsBetter,
            Sums::proportion(hit),
        )
    }

    /// Finishes the plan: what the units' sums measure, and which way is good.
    pub fn plan(
        self,
        ctx: &PlanContext,
        kind: Kind,
        direction: Direction,
        sums: Sums,
    ) -> AggregatePlan {
        let mut columns = ctx.unit_columns(self.reference);
        columns.push(self.dimension.alias("dimension"));
        columns.push(self.period_start.cast(DataType::Date).alias("period_start"));
        columns.push(self.period_end.cast(DataType::Date).alias("period_end"));
        let mut keys = vec!["dimension", "period_start", "period_end"];
        if ctx.stratified {
            keys.push(crate::cohort::STRATUM);
        }
        let per_account =
            self.nested || matches!(kind, Kind::Ratio { .. } | Kind::LifetimeValue(_));
        let units = if per_account {
            columns.push(col("account_id").alias("cluster"));
            columns.extend(sums.exprs());
            clustered_by_cohort_and_segment(self.frame.select(columns), ctx.segment_by, &keys)
        } else {
            columns.extend(sums.exprs().into_iter().take(UNIT_SUM_COLUMNS));
            unclustered(self.frame.select(columns), ctx.segment_by, &keys)
        };
        AggregatePlan {
            kind,
            nested: self.nested,
            direction,
            units,
        }
    }
}

pub use crate::frame::ordered_sum;

/// [`by_cohort_and_segment`] for a plan whose units are accounts, one per
/// account in each row (an account-month grid has one row per month): the
/// accounts behind a row are its `n` units, and the per-account sums, which
/// only the cluster-robust and delta-method variances read, are not needed.
fn unclustered(units: LazyFrame, segment_by: &[String], keys: &[&str]) -> LazyFrame {
    by_cohort_and_segment(units, segment_by, keys, &SUM_COLUMNS[..UNIT_SUM_COLUMNS]).with_columns([
        col("n").alias("clusters"),
        lit(0.0).alias("cxx"),
        lit(0.0).alias("cxy"),
        lit(0.0).alias("cyy"),
    ])
}

/// [`by_cohort_and_segment`] for a plan's units (`cluster` = the account,
/// the unit sums and the cluster pair `cx`, `cy`): the units are first summed
/// per account, which gives the account's X and Y and so X², X·Y and Y² and
/// one cluster; those roll up to [`SUM_COLUMNS`] with the unit sums.
/// An account lies in one cohort and segment (both are account attributes
/// at a reference day), except with user-level cohorts, where an account's
/// users of each cohort form that cohort's cluster.
///
/// The unit sums add up exactly (see [`Sums`]); squares of account totals
/// need not, so they are summed in sorted order, which makes their sums
/// independent of the order a parallel group-by meets the accounts in
/// ([`ordered_sum`]): the accounts' squares once per finest cell (cohort,
/// segment columns, keys), then the cells' sums per variant, again sorted
/// (docs/METRICS.md#exact-sums-and-empty-results). The accounts are grouped
/// once, not once per variant.
fn clustered_by_cohort_and_segment(
    units: LazyFrame,
    segment_by: &[String],
    keys: &[&str],
) -> LazyFrame {
    let unit_sums = &SUM_COLUMNS[..UNIT_SUM_COLUMNS];
    let mut cell: Vec<Expr> = vec![col("cohort")];
    cell.extend(segment_by.iter().map(|s| col(s.as_str())));
    cell.extend(keys.iter().map(|k| col(*k)));
    let mut finest = cell.clone();
    finest.push(col("cluster"));
    let mut per_account: Vec<Expr> = unit_sums.iter().map(|c| col(*c).sum()).collect();
    per_account.extend([col("cx").sum(), col("cy").sum()]);
    let mut rolled: Vec<Expr> = unit_sums
        .iter()
        .chain(&["clusters"])
        .map(|c| col(*c).sum())
        .collect();
    rolled.extend(
        ["cxx", "cxy", "cyy"]
            .iter()
            .map(|c| ordered_sum(col(*c)).alias(*c)),
    );
    let cells = units
        .group_by(finest)
        .agg(per_account)
        .with_columns([
            lit(1.0).alias("clusters"),
            (col("cx") * col("cx")).alias("cxx"),
            (col("cx") * col("cy")).alias("cxy"),
            (col("cy") * col("cy")).alias("cyy"),
        ])
        .group_by(cell)
        .agg(rolled.clone())
        .cache();
    roll_up(cells, segment_by, keys, rolled)
}

/// docs/METRICS.md#cohorts: "Every metric is emitted for the cohorts trained, untrained and
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
    let sum_aggs: Vec<Expr> = sums.iter().map(|s| col(*s).sum()).collect();
    let mut finest = vec![col("cohort")];
    finest.extend(segment_by.iter().map(|s| col(s.as_str())));
    finest.extend(keys.iter().map(|k| col(*k)));
    let base = units.group_by(finest).agg(sum_aggs.clone()).cache();
    roll_up(base, segment_by, keys, sum_aggs)
}

/// Groups `base` (cohort, segment columns, keys) by every cohort and segment
/// variant with `aggs` and stacks the results.
fn roll_up(base: LazyFrame, segment_by: &[String], keys: &[&str], aggs: Vec<Expr>) -> LazyFrame {
    let frames = cohort_and_segment_variants(&base, segment_by)
        .into_iter()
        .map(|(frame, cohort, segment)| {
            let mut group = vec![cohort.alias("cohort"), segment.alias("segment")];
            group.extend(keys.iter().map(|k| col(*k)));
            frame.group_by(group).agg(aggs.clone())
        })
        .collect::<Vec<_>>();
    concat(frames, UnionArgs::default()).unwrap_or(base)
}

/// Every (frame, cohort, segment) a unit is counted under: its own cohort
/// (assigned units only) and `all`, each with every segment variant.
fn cohort_and_segment_variants(
    units: &LazyFrame,
    segment_by: &[String],
) -> Vec<(LazyFrame, Expr, Expr)> {
    let segments = segment_variants(segment_by);
    let mut variants = Vec::new();
    for assigned_only in [true, false] {
        for segment in &segments {
            let (frame, cohort) = if assigned_only {
                (
                    units.clone().filter(col("cohort").is_not_null()),
                    col("cohort"),
                )
            } else {
                (units.clone(), lit("all"))
            };
            variants.push((frame, cohort, segment.clone()));
        }
    }
    variants
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
/// `plan` index column (position in `units`).
pub fn combine(units: Vec<LazyFrame>) -> Result<Option<LazyFrame>> {
    if units.is_empty() {
        return Ok(None);
    }
    let frames: Vec<LazyFrame> = units
        .into_iter()
        .enumerate()
        .map(|(i, frame)| frame.with_column(lit(i as u32).alias("plan")))
        .collect();
    let combined = concat(
        frames,
        UnionArgs {
            to_supertypes: true,
            ..Default::default()
        },
    )
    .map_err(|e| Error::other(format!("combining metric plans: {e}")))?;
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
    let frames = cohort_and_segment_variants(&units.clone().cache(), ctx.segment_by)
        .into_iter()
        .map(|(frame, cohort, segment)| {
            frame.select([
                cohort.alias("cohort"),
                segment.alias("segment"),
                col(value_column).alias("value"),
            ])
        })
        .collect::<Vec<_>>();
    let stacked = concat(frames, UnionArgs::default()).unwrap_or(units);
    let count = len().cast(DataType::Float64);
    // Medians do not add up over strata: one row for all strata (null).
    let stratum = ctx.stratified.then(|| {
        lit(NULL)
            .cast(DataType::String)
            .alias(crate::cohort::STRATUM)
    });
    let mut keys = vec![
        col("cohort"),
        col("segment"),
        col("dimension"),
        col("period_start"),
        col("period_end"),
    ];
    keys.extend(stratum.clone().map(|_| col(crate::cohort::STRATUM)));
    let sums = SUM_COLUMNS.map(col);
    let mut with_keys = vec![
        lit(dimension).alias("dimension"),
        crate::time::date_lit(ctx.period.start).alias("period_start"),
        crate::time::date_lit(ctx.period.as_of).alias("period_end"),
    ];
    with_keys.extend(stratum);
    stacked
        .group_by([col("cohort"), col("segment")])
        .agg([
            col("value").median().alias("num"),
            count.clone().alias("den"),
            lit(0.0).alias("sq"),
            lit(0.0).alias("a1"),
            lit(0.0).alias("a2"),
            count.alias("n"),
            lit(0.0).alias("clusters"),
            lit(0.0).alias("cxx"),
            lit(0.0).alias("cxy"),
            lit(0.0).alias("cyy"),
        ])
        .with_columns(with_keys)
        .select(keys.into_iter().chain(sums).collect::<Vec<_>>())
}
