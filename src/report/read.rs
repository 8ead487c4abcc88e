//! Reading the published tables into the report's data: one function per
//! table, each a small polars query (filters and group-bys), never a loop
//! over a large table.

use std::collections::BTreeMap;

use polars::prelude::DataFrame;

use super::data::*;
use crate::error::Result;
use crate::stats::FrameColumns;

pub(super) fn read_curves(df: &DataFrame) -> Result<BTreeMap<String, Vec<CurvePoint>>> {
    let mut curves: BTreeMap<String, Vec<CurvePoint>> = BTreeMap::new();
    if df.height() == 0 {
        return Ok(curves);
    }
    let c = FrameColumns::new(df, "survival_curve");
    let (cohort, segment) = (c.text("cohort")?, c.text("segment")?);
    let (day, at_risk, events, censored) = (
        c.whole("day")?,
        c.whole("at_risk")?,
        c.whole("events")?,
        c.whole("censored")?,
    );
    let (survival, low, high) = (
        c.number("survival")?,
        c.number("ci_low")?,
        c.number("ci_high")?,
    );
    for i in 0..df.height() {
        let cohort = cohort.get(i).unwrap_or_default();
        if segment.get(i).is_some() || cohort == "all" {
            continue;
        }
        curves
            .entry(cohort.to_string())
            .or_default()
            .push(CurvePoint {
                day: day.get(i).unwrap_or(0),
                at_risk: at_risk.get(i).unwrap_or(0),
                events: events.get(i).unwrap_or(0),
                censored: censored.get(i).unwrap_or(0),
                survival: survival.get(i).unwrap_or(f64::NAN),
                ci: (
                    low.get(i).unwrap_or(f64::NAN),
                    high.get(i).unwrap_or(f64::NAN),
                ),
            });
    }
    for points in curves.values_mut() {
        points.sort_by_key(|p| p.day);
    }
    Ok(curves)
}

pub(super) fn read_retention(df: &DataFrame) -> Result<BTreeMap<String, Vec<RetentionCell>>> {
    let mut cells: BTreeMap<String, Vec<RetentionCell>> = BTreeMap::new();
    if df.height() == 0 {
        return Ok(cells);
    }
    let c = FrameColumns::new(df, "retention_curve");
    let (cohort, segment, month) = (
        c.text("cohort")?,
        c.text("segment")?,
        c.days("signup_month")?,
    );
    let (k, at_risk, retained) = (
        c.whole("months_since_signup")?,
        c.whole("at_risk")?,
        c.whole("retained")?,
    );
    let rate = c.number("rate")?;
    for i in 0..df.height() {
        if segment.get(i).is_some() {
            continue;
        }
        cells
            .entry(cohort.get(i).unwrap_or_default().to_string())
            .or_default()
            .push(RetentionCell {
                signup_month: month.get(i).map(date_text),
                k: k.get(i).unwrap_or(0),
                at_risk: at_risk.get(i).unwrap_or(0),
                retained: retained.get(i).unwrap_or(0),
                rate: rate.get(i),
            });
    }
    Ok(cells)
}

/// Counts per cohort and ten-point bin, computed by polars (one row per
/// account in `account_health`, a few dozen rows out).
pub(super) fn read_health(df: &DataFrame) -> Result<BTreeMap<String, Health>> {
    let mut health: BTreeMap<String, Health> = BTreeMap::new();
    if df.height() == 0 {
        return Ok(health);
    }
    use polars::prelude::*;
    let bin = (col("health_score") / lit(10.0))
        .floor()
        .cast(DataType::Int64);
    let bin = when(bin.clone().gt(lit(9i64))).then(lit(9i64)).otherwise(
        when(bin.clone().lt(lit(0i64)))
            .then(lit(0i64))
            .otherwise(bin),
    );
    let binned = df
        .clone()
        .lazy()
        .filter(
            col("health_score")
                .is_not_null()
                .and(col("cohort").is_not_null()),
        )
        .group_by([col("cohort"), bin.alias("bin")])
        .agg([
            len().cast(DataType::Int64).alias("accounts"),
            col("health_score").sum().alias("sum"),
        ])
        .sort(["cohort", "bin"], Default::default())
        .collect()
        .map_err(|e| crate::error::Error::engine("reading `account_health`", e))?;
    let c = FrameColumns::new(&binned, "account_health bins");
    let (cohort, bin, accounts, sum) = (
        c.text("cohort")?,
        c.whole("bin")?,
        c.whole("accounts")?,
        c.number("sum")?,
    );
    for i in 0..binned.height() {
        let entry = health
            .entry(cohort.get(i).unwrap_or_default().to_string())
            .or_default();
        entry.bins[bin.get(i).unwrap_or(0).clamp(0, 9) as usize] += accounts.get(i).unwrap_or(0);
        entry.sum += sum.get(i).unwrap_or(0.0);
    }
    Ok(health)
}

