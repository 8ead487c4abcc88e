//! `key_action_correlation`: association between training and the key action.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::key_action_rate::did_key_action;
use super::{check_event, requirements, Level};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Measure, Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::stats::{Association, Direction, Kind};

/// docs/METRICS.md#key_action_correlation: "2×2 table over the assigned subjects of
/// the population: a = trained & did, b = trained & not, c = untrained & did,
/// d = untrained & not. Rows (cohort `all`) with dimension `phi` =
/// (ad − bc)/√((a+b)(c+d)(a+c)(b+d)) and `tetrachoric` = cos(π / (1 + √(ad/bc)))".
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyActionCorrelation {
    /// The event_name of the key action (required).
    pub event: String,
    /// `account` (default) or `user`.
    #[serde(default)]
    pub level: Level,
}

impl Metric for KeyActionCorrelation {
    fn description(&self) -> &'static str {
        "Association of being trained with doing `event` in [S, A): phi coefficient and tetrachoric (cos-π) approximation."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements(self.level)
    }

    fn check_config(&self) -> Vec<String> {
        check_event(&self.event)
    }

    fn activity_from(&self, period: &crate::time::Period) -> Option<chrono::NaiveDate> {
        Some(super::reads_from(period, None))
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let units = did_key_action(ctx, &self.event, self.level)?;
        let measures = [
            ("phi", Association::Phi),
            ("tetrachoric", Association::Tetrachoric),
        ]
        .into_iter()
        .map(|(name, measure)| Measure {
            dimension: lit(name),
            period: None,
            kind: Kind::Association(measure),
            direction: Direction::HigherIsBetter,
            sums: Sums::proportion(col("did")),
        })
        .collect();
        Ok(MetricPlan::many(
            Units::new(units, Reference::PeriodStart, ctx).measures(ctx, measures),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn two_by_two_of_cohort_and_key_action() {
        // Assigned customers at S: trained {1 did, 4 not}, untrained {3 not} → a = 1, b = 1, c = 0, d = 1.
        // phi = (1·1 − 1·0)/√(2·1·1·2) = 0.5; tetrachoric: bc = 0 < ad → 1. One row, cohort `all`.
        let c = Fixture::tiny()
            .compute_events("[{ key_action_correlation: { event: report_created } }]");
        assert_close(
            row(&c, "key_action_correlation", "all", None, Some("phi")).value,
            0.5,
        );
        assert_close(
            row(
                &c,
                "key_action_correlation",
                "all",
                None,
                Some("tetrachoric"),
            )
            .value,
            1.0,
        );
        assert_eq!(
            row(&c, "key_action_correlation", "all", None, Some("phi")).n,
            3
        );
        assert!(!c
            .metric_rows
            .iter()
            .any(|r| r.metric == "key_action_correlation" && r.cohort != "all"));
        assert!(!c
            .lift_rows
            .iter()
            .any(|r| r.metric == "key_action_correlation"));
    }
}
