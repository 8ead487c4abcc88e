//! The plan stage: from the resolved pipeline and the scanned inputs to the
//! lazy plans of every output. Nothing is executed here.
//!
//! The account frame (cohorts at S and at A, segments) is built once and
//! shared by every metric through [`PlanContext`]; each configured metric
//! then contributes aggregates (for `metrics` and `lift`), extra tables and
//! custom plans, tagged here with the metric's id from the registry.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::activity::ActivityRange;
use crate::cohort;
use crate::config::{Pipeline, SourceName};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::metrics::{AggregatePlan, CustomPlan, MetricPlan, PlanContext};

/// One metric's aggregate, tagged with the metric's id.
pub struct MetricAggregate {
    pub metric: &'static str,
    pub plan: AggregatePlan,
}

/// One metric's custom plan, tagged with the metric's id.
pub struct MetricCustom {
    pub metric: &'static str,
    pub plan: CustomPlan,
}

/// The plans of one run.
pub struct Plans {
    /// Aggregates for the `metrics` and `lift` tables, in the pipeline's order.
    pub aggregates: Vec<MetricAggregate>,
    /// Output tables by name, before their published shape
    /// (`output::tables::shape`): `retention_curve`, `revenue_movements`,
    /// `account_health` when configured, and always `account_cohorts`.
    pub tables: BTreeMap<&'static str, LazyFrame>,
    /// Plans finished in Rust (survival).
    pub custom: Vec<MetricCustom>,
}

/// The days of activity the configured metrics read (None when no metric
/// reads events).
pub fn activity_range(pipeline: &Pipeline) -> Option<ActivityRange> {
    ActivityRange::covering(
        pipeline
            .metrics
            .iter()
            .filter_map(|m| m.metric().activity_from(&pipeline.period)),
        pipeline.period.as_of,
    )
}

/// Builds every plan; nothing is executed.
pub fn build_plans(pipeline: &Pipeline, inputs: &Inputs) -> Result<Plans> {
    // Read once: the cohort rule and the education metrics share it.
    let training = match inputs.get(SourceName::Training) {
        Some(_) => Some(inputs.frame(SourceName::Training)?.cache()),
        None => None,
    };
    let accounts = cohort::account_frame(
        inputs.frame(SourceName::Accounts)?,
        training.clone(),
        &pipeline.cohort,
        &pipeline.period,
        &pipeline.segment_by,
    )
    .cache();
    let ctx = PlanContext::new(
        &pipeline.period,
        inputs,
        &pipeline.segment_by,
        &pipeline.cohort,
        accounts.clone(),
    );
    let ctx = match activity_range(pipeline) {
        Some(range) => ctx.with_activity(range, crate::activity::local(inputs, range)?),
        None => ctx,
    };
    if let Some(training) = training {
        ctx.seed(SourceName::Training.as_str(), training);
    }
    let mut plans = Plans {
        aggregates: Vec::new(),
        tables: BTreeMap::new(),
        custom: Vec::new(),
    };
    for config in &pipeline.metrics {
        let metric = config.id();
        let MetricPlan {
            aggregates,
            tables,
            custom,
            skipped,
        } = config.metric().plan(&ctx)?;
        if let Some(reason) = skipped {
            crate::log::warn("plan", &format!("metric `{metric}`: {reason}"));
        }
        plans.aggregates.extend(
            aggregates
                .into_iter()
                .map(|plan| MetricAggregate { metric, plan }),
        );
        plans
            .tables
            .extend(tables.into_iter().map(|t| (t.table, t.frame)));
        plans
            .custom
            .extend(custom.into_iter().map(|plan| MetricCustom { metric, plan }));
    }
    plans.tables.insert(
        "account_cohorts",
        accounts.with_column(cohort::cohort_label_at_as_of()),
    );
    Ok(plans)
}
