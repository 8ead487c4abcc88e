//! How each lift row is read (docs/STATISTICS.md#multiple-testing and
//! #descriptive-metrics): the rows of a descriptive metric lose their test,
//! and every tested row gets its multiple-testing family — `primary`,
//! `secondary` and `guardrail` for a metric's overall rows, `exploratory`
//! for every segment, month, breakdown or other dimension row.

use std::collections::BTreeSet;

use super::presentation::Tier;
use super::MetricConfig;
use crate::stats::{Family, LiftRow};

/// The pipeline's primary and guardrail metrics, and its metrics.
pub struct Families<'a> {
    metrics: &'a [MetricConfig],
    primary: BTreeSet<String>,
    guardrails: BTreeSet<String>,
}

impl<'a> Families<'a> {
    /// `primary` and `guardrails` as the pipeline lists them (checked when the
    /// pipeline is read); without a list, the metrics of that tier in the
    /// catalog (docs/METRICS.md, "Metric catalog").
    pub fn new(
        metrics: &'a [MetricConfig],
        primary: Option<&[String]>,
        guardrails: Option<&[String]>,
    ) -> Self {
        let of_tier = |tier: Tier| -> BTreeSet<String> {
            metrics
                .iter()
                .filter(|m| m.presentation().tier == tier)
                .map(|m| m.id().to_string())
                .collect()
        };
        let listed = |list: &[String]| list.iter().cloned().collect::<BTreeSet<_>>();
        Families {
            metrics,
            primary: primary.map_or_else(|| of_tier(Tier::Primary), listed),
            guardrails: guardrails.map_or_else(|| of_tier(Tier::Guardrail), listed),
        }
    }

    /// The money basis of a metric of the pipeline (docs/STATISTICS.md#money).
    pub fn money(&self, metric: &str) -> Option<crate::stats::impact::MoneyBasis> {
        self.metrics
            .iter()
            .find(|m| m.id() == metric)
            .and_then(|m| m.metric().money())
    }

    /// The pipeline's revenue-retention metrics, whose trained denominator
    /// is the trained cohort's starting MRR.
    pub fn revenue_retention(&self) -> Vec<&'static str> {
        self.metrics
            .iter()
            .filter(|m| {
                m.metric().money() == Some(crate::stats::impact::MoneyBasis::RetentionOfRevenue)
            })
            .map(|m| m.id())
            .collect()
    }

    /// Strips the test of every descriptive metric's rows and sets the
    /// family of every other tested row. `period` is the run's [S, A) in
    /// days since 1970-01-01.
    pub fn apply(&self, rows: &mut [LiftRow], period: (i32, i32)) {
        for row in rows {
            let Some(config) = self.metrics.iter().find(|m| m.id() == row.metric) else {
                continue;
            };
            let metric = config.metric();
            let dimension = row.dimension.as_deref();
            if !config.presentation().comparable() || metric.descriptive_row(dimension).is_some() {
                row.descriptive();
                continue;
            }
            if !row.tested() {
                continue;
            }
            let overall = row.segment.is_none()
                && metric.overall_row(dimension, (row.period_start, row.period_end), period);
            row.family = Some(if !overall {
                Family::Exploratory
            } else if self.primary.contains(&row.metric) && metric.headline_row(dimension) {
                Family::Primary
            } else if self.guardrails.contains(&row.metric) {
                Family::Guardrail
            } else {
                Family::Secondary
            });
        }
    }
}