pub(super) fn read_movements(df: &DataFrame) -> Result<BTreeMap<String, Vec<MonthMovements>>> {
    let mut out: BTreeMap<String, Vec<MonthMovements>> = BTreeMap::new();
    if df.height() == 0 {
        return Ok(out);
    }
    use polars::prelude::*;
    let overall = filtered(
        df,
        "reading `revenue_movements`",
        col("segment").is_null().and(col("cohort").is_not_null()),
    )?;
    let c = FrameColumns::new(&overall, "revenue_movements");
    let (month, cohort, movement) = (c.days("month")?, c.text("cohort")?, c.text("movement")?);
    let (mrr, accounts) = (c.number("mrr")?, c.whole("accounts")?);
    let mut cells: BTreeMap<(String, i32), MonthMovements> = BTreeMap::new();
    for i in 0..overall.height() {
        let (Some(cohort), Some(month), Some(movement)) =
            (cohort.get(i), month.get(i), movement.get(i))
        else {
            continue;
        };
        let Some(k) = MOVEMENTS.iter().position(|m| *m == movement) else {
            continue;
        };
        let cell = cells
            .entry((cohort.to_string(), month))
            .or_insert_with(|| MonthMovements {
                month: date_text(month),
                mrr: [0.0; 5],
                accounts: [0; 5],
            });
        cell.mrr[k] += mrr.get(i).unwrap_or(0.0);
        cell.accounts[k] += accounts.get(i).unwrap_or(0);
    }
    for ((cohort, _), cell) in cells {
        out.entry(cohort).or_default().push(cell);
    }
    Ok(out)
}

/// The rows of `metrics` over the whole period (`period_start` and
/// `period_end` the run's: not the months of a per-month metric) without a
/// dimension, for the trained and the untrained.
pub(super) fn read_values(df: &DataFrame, period: (&str, &str)) -> Result<Vec<CohortValue>> {
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    use polars::prelude::*;
    let cohort = col("cohort");
    let whole = filtered(
        df,
        "reading `metrics`",
        col("dimension")
            .is_null()
            .and(
                cohort
                    .clone()
                    .eq(lit(crate::cohort::TRAINED))
                    .or(cohort.eq(lit(crate::cohort::UNTRAINED))),
            )
            .and(col("period_start").eq(manifest_date(period.0)?))
            .and(col("period_end").eq(manifest_date(period.1)?)),
    )?;
    let c = FrameColumns::new(&whole, "metrics");
    let (metric, cohort, segment) = (c.text("metric")?, c.text("cohort")?, c.text("segment")?);
    let (value, low, high, n) = (
        c.number("value")?,
        c.number("ci_low")?,
        c.number("ci_high")?,
        c.whole("n")?,
    );
    Ok((0..whole.height())
        .map(|i| CohortValue {
            metric: metric.get(i).unwrap_or_default().to_string(),
            segment: segment.get(i).map(str::to_string),
            cohort: cohort.get(i).unwrap_or_default().to_string(),
            value: value.get(i),
            ci: (low.get(i), high.get(i)),
            n: n.get(i).unwrap_or(0),
        })
        .collect())
}

pub(super) fn read_balance(df: &DataFrame) -> Result<Vec<BalanceRow>> {
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    let c = FrameColumns::new(df, "balance");
    let (covariate, level) = (c.text("covariate")?, c.text("level")?);
    let (smd, adjusted) = (c.number("smd")?, c.number("smd_adjusted")?);
    Ok((0..df.height())
        .map(|i| BalanceRow {
            covariate: covariate.get(i).unwrap_or_default().to_string(),
            level: level.get(i).map(str::to_string),
            smd: smd.get(i),
            smd_adjusted: adjusted.get(i),
        })
        .collect())
}

/// docs/METRICS.md#cohorts: an account is assigned at A when its landmark L ≤ A and it is a
/// customer at L; an unassigned account with L ≤ A therefore left before its
/// landmark, one with L > A has not reached it. Counted by polars (one row
/// per account in, a few rows out).
pub(super) fn read_cohort_counts(df: &DataFrame, as_of: &str) -> Result<Option<CohortCounts>> {
    if df.height() == 0 {
        return Ok(None);
    }
    use polars::prelude::*;
    let counts = df
        .clone()
        .lazy()
        .group_by([
            col("cohort"),
            col("landmark_date")
                .lt_eq(manifest_date(as_of)?)
                .alias("reached"),
        ])
        .agg([len().cast(DataType::Int64).alias("accounts")])
        .collect()
        .map_err(|e| crate::error::Error::engine("reading `account_cohorts`", e))?;
    let c = FrameColumns::new(&counts, "account_cohorts counts");
    let (cohort, reached, accounts) = (c.text("cohort")?, c.flag("reached")?, c.whole("accounts")?);
    let mut out = CohortCounts::default();
    for i in 0..counts.height() {
        let n = accounts.get(i).unwrap_or(0);
        match (cohort.get(i), reached.get(i)) {
            (Some(crate::cohort::TRAINED), _) => out.trained += n,
            (Some(crate::cohort::UNTRAINED), _) => out.untrained += n,
            (_, Some(true)) => out.lost_before_landmark += n,
            _ => out.before_landmark += n,
        }
    }
    Ok(Some(out))
}

/// A date column's day as `YYYY-MM-DD`.
fn date_text(days: i32) -> String {
    crate::time::days_to_date(days).to_string()
}

/// A date of the manifest (`YYYY-MM-DD`) as a literal to compare a date
/// column with.
fn manifest_date(text: &str) -> Result<polars::prelude::Expr> {
    crate::config::CalendarDate::parse(text)
        .map(|d| crate::time::date_lit(d.0))
        .map_err(|e| crate::error::Error::other(format!("the manifest: {e}")))
}

/// The rows of a (small) output table that `filter` keeps, selected by
/// polars rather than skipped in a loop.
fn filtered(df: &DataFrame, what: &str, filter: polars::prelude::Expr) -> Result<DataFrame> {
    use polars::prelude::*;
    df.clone()
        .lazy()
        .filter(filter)
        .collect()
        .map_err(|e| crate::error::Error::engine(what, e))
}
