//! Rules that depend on the pipeline's parameters: a metric states them
//! (`Metric::data_rules`), the resolved pipeline carries them, and the checks
//! run them with the docs/INPUTS.md rules of their source.

use polars::prelude::*;

use crate::config::SourceName;
use crate::source::typed_column;

/// One row rule over one column of a source: rows where `bad` is true break it.
#[derive(Debug, Clone)]
pub struct DataRule {
    pub source: SourceName,
    pub column: &'static str,
    /// What the rule asks, as the error message says it ("must be …").
    pub rule: String,
    pub bad: Expr,
}

impl DataRule {
    /// Non-null values of `column` that are not integers from `low` to `high`.
    pub fn integer_between(
        source: SourceName,
        column: &'static str,
        low: f64,
        high: f64,
        rule: String,
    ) -> DataRule {
        DataRule {
            source,
            column,
            rule,
            bad: integer_between(column, low, high),
        }
    }
}

/// The typed value of `column` in the check frame.
pub(super) fn typed(column: &str) -> Expr {
    col(typed_column(column))
}

/// Non-null values of `column` outside `[low, high]` or not whole.
pub(super) fn integer_between(column: &str, low: f64, high: f64) -> Expr {
    let c = typed(column);
    c.clone().is_not_null().and(
        c.clone()
            .lt(lit(low))
            .or(c.clone().gt(lit(high)))
            .or(c.clone().round(0, RoundMode::HalfAwayFromZero).neq(c)),
    )
}

/// docs/INPUTS.md `csat_responses.score`: "integer 1–scale_max" (the `csat`
/// metric's `scale_max`, 5 when no metric sets it); the message names the
/// likely mix-up (docs/INPUTS.md#the-checks, "CSAT scale").
pub fn csat_score(scale_max: u32) -> DataRule {
    DataRule::integer_between(
        SourceName::CsatResponses,
        "score",
        1.0,
        scale_max as f64,
        format!(
            "must be an integer from 1 to {scale_max} (the csat scale_max); a 0 or a score above \
             {scale_max} is what a 0–10 NPS question mapped as `csat_responses` gives: map that \
             survey as `nps_responses`, or declare this survey's scale with `csat: {{ scale_max: N }}`"
        ),
    )
}
