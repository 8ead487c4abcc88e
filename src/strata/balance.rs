//! The `balance` table (docs/OUTPUTS.md#balance): covariate shares or means
//! among trained and untrained accounts before and after adjustment.

use polars::prelude::*;

use super::STRATUM;
use crate::config::AdjustConfig;
use crate::frame::ordered_sum;

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

/// docs/OUTPUTS.md#balance: "per covariate level, shares or means among trained
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
