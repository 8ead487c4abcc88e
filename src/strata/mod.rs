//! The strata of the adjusted comparison (docs/STATISTICS.md#adjustment,
//! pipeline key `adjust`): each account's stratum, a text column `stratum`
//! on the account frame that every metric plan carries like a segment
//! column, so that the counting stage sums each cohort per stratum and the
//! statistics stage can standardize the untrained to the trained strata.

use polars::prelude::*;

use crate::config::{AdjustConfig, AdjustMethod, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::source::LoadedSource;

mod balance;
mod propensity;

pub use balance::{balance, BALANCE_COLUMNS};

pub use crate::cohort::STRATUM;

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
        AdjustMethod::Propensity => propensity::stratum(&accounts, adjust, inputs)?,
    };
    Ok(accounts.with_column(stratum))
}

/// A covariate read as numbers (entered as given) rather than levels.
pub(super) fn is_numeric(source: &LoadedSource, column: &str) -> bool {
    source
        .column_type(column)
        .as_ref()
        .is_some_and(DataType::is_primitive_numeric)
}

/// A text covariate's value as its level, null as `(null)`.
pub(super) fn label(column: &str) -> Expr {
    col(column).cast(DataType::String).fill_null(lit("(null)"))
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
        let job = crate::run::load(&crate::run::RunOptions {
            pipeline: path,
            ..Default::default()
        })
        .unwrap();
        let error = crate::run::compute(&job)
            .err()
            .expect("separation is an error");
        let message = error.to_string();
        assert!(matches!(error, Error::Data { .. }), "{message}");
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
