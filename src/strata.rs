//! The strata of the adjusted comparison (SPEC §6 "Adjusted comparisons",
//! pipeline key `adjust`): each account's stratum, a text column `stratum`
//! on the account frame that every metric plan carries like a segment
//! column, so that the counting stage sums each cohort per stratum and the
//! statistics stage can standardize the untrained to the trained strata.

use polars::prelude::*;

use crate::config::{AdjustConfig, AdjustMethod, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::metrics::aggregate::ordered_sum;
use crate::source::LoadedSource;

/// The column every unit frame carries when the pipeline has `adjust`.
pub const STRATUM: &str = "stratum";

/// `adjust.method: stratify`: "strata = combinations of covariate levels
/// (buckets for numeric ones)", written `plan=growth|seats=[5, 20)`; a null
/// value is its own level, `(null)`.
pub fn stratify(adjust: &AdjustConfig, inputs: &Inputs) -> Result<Expr> {
    let accounts = inputs
        .get(SourceName::Accounts)
        .ok_or_else(|| Error::config("`adjust` needs `sources.accounts`".to_string()))?;
    let mut parts = Vec::new();
    for (i, covariate) in adjust.covariates.iter().enumerate() {
        let label = match adjust.buckets.get(covariate) {
            Some(bounds) => {
                let dtype = accounts.column_type(covariate);
                if !dtype.as_ref().is_some_and(DataType::is_primitive_numeric) {
                    return Err(Error::config(format!(
                        "`adjust.buckets.{covariate}`: `{covariate}` of `sources.accounts` is {}, not a number; \
                         bucket a numeric column, or list the text column without buckets",
                        dtype.map_or("missing".to_string(), |d| d.to_string())
                    )));
                }
                bucket_label(col(covariate.as_str()).cast(DataType::Float64), bounds)
            }
            None => col(covariate.as_str())
                .cast(DataType::String)
                .fill_null(lit("(null)")),
        };
        let separator = if i == 0 { "" } else { "|" };
        parts.push(lit(format!("{separator}{covariate}=")));
        parts.push(label);
    }
    Ok(concat_str(parts, "", false).alias(STRATUM))
}

/// The range of `value` among `bounds` (ascending): `<a`, `[a, b)`, …,
/// `>=z`, or `(null)`.
fn bucket_label(value: Expr, bounds: &[f64]) -> Expr {
    let text = |b: f64| format!("{b}");
    let mut label = lit(format!(">={}", text(bounds[bounds.len() - 1])));
    for pair in bounds.windows(2).rev() {
        label = when(value.clone().lt(lit(pair[1])))
            .then(lit(format!("[{}, {})", text(pair[0]), text(pair[1]))))
            .otherwise(label);
    }
    when(value.clone().is_null()).then(lit("(null)")).otherwise(
        when(value.lt(lit(bounds[0])))
            .then(lit(format!("<{}", text(bounds[0]))))
            .otherwise(label),
    )
}

/// Checks what the strata need from the schemas alone (a bucketed
/// covariate must be numeric), before any row is read.
pub fn check(adjust: &AdjustConfig, inputs: &Inputs) -> Result<()> {
    stratify(adjust, inputs).map(|_| ())
}

/// The account frame with its `stratum` column, by the pipeline's method.
/// `accounts` is the account frame carrying the covariates.
pub fn with_strata(
    accounts: LazyFrame,
    adjust: &AdjustConfig,
    inputs: &Inputs,
) -> Result<LazyFrame> {
    let stratum = match adjust.method {
        AdjustMethod::Stratify => stratify(adjust, inputs)?,
        AdjustMethod::Propensity => propensity(&accounts, adjust, inputs)?,
    };
    Ok(accounts.with_column(stratum))
}

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
    let error = |e: PolarsError| Error::Other(format!("adjust: reading the covariates: {e}"));
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

/// A covariate read as numbers (entered as given) rather than levels.
fn is_numeric(source: &LoadedSource, column: &str) -> bool {
    source
        .column_type(column)
        .as_ref()
        .is_some_and(DataType::is_primitive_numeric)
}

/// A text covariate's value as its level, null as `(null)`.
fn label(column: &str) -> Expr {
    col(column).cast(DataType::String).fill_null(lit("(null)"))
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
    let error = |e: PolarsError| Error::Other(format!("adjust: reading the covariates: {e}"));
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
fn propensity(accounts: &LazyFrame, adjust: &AdjustConfig, inputs: &Inputs) -> Result<Expr> {
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
    let error = |e: PolarsError| Error::Other(format!("adjust: fitting the propensity model: {e}"));
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
            return Err(Error::Data(format!(
                "adjust: the propensity model has no finite estimate: a covariate level separates \
                 trained from untrained accounts ({culprit}); merge or drop that level, or use \
                 `method: stratify` (which compares only the strata where both cohorts have \
                 accounts)"
            )));
        }
        Err(Failure::Singular { pivot }) => {
            return Err(Error::Data(format!(
                "adjust: the propensity model's covariates are collinear at `{}` (a level no \
                 assigned account has, or a column that repeats others); drop it from \
                 `adjust.covariates`",
                name(pivot)
            )))
        }
        Err(Failure::NoConvergence { iterations, step }) => {
            return Err(Error::Data(format!(
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
    // Cut points: the quantiles k/strata of the trained accounts' scores.
    let quantiles: Vec<Expr> = (1..adjust.strata)
        .map(|k| {
            col("score")
                .quantile(lit(k as f64 / adjust.strata as f64), QuantileMethod::Linear)
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
    let mut bounds: Vec<f64> = (1..adjust.strata)
        .filter_map(|k| cuts.column(&format!("q{k}")).ok()?.f64().ok()?.get(0))
        .collect();
    bounds.dedup();
    let mut label = lit(format!("propensity={}", bounds.len() + 1));
    for (k, bound) in bounds.iter().enumerate().rev() {
        label = when(score.clone().lt(lit(*bound)))
            .then(lit(format!("propensity={}", k + 1)))
            .otherwise(label);
    }
    Ok(label.alias(STRATUM))
}

/// Columns of `balance` after run_id and as_of.
pub const BALANCE_COLUMNS: [&str; 8] = [
    "covariate",
    "level",
    "trained",
    "untrained",
    "trained_adjusted",
    "untrained_adjusted",
    "smd",
    "smd_adjusted",
];

/// SPEC §7 `balance`: "per covariate level, shares or means among trained
/// and untrained before and after adjustment, standardized mean difference".
///
/// The accounts are those assigned at the period start S (`cohort_at_start`,
/// the reference of the period metrics). Before adjustment every account
/// weighs 1; after, the trained accounts of the comparable strata (at least
/// `min_per_arm` trained and untrained accounts) weigh 1 and each untrained
/// account of such a stratum k weighs (n₁k/N₁)/(n₀k/N₀), the weight that
/// standardizes the untrained to the trained strata; the rest weigh 0.
/// A covariate without buckets gives one row per level (`level`, shares);
/// a bucketed (numeric) one gives its mean (`level` null, nulls skipped).
/// SMD = (a − b)/√((v_a + v_b)/2) with v = p(1 − p) for shares and the
/// (weighted) variance for means. Weighted sums are [`ordered_sum`]s, so
/// reruns give the same bits.
pub fn balance(accounts: LazyFrame, adjust: &AdjustConfig) -> LazyFrame {
    let min = lit(adjust.min_per_arm as f64);
    let base = accounts
        .filter(col("cohort_at_start").is_not_null())
        .with_column(
            col("cohort_at_start")
                .eq(lit(crate::cohort::TRAINED))
                .cast(DataType::Float64)
                .alias("t"),
        )
        .with_column((lit(1.0) - col("t")).alias("u"));
    let per_stratum = base
        .clone()
        .group_by([col(STRATUM)])
        .agg([col("t").sum().alias("n1"), col("u").sum().alias("n0")])
        .with_column(
            col("n1")
                .gt_eq(min.clone())
                .and(col("n0").gt_eq(min))
                .alias("comparable"),
        );
    let comparable_totals = per_stratum.clone().filter(col("comparable")).select([
        col("n1").sum().alias("big_n1"),
        col("n0").sum().alias("big_n0"),
    ]);
    let weights = per_stratum.cross_join(comparable_totals, None).select([
        col(STRATUM),
        col("comparable").cast(DataType::Float64).alias("w1"),
        when(col("comparable"))
            .then((col("n1") / col("big_n1")) / (col("n0") / col("big_n0")))
            .otherwise(lit(0.0))
            .alias("w0"),
    ]);
    let weighted = base
        .join(
            weights,
            [col(STRATUM)],
            [col(STRATUM)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            (col("t") * col("w1")).alias("at"),
            (col("u") * col("w0")).alias("au"),
        ]);
    let rows: Vec<LazyFrame> = adjust
        .covariates
        .iter()
        .map(|covariate| match adjust.buckets.contains_key(covariate) {
            true => covariate_means(weighted.clone(), covariate),
            false => covariate_shares(weighted.clone(), covariate),
        })
        .collect();
    concat(rows, UnionArgs::default())
        .expect("balance rows share one schema")
        .sort(
            ["covariate", "level"],
            SortMultipleOptions::default().with_nulls_last(false),
        )
}

/// The four weights of a balance row: trained and untrained, before (`t`,
/// `u`) and after (`at`, `au`) adjustment.
const WEIGHTS: [&str; 4] = ["t", "u", "at", "au"];

fn smd(a: Expr, var_a: Expr, b: Expr, var_b: Expr) -> Expr {
    let sd = ((var_a + var_b) / lit(2.0)).sqrt();
    when(sd.clone().gt(lit(0.0)))
        .then((a - b) / sd)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// Shares of each level of a text covariate.
fn covariate_shares(weighted: LazyFrame, covariate: &str) -> LazyFrame {
    let level = col(covariate)
        .cast(DataType::String)
        .fill_null(lit("(null)"))
        .alias("level");
    let sums: Vec<Expr> = WEIGHTS
        .iter()
        .map(|w| ordered_sum(col(*w)).alias(*w))
        .collect();
    let totals: Vec<Expr> = WEIGHTS
        .iter()
        .map(|w| ordered_sum(col(*w)).alias(format!("total_{w}")))
        .collect();
    let share = |w: &str| col(w) / col(format!("total_{w}").as_str());
    let var = |e: Expr| e.clone() * (lit(1.0) - e);
    weighted
        .clone()
        .group_by([level])
        .agg(sums)
        .cross_join(weighted.select(totals), None)
        .select([
            lit(covariate).alias("covariate"),
            col("level"),
            share("t").alias("trained"),
            share("u").alias("untrained"),
            share("at").alias("trained_adjusted"),
            share("au").alias("untrained_adjusted"),
            smd(share("t"), var(share("t")), share("u"), var(share("u"))).alias("smd"),
            smd(share("at"), var(share("at")), share("au"), var(share("au"))).alias("smd_adjusted"),
        ])
}

/// Weighted means of a numeric covariate (nulls skipped).
fn covariate_means(weighted: LazyFrame, covariate: &str) -> LazyFrame {
    let x = col(covariate).cast(DataType::Float64);
    let present = x.clone().is_not_null().cast(DataType::Float64);
    let mut sums = Vec::new();
    for w in WEIGHTS {
        let weight = col(w) * present.clone();
        sums.push(ordered_sum(weight.clone()).alias(format!("{w}_w")));
        sums.push(ordered_sum(weight.clone() * x.clone()).alias(format!("{w}_x")));
        sums.push(ordered_sum(weight * x.clone() * x.clone()).alias(format!("{w}_xx")));
    }
    let mean = |w: &str| col(format!("{w}_x").as_str()) / col(format!("{w}_w").as_str());
    let var = |w: &str| {
        col(format!("{w}_xx").as_str()) / col(format!("{w}_w").as_str()) - mean(w) * mean(w)
    };
    weighted.select(sums).select([
        lit(covariate).alias("covariate"),
        lit(NULL).cast(DataType::String).alias("level"),
        mean("t").alias("trained"),
        mean("u").alias("untrained"),
        mean("at").alias("trained_adjusted"),
        mean("au").alias("untrained_adjusted"),
        smd(mean("t"), var("t"), mean("u"), var("u")).alias("smd"),
        smd(mean("at"), var("at"), mean("au"), var("au")).alias("smd_adjusted"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_half_open_with_open_ends_and_a_null_level() {
        let df = df!("seats" => [None, Some(0.0), Some(1.0), Some(4.9), Some(5.0), Some(99.0), Some(100.0), Some(1e6)])
            .unwrap();
        let out = df
            .lazy()
            .select([bucket_label(col("seats"), &[1.0, 5.0, 100.0]).alias("b")])
            .collect()
            .unwrap();
        let labels = out.column("b").unwrap().str().unwrap().clone();
        let labels: Vec<Option<&str>> = (0..labels.len()).map(|i| labels.get(i)).collect();
        assert_eq!(
            labels,
            [
                Some("(null)"),
                Some("<1"),
                Some("[1, 5)"),
                Some("[1, 5)"),
                Some("[5, 100)"),
                Some("[5, 100)"),
                Some(">=100"),
                Some(">=100")
            ]
        );
    }

    #[test]
    fn balance_before_and_after_standardization() {
        // plan a: 2 trained, 6 untrained; plan b: 6 trained, 2 untrained (one stratum per plan).
        // Shares before: trained a 0.25, untrained a 0.75 → SMD (0.25 − 0.75)/√((0.1875 + 0.1875)/2)
        // = −1.1547005. After, the untrained weigh (2/8)/(6/8) = 1/3 in a and 3 in b: share a
        // = 2/8 = 0.25, SMD 0. Seats 10 in a and 30 in b: means 25 vs 15, variances 75 and 75 →
        // SMD 10/√75 = 1.1547005; after: 25 vs 25.
        let mut cohort = vec!["trained"; 2];
        cohort.extend(["untrained"; 6]);
        cohort.extend(["trained"; 6]);
        cohort.extend(["untrained"; 2]);
        let plan: Vec<&str> = (0..16).map(|i| if i < 8 { "a" } else { "b" }).collect();
        let stratum: Vec<String> = plan.iter().map(|p| format!("plan={p}")).collect();
        let seats: Vec<f64> = plan
            .iter()
            .map(|p| if *p == "a" { 10.0 } else { 30.0 })
            .collect();
        let accounts = df!(
            "cohort_at_start" => cohort,
            "plan" => plan,
            "seats" => seats,
            STRATUM => stratum
        )
        .unwrap();
        let adjust: AdjustConfig = serde_norway::from_str(
            "{ covariates: [plan, seats], buckets: { seats: [100] }, min_per_arm: 1 }",
        )
        .unwrap();
        let out = balance(accounts.lazy(), &adjust).collect().unwrap();
        let number =
            |name: &str, row: usize| out.column(name).unwrap().f64().unwrap().get(row).unwrap();
        // Rows sorted by covariate, level: plan a, plan b, seats (null level first within seats).
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(number("trained", 0), 0.25);
        close(number("untrained", 0), 0.75);
        close(number("untrained_adjusted", 0), 0.25);
        close(number("smd", 0), -1.1547005383792517);
        close(number("smd_adjusted", 0), 0.0);
        close(number("trained", 2), 25.0);
        close(number("untrained", 2), 15.0);
        close(number("untrained_adjusted", 2), 25.0);
        close(number("smd", 2), 1.1547005383792517);
        close(number("smd_adjusted", 2), 0.0);
        assert_eq!(out.height(), 3);
    }

    #[test]
    fn a_level_that_predicts_training_stops_the_propensity_model() {
        // Tiny fixture: assigned at A, trained {1, 4, 5, 7}, untrained {2, 3, 8}. `tier` is
        // "vip" exactly for the trained: no finite coefficient exists (separation), exit 3.
        use crate::testkit::*;
        let accounts = ACCOUNTS
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let tier = match i {
                    0 => "tier",
                    _ if ["1,", "4,", "5,", "7,"].iter().any(|p| line.starts_with(p)) => "vip",
                    _ => "basic",
                };
                format!("{line},{tier}\n")
            })
            .collect::<String>();
        let fixture = Fixture::tiny().with_files(&[("accounts.csv", &accounts)]);
        let path = fixture.pipeline(
            "[logo_retention]",
            "adjust: { method: propensity, covariates: [tier] }",
        );
        let pipeline = crate::run::load(&crate::run::RunOptions {
            pipeline: path,
            ..Default::default()
        })
        .unwrap();
        let error = crate::run::compute(&pipeline)
            .err()
            .expect("separation is an error");
        let message = error.to_string();
        assert!(matches!(error, Error::Data(_)), "{message}");
        assert!(
            message.contains(
                "a covariate level separates trained from untrained accounts (all its accounts \
                 trained, or none did: `tier=basic` (0 of 3 assigned accounts trained), \
                 `tier=vip` (4 of 4 assigned accounts trained))"
            ),
            "{message}"
        );
    }
}
