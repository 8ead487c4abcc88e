//! The strata of the adjusted comparison (SPEC §6 "Adjusted comparisons",
//! pipeline key `adjust`): each account's stratum, a text column `stratum`
//! on the account frame that every metric plan carries like a segment
//! column, so that the counting stage sums each cohort per stratum and the
//! statistics stage can standardize the untrained to the trained strata.

use polars::prelude::*;

use crate::config::{AdjustConfig, AdjustMethod, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;

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

/// The stratum expression of the pipeline's method.
pub fn stratum(adjust: &AdjustConfig, inputs: &Inputs) -> Result<Expr> {
    match adjust.method {
        AdjustMethod::Stratify => stratify(adjust, inputs),
        AdjustMethod::Propensity => Err(Error::config(
            "`adjust.method: propensity` is not available yet; use `stratify`".to_string(),
        )),
    }
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
}
