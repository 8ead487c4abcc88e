//! `feature_adoption_rate`: share of subjects who used each feature.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{population, requirements, Level};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{left_join_filled, Metric, MetricPlan, PlanContext, Reference, Units};

/// docs/METRICS.md#feature_adoption_rate: "per feature (dimension = event_name;
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
        let (subject, s) = (self.level.into(), ctx.period.start);
        // Used in [S, A): a row of the name from S on (activity ends before A).
        let used = ctx.names_used(subject, s)?;
        let names = match &self.features {
            Some(list) => Some(list.clone()),
            None => ctx.names_used_names(subject, s)?,
        };
        let grid = match names {
            Some(names) if names.len() <= BITS => grid_of_bits(ctx, self.level, used, &names)?,
            // Many names, or names not known yet (`explain`).
            _ => grid_of_pairs(ctx, self.level, used, self.features.as_deref())?,
        };
        let plan = Units::new(grid, Reference::PeriodStart, ctx)
            .nested_when(self.level == Level::User)
            .dimension(col("event_name"))
            .share(ctx, col("used"));
        Ok(MetricPlan::one(plan))
    }
}

/// Up to this many features, each subject's names are one integer of bits.
const BITS: usize = 64;

/// The population × the features `names` with `used`: each subject's
/// names used as the bits of one integer (a bit per feature), joined to
/// the population on the subject alone, so no join is keyed by
/// (subject, name) text (docs/ARCHITECTURE.md, "Activity").
fn grid_of_bits(
    ctx: &PlanContext,
    level: Level,
    used: LazyFrame,
    names: &[String],
) -> Result<LazyFrame> {
    let bits: Vec<u64> = (0..names.len()).map(|i| 1u64 << i).collect();
    let features = DataFrame::new_infer_height(vec![
        Column::new("event_name".into(), names.to_vec()),
        Column::new("bit".into(), bits),
    ])
    .map_err(|e| crate::error::Error::engine("planning feature_adoption_rate", e))?
    .lazy();
    // (subject, name) pairs are distinct: the sum of their bits is their or.
    let masks = used
        .join(
            features.clone(),
            [col("event_name")],
            [col("event_name")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("subject_id")])
        .agg([col("bit").sum().alias("mask")]);
    let grid = left_join_filled(
        population(ctx, level)?,
        masks,
        &["subject_id"],
        "mask",
        lit(0u64),
    )
    .cross_join(features, None)
    .with_column(col("mask").and(col("bit")).neq(lit(0u64)).alias("used"));
    Ok(grid)
}

/// The population × the features with `used`, joined on (subject, name):
/// the features are `list`, or every name some subject used in [S, A), in
/// the order of their names.
fn grid_of_pairs(
    ctx: &PlanContext,
    level: Level,
    used: LazyFrame,
    list: Option<&[String]>,
) -> Result<LazyFrame> {
    let used = used.with_column(lit(true).alias("used"));
    let features = match list {
        Some(list) => names_frame(list),
        None => used
            .clone()
            .select([col("event_name")])
            .unique(None, UniqueKeepStrategy::Any)
            .sort(["event_name"], Default::default()),
    };
    Ok(left_join_filled(
        population(ctx, level)?.cross_join(features, None),
        used,
        &["subject_id", "event_name"],
        "used",
        lit(false),
    ))
}

/// A frame of `names` as `event_name`.
fn names_frame(names: &[String]) -> LazyFrame {
    DataFrame::new_infer_height(vec![Column::new("event_name".into(), names.to_vec())])
        .unwrap_or_default()
        .lazy()
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

    #[test]
    fn features_below_and_beyond_the_folds_dense_names() {
        // The fold keeps the first 128 names it meets as bits per subject, the others as pairs;
        // up to 64 features the plan joins one integer of bits per subject (61 extra: exactly
        // 64, `report_created` last by name, the top bit), beyond it (subject, name) pairs: the
        // same numbers. Account 3 (untrained at S) uses `extra` more features on S; account 4
        // (trained) uses f00 at 23:59:59 on A − 1; account 1 `early` at 23:59 on S − 1 (before
        // the period: not a feature); account 99 (unknown: an orphan) `orphan_only`.
        for extra in [3, 61, 130] {
            let mut events = EVENTS.to_string();
            for i in 0..extra {
                events.push_str(&format!("3,31,2025-11-01T00:00:00Z,f{i:02}\n"));
            }
            events.push_str(concat!(
                "4,41,2025-12-31T23:59:59Z,f00\n",
                "1,11,2025-10-31T23:59:00Z,early\n",
                "99,991,2025-12-01T10:00:00Z,orphan_only\n",
            ));
            let fixture = Fixture::tiny();
            fixture.file("events.csv", &events);
            let c = fixture.compute_with_sources(
                "[feature_adoption_rate]",
                "training.csv",
                "  events: { path: events.csv }\n",
            );
            let adoption = |cohort: &str, feature: &str| {
                dimension_value(&c, "feature_adoption_rate", cohort, feature)
            };
            let features: Vec<&str> = c
                .metric_rows
                .iter()
                .filter(|r| {
                    r.metric == "feature_adoption_rate" && r.cohort == "all" && r.segment.is_none()
                })
                .filter_map(|r| r.dimension.as_deref())
                .collect();
            assert_eq!(
                features.len(),
                extra + 3,
                "{extra} extra names: {features:?}"
            );
            assert!(!features.contains(&"early") && !features.contains(&"orphan_only"));
            assert_close(adoption("all", "login"), 0.6);
            assert_close(adoption("all", "report_created"), 0.4);
            assert_close(adoption("all", "export"), 0.2);
            assert_close(adoption("all", "f00"), 0.4);
            assert_close(adoption("all", "f01"), 0.2);
            let last = format!("f{:02}", extra - 1);
            assert_close(adoption("untrained", &last), 1.0);
            assert_close(adoption("trained", &last), 0.0);
            assert_close(adoption("trained", "f00"), 0.5);
            // Folded in the one pass, without a dictionary of names read first.
            let reductions = &c.activity.as_ref().expect("activity ran").reductions;
            assert!(reductions.contains_key("names_used:account:2025-11-01"));
            assert!(!reductions.keys().any(|k| k.starts_with("event_names")));
        }
    }
}
