//! `adjust.method: propensity`: strata from a logistic regression of
//! "trained" on the covariates (docs/STATISTICS.md, "Adjustment").

use polars::prelude::*;

use super::{is_numeric, label, STRATUM};
use crate::config::{AdjustConfig, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;

/// The columns of the propensity model: the intercept, one indicator per
/// level of a text covariate but its first (the reference), and a numeric
/// covariate as given with nulls as 0 plus a null indicator when it has
/// nulls.
fn design(
    accounts: &LazyFrame,
    adjust: &AdjustConfig,
    inputs: &Inputs,
) -> Result<Vec<(String, Expr)>> {
    let source = inputs
        .get(SourceName::Accounts)
        .ok_or_else(|| Error::config("`adjust` needs `sources.accounts`".to_string()))?;
    let error = |e: PolarsError| Error::other(format!("adjust: reading the covariates: {e}"));
    let numeric = |c: &str| is_numeric(source, c);
    // One query for every covariate: a numeric one's null count, a text
    // one's sorted levels.
    let summary: Vec<Expr> = adjust
        .covariates
        .iter()
        .enumerate()
        .map(|(i, c)| match numeric(c) {
            true => col(c.as_str())
                .null_count()
                .cast(DataType::Float64)
                .alias(format!("c{i}")),
            false => label(c)
                .unique()
                .sort(SortOptions::default())
                .implode(true)
                .alias(format!("c{i}")),
        })
        .collect();
    let summary = accounts.clone().select(summary).collect().map_err(error)?;
    let mut columns = vec![("(intercept)".to_string(), lit(1.0))];
    for (i, covariate) in adjust.covariates.iter().enumerate() {
        let found = summary.column(&format!("c{i}")).map_err(error)?;
        if numeric(covariate) {
            let x = col(covariate.as_str());
            columns.push((
                covariate.clone(),
                x.clone().cast(DataType::Float64).fill_null(lit(0.0)),
            ));
            if found.f64().map_err(error)?.get(0).unwrap_or(0.0) > 0.0 {
                columns.push((
                    format!("{covariate}=(null)"),
                    x.is_null().cast(DataType::Float64),
                ));
            }
        } else {
            let levels = found.list().map_err(error)?.get_as_series(0);
            let levels = match &levels {
                Some(series) => series.str().map_err(error)?.clone(),
                None => StringChunked::default(),
            };
            for level in (0..levels.len()).filter_map(|k| levels.get(k)).skip(1) {
                columns.push((
                    format!("{covariate}={level}"),
                    label(covariate).eq(lit(level)).cast(DataType::Float64),
                ));
            }
        }
    }
    Ok(columns)
}

/// The levels of the first text covariate whose assigned accounts all
/// trained or none did, with their counts: what makes a logit separate. The solver
/// sees only coefficients, and with the reference level at fault every
/// other level's coefficient diverges, so the level is found here.
fn separating_level(
    accounts: &LazyFrame,
    adjust: &AdjustConfig,
    inputs: &Inputs,
) -> Result<Option<String>> {
    let Some(source) = inputs.get(SourceName::Accounts) else {
        return Ok(None);
    };
    let error = |e: PolarsError| Error::other(format!("adjust: reading the covariates: {e}"));
    for covariate in adjust.covariates.iter().filter(|c| !is_numeric(source, c)) {
        let trained = col("cohort_at_as_of").eq(lit(crate::cohort::TRAINED));
        let levels = accounts
            .clone()
            .filter(col("cohort_at_as_of").is_not_null())
            .group_by([label(covariate).alias("level")])
            .agg([
                len().cast(DataType::Float64).alias("units"),
                trained.cast(DataType::Float64).sum().alias("trained"),
            ])
            .filter(
                col("trained")
                    .eq(lit(0.0))
                    .or(col("trained").eq(col("units"))),
            )
            .sort(["level"], Default::default())
            .collect()
            .map_err(error)?;
        if levels.height() == 0 {
            continue;
        }
        let columns = crate::stats::FrameColumns::new(&levels, "adjust levels");
        let (level, units, trained) = (
            columns.text("level")?,
            columns.number("units")?,
            columns.number("trained")?,
        );
        let found: Vec<String> = (0..levels.height())
            .map(|i| {
                format!(
                    "`{covariate}={}` ({} of {} assigned accounts trained)",
                    level.get(i).unwrap_or_default(),
                    trained.get(i).unwrap_or(0.0),
                    units.get(i).unwrap_or(0.0)
                )
            })
            .collect();
        return Ok(Some(found.join(", ")));
    }
    Ok(None)
}

/// `adjust.method: propensity`: "a logistic regression of trained on the
/// covariates (one-hot levels, numeric as given), fitted per run by a small
/// IRLS/Newton solver […] then strata by quantiles of the trained units'
/// scores". The model is fitted on the accounts assigned at A (trained = 1,
/// untrained = 0); every account gets its score, and the stratum
/// `propensity=k` is the k-th of `adjust.strata` quantile ranges of the
/// trained accounts' scores. A model without a finite optimum (a level
/// that predicts training perfectly, collinear covariates, no convergence)
/// stops the run with the reason (exit 3).
pub(super) fn stratum(
    accounts: &LazyFrame,
    adjust: &AdjustConfig,
    inputs: &Inputs,
) -> Result<Expr> {
    let design = design(accounts, adjust, inputs)?;
    let p = design.len();
    let assigned = accounts
        .clone()
        .filter(col("cohort_at_as_of").is_not_null())
        .select(
            design
                .iter()
                .enumerate()
                .map(|(i, (_, e))| e.clone().alias(format!("x{i}")))
                .chain([col("cohort_at_as_of")
                    .eq(lit(crate::cohort::TRAINED))
                    .cast(DataType::Float64)
                    .alias("y")])
                .collect::<Vec<_>>(),
        )
        .cache();
    // The likelihood depends on the rows only through their covariate
    // patterns: group once, then iterate in Rust over the (few) patterns.
    let error = |e: PolarsError| Error::other(format!("adjust: fitting the propensity model: {e}"));
    let columns: Vec<String> = (0..p).map(|i| format!("x{i}")).collect();
    let grouped = assigned
        .group_by(columns.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .agg([
            len().cast(DataType::Float64).alias("units"),
            col("y").sum().alias("trained"),
        ])
        .collect()
        .map_err(error)?;
    let numbers = |name: &str| -> Result<Float64Chunked> {
        Ok(grouped
            .column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(error)?
            .f64()
            .map_err(error)?
            .clone())
    };
    let xs = columns
        .iter()
        .map(|c| numbers(c))
        .collect::<Result<Vec<_>>>()?;
    let (units, trained) = (numbers("units")?, numbers("trained")?);
    let patterns: Vec<crate::stats::logit::Pattern> = (0..grouped.height())
        .map(|r| crate::stats::logit::Pattern {
            x: xs.iter().map(|x| x.get(r).unwrap_or(0.0)).collect(),
            units: units.get(r).unwrap_or(0.0),
            trained: trained.get(r).unwrap_or(0.0),
        })
        .collect();
    let moments = |beta: &[f64]| -> Result<crate::stats::logit::Moments> {
        Ok(crate::stats::logit::moments_of_patterns(&patterns, beta))
    };
    use crate::stats::logit::{fit, Failure};
    let name = |i: usize| design[i].0.clone();
    let fitted = match fit(p, 1e-8, moments)? {
        Ok(fitted) => fitted,
        Err(Failure::Separation { coefficient, .. }) => {
            let culprit = match separating_level(accounts, adjust, inputs)? {
                Some(levels) => format!("all its accounts trained, or none did: {levels}"),
                None => format!(
                    "`{}`, together with the other covariates",
                    name(coefficient)
                ),
            };
            return Err(Error::data(format!(
                "adjust: the propensity model has no finite estimate: a covariate level separates \
                 trained from untrained accounts ({culprit}); merge or drop that level, or use \
                 `method: stratify` (which compares only the strata where both cohorts have \
                 accounts)"
            )));
        }
        Err(Failure::Singular { pivot }) => {
            return Err(Error::data(format!(
                "adjust: the propensity model's covariates are collinear at `{}` (a level no \
                 assigned account has, or a column that repeats others); drop it from \
                 `adjust.covariates`",
                name(pivot)
            )))
        }
        Err(Failure::NoConvergence { iterations, step }) => {
            return Err(Error::data(format!(
                "adjust: the propensity model did not converge in {iterations} iterations (last \
                 step {step:.2e}); use fewer covariates or `method: stratify`"
            )))
        }
    };
    crate::log::info(
        "plan",
        &format!(
            "adjust: propensity model fitted in {} iterations: {}",
            fitted.iterations,
            design
                .iter()
                .zip(&fitted.coefficients)
                .map(|((n, _), b)| format!("{n} {b:+.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    // The score's order is the linear predictor's (the logistic function
    // is increasing), so its quantiles cut the accounts the same way.
    let score = design
        .iter()
        .zip(&fitted.coefficients)
        .map(|((_, e), b)| e.clone() * lit(*b))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0.0));
    // The distinct linear predictors of the assigned accounts' covariate
    // patterns, ascending.
    let mut distinct: Vec<f64> = patterns
        .iter()
        .filter(|pattern| pattern.units > 0.0)
        .map(|pattern| {
            pattern
                .x
                .iter()
                .zip(&fitted.coefficients)
                .map(|(x, b)| x * b)
                .sum::<f64>()
        })
        .collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs().max(1.0));
    let bounds = if distinct.len() <= adjust.strata as usize {
        // docs/STATISTICS.md#strata: at most `strata` patterns, one stratum each.
        distinct.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect()
    } else {
        quantile_cuts(accounts, &score, adjust.strata, &distinct, error)?
    };
    let mut label = lit(format!("propensity={}", bounds.len() + 1));
    for (k, bound) in bounds.iter().enumerate().rev() {
        label = when(score.clone().lt(lit(*bound)))
            .then(lit(format!("propensity={}", k + 1)))
            .otherwise(label);
    }
    Ok(label.alias(STRATUM))
}

/// docs/STATISTICS.md#strata: the quantiles k/`strata` of the trained
/// accounts' scores, each moved to the midpoint between the two distinct
/// scores around it (an account on a quantile goes above it, as with the
/// quantile itself), so that a cut never falls on a score and no two
/// accounts with the same score are split; equal cuts merged.
fn quantile_cuts(
    accounts: &LazyFrame,
    score: &Expr,
    strata: u32,
    distinct: &[f64],
    error: impl Fn(PolarsError) -> Error,
) -> Result<Vec<f64>> {
    let quantiles: Vec<Expr> = (1..strata)
        .map(|k| {
            col("score")
                .quantile(lit(k as f64 / strata as f64), QuantileMethod::Linear)
                .alias(format!("q{k}"))
        })
        .collect();
    let cuts = accounts
        .clone()
        .filter(col("cohort_at_as_of").eq(lit(crate::cohort::TRAINED)))
        .select([score.clone().alias("score")])
        .select(quantiles)
        .collect()
        .map_err(error)?;
    let mut bounds: Vec<f64> = (1..strata)
        .filter_map(|k| cuts.column(&format!("q{k}")).ok()?.f64().ok()?.get(0))
        .filter_map(|q| {
            // The first distinct score at or above q, and the one before it.
            let above = distinct
                .iter()
                .position(|s| *s >= q - 1e-9 * q.abs().max(1.0))?;
            (above > 0).then(|| (distinct[above - 1] + distinct[above]) / 2.0)
        })
        .collect();
    bounds.dedup();
    Ok(bounds)
}
