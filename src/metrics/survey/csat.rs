//! `csat`: share of satisfied responses in the period, in percent.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::quality::{csat_score, DataRule};
use crate::stats::{Direction, Kind};

/// docs/METRICS.md#csat: "responses in [S, A): value = 100 × (responses with score ≥
/// satisfied_min, default 4) / responses". Scores run from 1 to `scale_max`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Csat {
    /// Lowest score that counts as satisfied (default 4).
    #[serde(default = "default_satisfied_min")]
    pub satisfied_min: u32,
    /// Highest score of the scale (default 5); valid scores are 1..=scale_max.
    #[serde(default = "default_scale_max")]
    pub scale_max: u32,
}

impl Default for Csat {
    fn default() -> Self {
        Csat {
            satisfied_min: default_satisfied_min(),
            scale_max: default_scale_max(),
        }
    }
}

fn default_satisfied_min() -> u32 {
    4
}
fn default_scale_max() -> u32 {
    5
}

impl Metric for Csat {
    fn description(&self) -> &'static str {
        "Customer satisfaction in [S, A): 100 × responses with score ≥ satisfied_min / responses."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::CsatResponses, "account_id"),
            (SourceName::CsatResponses, "responded_at"),
            (SourceName::CsatResponses, "score"),
        ]
    }

    fn check_config(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.scale_max < 2 {
            problems.push(format!(
                "`scale_max` must be at least 2, got {}",
                self.scale_max
            ));
        }
        if self.satisfied_min < 1 || self.satisfied_min > self.scale_max {
            problems.push(format!(
                "`satisfied_min` must be between 1 and scale_max ({}), got {}",
                self.scale_max, self.satisfied_min
            ));
        }
        problems
    }

    fn data_rules(&self) -> Vec<DataRule> {
        vec![csat_score(self.scale_max)]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let responses = ctx.rows_in_period(SourceName::CsatResponses, "responded_at")?;
        let satisfied = col("score").gt_eq(lit(self.satisfied_min as f64));
        let plan = Units::new(responses, Reference::PeriodStart, ctx)
            .nested()
            .plan(
                ctx,
                Kind::Percent,
                Direction::HigherIsBetter,
                Sums::proportion(satisfied),
            );
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn csat_share_of_satisfied_in_percent() {
        // In [S, A): 1→5, 1→4, 3→2, 4→3, 8→4 (2→1 on 2025-10-31 is before S).
        // satisfied_min 4: all 3/5 = 60 %; trained {1, 4}: 5, 4, 3 → 2/3; untrained {3}: 0/1.
        let c = Fixture::tiny().compute("[{ csat: { satisfied_min: 4, scale_max: 5 } }]");
        let all = row(&c, "csat", "all", None, None);
        assert_close(all.value, 60.0);
        // Responses nested in accounts 1 (2 of 2), 3 (0/1), 4 (0/1), 8 (1/1): CR1,
        // var = 4/3 · (0.8² + 0.6² + 0.6² + 0.4²)/5² = 0.0810667, se 28.472209 % (statsmodels
        // cluster 28.472208672083486); CI = 60 ± 1.959964·28.472209.
        assert_close(all.ci_low, 60.0 - 1.959964 * 28.472208672083486);
        assert_close(all.ci_high, 60.0 + 1.959964 * 28.472208672083486);
        assert_eq!((all.n, all.clusters), (5, Some(4)));
        assert_close(value(&c, "csat", "trained"), 200.0 / 3.0);
        assert_close(value(&c, "csat", "untrained"), 0.0);
        // satisfied_min 3 counts the 3 as well: all 4/5.
        let c = Fixture::tiny().compute("[{ csat: { satisfied_min: 3 } }]");
        assert_close(value(&c, "csat", "all"), 80.0);
    }
}
