//! The roll-ups of the counting stage: the units' sums at the finest grain
//! (cohort, segment columns, keys; per account first where the variance
//! needs per-account sums), then every cohort and segment row from them.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::frame::ordered_sum;
use crate::metrics::PlanContext;
use crate::stats::{SUM_COLUMNS, UNIT_SUM_COLUMNS};

/// The finest group-by of a plan's units: its aggregations, and the named
/// sum columns built from them (`num`, `den`, … of each set).
pub(super) struct Finest {
    pub sums: Vec<Expr>,
    pub named: Vec<Expr>,
}

/// [`by_cohort_and_segment`] for a plan whose units are accounts, one per
/// account in each row (an account-month grid has one row per month): the
/// accounts behind a row are its `n` units, and the per-account sums, which
/// only the cluster-robust and delta-method variances read, are not needed.
/// `sets`: the suffixes of the sum columns of each set of sums.
pub(super) fn unclustered(
    units: LazyFrame,
    finest: Finest,
    segment_by: &[String],
    keys: &[&str],
    sets: &[String],
) -> LazyFrame {
    let sums: Vec<Expr> = sets
        .iter()
        .flat_map(|set| {
            SUM_COLUMNS[..UNIT_SUM_COLUMNS]
                .iter()
                .map(move |c| col(format!("{c}{set}")).sum())
        })
        .collect();
    let mut derived = Vec::new();
    for set in sets {
        derived.extend([
            col(format!("n{set}")).alias(format!("clusters{set}")),
            lit(0.0).alias(format!("cxx{set}")),
            lit(0.0).alias(format!("cxy{set}")),
            lit(0.0).alias(format!("cyy{set}")),
        ]);
    }
    let cells = units
        .group_by(cell_of(segment_by, keys))
        .agg(finest.sums)
        .with_columns(finest.named);
    roll_up(cells, segment_by, keys, sums).with_columns(derived)
}

/// The columns of a finest cell: `cohort`, the segment columns, the keys.
fn cell_of(segment_by: &[String], keys: &[&str]) -> Vec<Expr> {
    let mut cell = vec![col("cohort")];
    cell.extend(segment_by.iter().map(|s| col(s.as_str())));
    cell.extend(keys.iter().map(|k| col(*k)));
    cell
}

/// [`by_cohort_and_segment`] for a plan's units (`cluster` = the account,
/// the values of `finest`, which give the unit sums and the cluster pair
/// `cx`, `cy` of each set in `sets`, the suffixes of their columns): the
/// units are first summed per account,
/// which gives the account's X and Y and so X², X·Y and Y² and one cluster;
/// those roll up to [`SUM_COLUMNS`] with the unit sums.
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
pub(super) fn clustered_by_cohort_and_segment(
    units: LazyFrame,
    finest: Finest,
    segment_by: &[String],
    keys: &[&str],
    sets: &[String],
) -> LazyFrame {
    let unit_sums = &SUM_COLUMNS[..UNIT_SUM_COLUMNS];
    let cell = cell_of(segment_by, keys);
    let mut per_account = cell.clone();
    per_account.push(col("cluster"));
    let (mut squares, mut rolled) = (Vec::new(), Vec::new());
    for set in sets {
        let c = |name: &str| format!("{name}{set}");
        squares.extend([
            lit(1.0).alias(c("clusters")),
            (col(c("cx")) * col(c("cx"))).alias(c("cxx")),
            (col(c("cx")) * col(c("cy"))).alias(c("cxy")),
            (col(c("cy")) * col(c("cy"))).alias(c("cyy")),
        ]);
        rolled.extend(
            unit_sums
                .iter()
                .chain(&["clusters"])
                .map(|name| col(c(name)).sum()),
        );
        rolled.extend(
            ["cxx", "cxy", "cyy"]
                .iter()
                .map(|name| ordered_sum(col(c(name))).alias(c(name))),
        );
    }
    let cells = units
        .group_by(per_account)
        .agg(finest.sums)
        .with_columns(finest.named)
        .with_columns(squares)
        .group_by(cell)
        .agg(rolled.clone());
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
    let cells = units
        .group_by(cell_of(segment_by, keys))
        .agg(sum_aggs.clone());
    roll_up(cells, segment_by, keys, sum_aggs)
}

/// Groups `base` (cohort, segment columns, keys: the finest cells) by
/// every cohort and segment variant with `aggs` and stacks the results.
/// `base` is cached, so that every variant rolls up its one aggregation.
fn roll_up(base: LazyFrame, segment_by: &[String], keys: &[&str], aggs: Vec<Expr>) -> LazyFrame {
    let base = base.cache();
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
