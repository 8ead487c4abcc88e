//! What the configured metrics need from the stages below them: the
//! sources and columns the scan must find, the data rules and days the
//! checks cover, and the days of activity. The stages below take these as
//! plain values, so that they know nothing of the metrics.

use super::{MetricConfig, Reference};
use crate::config::{Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::quality::Scope;
use crate::time::{DayRange, Period};

/// What the metrics' parameters make worth a warning, each prefixed with
/// the metric's id (the health score's `trained` signal).
pub fn config_warnings(metrics: &[MetricConfig]) -> Vec<String> {
    metrics
        .iter()
        .flat_map(|m| {
            m.metric()
                .config_warnings()
                .into_iter()
                .map(move |w| format!("metric `{}`: {w}", m.id()))
        })
        .collect()
}

/// The days of activity the configured metrics read (None when no metric
/// reads events): from the earliest day any of them looks at, to A
/// (docs/ARCHITECTURE.md, "Activity").
pub fn activity_range(metrics: &[MetricConfig], period: &Period) -> Option<DayRange> {
    DayRange::covering(
        metrics
            .iter()
            .filter_map(|m| m.metric().activity_from(period)),
        period.as_of,
    )
}

/// What the data and plausibility checks cover for these metrics: their
/// data rules, the days of events they read, and the metrics that compare
/// the cohorts at the period start.
pub fn check_scope(metrics: &[MetricConfig], period: &Period) -> Scope {
    let activity = activity_range(metrics, period);
    Scope {
        data_rules: metrics
            .iter()
            .flat_map(|m| m.metric().data_rules())
            .collect(),
        event_days: activity,
        activity,
        period_metrics: metrics
            .iter()
            .filter(|m| m.metric().compares_at() == Reference::PeriodStart)
            .map(|m| m.id())
            .collect(),
        spill: None,
    }
}

/// A metric that needs a missing source or column is a configuration error
/// naming both (docs/INPUTS.md, "The checks"). Every problem is reported at
/// once.
pub fn check_columns(metrics: &[MetricConfig], inputs: &Inputs, pipeline: &Pipeline) -> Result<()> {
    let mut problems = Vec::new();
    for metric in metrics {
        for (source, column) in metric.metric().requires() {
            match inputs.get(source) {
                // Its problem is reported already (docs/INPUTS.md#the-checks).
                None if inputs.failed(source) => {}
                None => {
                    let problem = missing_source(metric.id(), source);
                    if !problems.contains(&problem) {
                        problems.push(problem);
                    }
                }
                Some(loaded) if !loaded.has_column(column) => problems.push(format!(
                    "metric `{}` needs column `{column}` of source `{source}` ({}), which is missing",
                    metric.id(),
                    loaded.files_shown()
                )),
                Some(_) => {}
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let list = problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n");
    Err(Error::config(format!(
        "`{}`: the inputs do not fit the metrics:\n{list}",
        pipeline.file_path.display()
    )))
}

fn missing_source(metric: &str, source: SourceName) -> String {
    format!("metric `{metric}` needs source `{source}`, which the pipeline does not define")
}
