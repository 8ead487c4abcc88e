//! `knowledge_retention`: course scores of the completions in the period.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::presentation::Unit;
use crate::metrics::{Measure, Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::stats::{Direction, Kind};

/// docs/METRICS.md#knowledge_retention: "completions in [S, A) with a score:
/// dimension `mean_score` = mean score; dimension `pass_rate` = share with
/// score ≥ pass_mark (default 80)". Completions are nested in accounts, so
/// both rows take the cluster-robust variance (docs/STATISTICS.md#units-nested-in-accounts);
/// the metric is descriptive (docs/STATISTICS.md#descriptive-metrics): its
/// lift rows carry no test.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeRetention {
    /// Lowest passing score (default 80).
    #[serde(default = "default_pass_mark")]
    pub pass_mark: f64,
}

impl Default for KnowledgeRetention {
    fn default() -> Self {
        KnowledgeRetention {
            pass_mark: default_pass_mark(),
        }
    }
}

fn default_pass_mark() -> f64 {
    80.0
}

impl Metric for KnowledgeRetention {
    /// `mean_score` is a score; the other row is a share.
    fn unit_of_dimension(&self, dimension: &str) -> Option<Unit> {
        (dimension == "mean_score").then_some(Unit::Number)
    }

    fn description(&self) -> &'static str {
        "Scores of completions in [S, A): dimension `mean_score` (mean score) and `pass_rate` (share ≥ pass_mark); descriptive."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Training, "account_id"),
            (SourceName::Training, "completed_at"),
            (SourceName::Training, "score"),
        ]
    }

    fn check_config(&self) -> Vec<String> {
        if !(0.0..=100.0).contains(&self.pass_mark) {
            return vec![format!(
                "`pass_mark` must be between 0 and 100, got {}",
                self.pass_mark
            )];
        }
        Vec::new()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let scored = ctx
            .rows_in_period(SourceName::Training, "completed_at")?
            .filter(col("score").is_not_null());
        let mean = Measure {
            dimension: lit("mean_score"),
            period: None,
            kind: Kind::Mean,
            direction: Direction::HigherIsBetter,
            sums: Sums {
                num: col("score"),
                den: lit(1.0),
                sq: col("score") * col("score"),
                ..Sums::zero()
            },
        };
        let pass = Measure::share(lit("pass_rate"), col("score").gt_eq(lit(self.pass_mark)));
        Ok(MetricPlan::many(
            Units::new(scored, Reference::PeriodStart, ctx)
                .nested()
                .measures(ctx, vec![mean, pass]),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn mean_score_and_pass_rate() {
        // Completions in [S, A) with a score: 4 → 100, 5 → 80 (3's completion is after A, 8's before S).
        // mean 90, s² = ((10)² + (10)²)/1 = 200, CI = 90 ± 1.959964·√(200/2) = [70.40036, 109.59964].
        // pass_mark 80: 2/2. trained {4}: mean 100 (no interval with one score); untrained: no score → null.
        let c = Fixture::catalog().compute_catalog("[knowledge_retention]");
        let mean = row(&c, "knowledge_retention", "all", None, Some("mean_score"));
        assert_close(mean.value, 90.0);
        assert_close(mean.ci_low, 90.0 - 19.59964);
        assert_close(mean.ci_high, 90.0 + 19.59964);
        assert_eq!(mean.n, 2);
        assert_close(
            row(&c, "knowledge_retention", "all", None, Some("pass_rate")).value,
            1.0,
        );
        let trained = row(
            &c,
            "knowledge_retention",
            "trained",
            None,
            Some("mean_score"),
        );
        assert_close(trained.value, 100.0);
        assert_eq!(trained.ci_low, None);
        let untrained = row(
            &c,
            "knowledge_retention",
            "untrained",
            None,
            Some("mean_score"),
        );
        assert_eq!((untrained.value, untrained.n), (None, 0));
        // pass_mark 90: only the 100 passes → 1/2.
        let c = Fixture::catalog().compute_catalog("[{ knowledge_retention: { pass_mark: 90 } }]");
        assert_close(
            row(&c, "knowledge_retention", "all", None, Some("pass_rate")).value,
            0.5,
        );
    }
}
