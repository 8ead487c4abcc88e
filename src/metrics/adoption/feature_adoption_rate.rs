//! `feature_adoption_rate`: share of subjects who used each feature.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{population, requirements, Level};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{left_join_filled, Metric, MetricPlan, PlanContext, Reference, Units};
use crate::time::date_lit;

/// SPEC §5 `feature_adoption_rate`: "per feature (dimension = event_name;
/// `features` list, default every event_name): subjects with ≥ 1 event of it
/// in [S, A) / population".
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureAdoptionRate {
    /// Event names to report (default: every event_name seen in the period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// `account` (default) or `user`.
    #[serde(default)]
    pub level: Level,
}

impl Metric for FeatureAdoptionRate {
    fn description(&self) -> &'static str {
        "Per feature (event_name): subjects who used it in [S, A) / subjects of the period."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements(self.level)
    }

    fn activity_from(&self, period: &crate::time::Period) -> Option<chrono::NaiveDate> {
        Some(super::reads_from(period, None))
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        // Used in [S, A): the last day with the event is on or after S.
        let used = ctx
            .event_days(self.level.into())?
            .filter(col("last_day").gt_eq(date_lit(ctx.period.start)))
            .select([col("subject_id"), col("event_name")])
            .with_column(lit(true).alias("used"));
        let features = match &self.features {
            Some(list) => {
                DataFrame::new_infer_height(vec![Column::new("event_name".into(), list.clone())])
                    .unwrap_or_default()
                    .lazy()
            }
            None => used
                .clone()
                .select([col("event_name")])
                .unique_stable(None, UniqueKeepStrategy::First),
        };
        let grid = left_join_filled(
            population(ctx, self.level)?.cross_join(features, None),
            used,
            &["subject_id", "event_name"],
            "used",
            lit(false),
        );
        let plan = Units::new(grid, Reference::PeriodStart, ctx)
            .dimension(col("event_name"))
            .share(ctx, col("used"));
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn one_row_per_feature() {
        // Customers {1, 3, 4, 5, 8}. In [S, A): login {1, 3, 4}, report_created {1, 5}, export {1}.
        let c = Fixture::tiny().compute_events("[feature_adoption_rate]");
        let adoption = |cohort: &str, feature: &str| {
            dimension_value(&c, "feature_adoption_rate", cohort, feature)
        };
        assert_close(adoption("all", "login"), 0.6);
        assert_close(adoption("all", "report_created"), 0.4);
        assert_close(adoption("all", "export"), 0.2);
        assert_close(adoption("trained", "login"), 1.0);
        // An explicit list reports only those features, also when nobody used one.
        let c = Fixture::tiny()
            .compute_events("[{ feature_adoption_rate: { features: [export, invite_sent] } }]");
        assert_close(
            dimension_value(&c, "feature_adoption_rate", "all", "invite_sent"),
            0.0,
        );
        assert!(!c
            .metric_rows
            .iter()
            .any(|r| r.dimension.as_deref() == Some("login")));
    }
}
