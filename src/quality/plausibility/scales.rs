//! Scales (docs/INPUTS.md#the-checks): an `nps_responses` source
//! whose scores never exceed 5 is a 1–5 satisfaction survey mapped as NPS
//! (NPS asks 0–10): every response would count as a detractor and every
//! cohort's NPS would read −100.

use polars::prelude::*;

use crate::error::{Error, Result};

/// Below this many scores, a 0–10 survey may hold no score above 5 by
/// chance; from it on, none above 5 means another scale.
pub(super) const MIN_SCORES: u64 = 20;

/// The highest NPS score and how many scores there are, and how many of
/// each value (for the message).
pub(super) fn nps_scale_plan(responses: LazyFrame) -> LazyFrame {
    responses
        .select([col("score").cast(DataType::Float64)])
        .filter(col("score").is_not_null())
        .group_by([col("score")])
        .agg([len().cast(DataType::UInt64).alias("rows")])
        .sort(["score"], SortMultipleOptions::default())
}

/// docs/INPUTS.md#the-checks: at least [`MIN_SCORES`] NPS scores
/// and none above 5 is an error naming the likely mix-up.
pub(super) fn check_nps_scale(values: &DataFrame, files: &str) -> Result<()> {
    let error = |e: PolarsError| Error::other(format!("checking the NPS scale: {e}"));
    if values.height() == 0 {
        return Ok(());
    }
    let score = values
        .column("score")
        .map_err(error)?
        .f64()
        .map_err(error)?
        .clone();
    let rows = values
        .column("rows")
        .map_err(error)?
        .u64()
        .map_err(error)?
        .clone();
    let pairs: Vec<(f64, u64)> = (0..values.height())
        .filter_map(|i| Some((score.get(i)?, rows.get(i)?)))
        .collect();
    let total: u64 = pairs.iter().map(|p| p.1).sum();
    let highest = pairs.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    if total < MIN_SCORES || highest > 5.0 {
        return Ok(());
    }
    let seen: Vec<String> = pairs
        .iter()
        .map(|(s, n)| format!("{s} ({n} rows)"))
        .collect();
    Err(Error::data_hint(
        format!(
            "`nps_responses` ({files}): none of its {total} scores is above 5 (`score` values seen: {}); NPS is \
             asked on 0–10, so this looks like a 1–5 satisfaction survey: read as NPS, every response \
             would be a detractor and every cohort's NPS −100",
            seen.join(", ")
        ),
        "map the survey as `csat_responses` (with `csat: { scale_max: 5 }`), or map the 0–10 \
         question's column as `score`",
    ))
}
