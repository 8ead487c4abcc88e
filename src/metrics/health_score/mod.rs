//! `health_score`: a weighted 0–100 score per current customer, the
//! `account_health` table, and the mean score per cohort.

mod signals;

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Sums, TablePlan, Units};
use crate::stats::{Direction, Kind};
use crate::time::{customer_at, date_lit};

/// docs/METRICS.md#health_score: "per account that is a customer at A: weighted
/// mean of the configured signals, each scaled 0–100, skipping signals an
/// account has no data for". Signals with no data for an account: activity
/// and key action when the account has no activity (no event in the run's
/// activity range, from S or A − 30 days, whichever is earlier, to A); `nps_latest` and
/// `csat_latest` without a response; `trained` when the account is not
/// assigned. Tickets are always data (none = 100). Cohorts at R = A.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthScore {
    /// The key action of `key_action_30`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The signals and their weights.
    #[serde(default)]
    pub signals: Signals,
}

impl Default for HealthScore {
    fn default() -> Self {
        HealthScore {
            event: None,
            signals: Signals::default(),
        }
    }
}

/// Signals of the health score; absent ones are not used.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    /// Distinct event days in the last 30 days; 100 at ≥ `good_at` (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_days_30: Option<ActiveDays>,
    /// Tickets in the last 90 days: 100 at 0, 0 at ≥ `bad_at` (default 5), linear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tickets_90: Option<Tickets>,
    /// Latest NPS score × 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_latest: Option<Weight>,
    /// Latest CSAT score scaled to 0–100 ((score − 1)/(scale_max − 1)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_latest: Option<CsatSignal>,
    /// 100 for trained, 0 for untrained (assigned accounts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained: Option<Weight>,
    /// 100 when `event` happened in the last 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_action_30: Option<Weight>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            active_days_30: Some(ActiveDays {
                weight: 0.4,
                good_at: 20,
            }),
            tickets_90: Some(Tickets {
                weight: 0.2,
                bad_at: 5,
            }),
            nps_latest: Some(Weight { weight: 0.2 }),
            csat_latest: None,
            trained: Some(Weight { weight: 0.2 }),
            key_action_30: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    pub weight: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveDays {
    pub weight: f64,
    #[serde(default = "default_good_at")]
    pub good_at: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tickets {
    pub weight: f64,
    #[serde(default = "default_bad_at")]
    pub bad_at: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CsatSignal {
    pub weight: f64,
    #[serde(default = "default_scale_max")]
    pub scale_max: u32,
}

fn default_good_at() -> u32 {
    20
}
fn default_bad_at() -> u32 {
    5
}
fn default_scale_max() -> u32 {
    5
}

/// The dimension of the score without the `trained` signal, which the lift
/// compares when the configured score includes it
/// (docs/STATISTICS.md#descriptive-metrics).
pub const WITHOUT_TRAINED: &str = "without_trained";

/// The weighted mean of the signals that have data; null without any.
fn score(weights: &[(&'static str, f64)]) -> Expr {
    let weighted = weights.iter().fold(lit(0.0), |acc, (name, w)| {
        acc + col(*name).fill_null(lit(0.0)) * lit(*w)
    });
    let total = weights.iter().fold(lit(0.0), |acc, (name, w)| {
        acc + col(*name).is_not_null().cast(DataType::Float64) * lit(*w)
    });
    when(total.clone().gt(lit(0.0)))
        .then(weighted / total)
        .otherwise(lit(NULL))
}

impl HealthScore {
    /// The configured weights without `trained`.
    fn weights_without_trained(&self) -> Vec<(&'static str, f64)> {
        self.weights()
            .into_iter()
            .filter(|(name, _)| *name != "trained")
            .collect()
    }

    fn weights(&self) -> Vec<(&'static str, f64)> {
        let s = &self.signals;
        let mut out = Vec::new();
        if let Some(x) = &s.active_days_30 {
            out.push(("active_days_30", x.weight));
        }
        if let Some(x) = &s.tickets_90 {
            out.push(("tickets_90", x.weight));
        }
        if let Some(x) = &s.nps_latest {
            out.push(("nps_latest", x.weight));
        }
        if let Some(x) = &s.csat_latest {
            out.push(("csat_latest", x.weight));
        }
        if let Some(x) = &s.trained {
            out.push(("trained", x.weight));
        }
        if let Some(x) = &s.key_action_30 {
            out.push(("key_action_30", x.weight));
        }
        out
    }
}

impl Metric for HealthScore {
    fn compares_at(&self) -> Reference {
        Reference::AsOf
    }

    /// With the `trained` signal, the configured score differs between the
    /// cohorts by construction: its lift row is descriptive, and the score
    /// without that signal (`without_trained`) is compared instead.
    fn descriptive_row(&self, dimension: Option<&str>) -> Option<&'static str> {
        (self.signals.trained.is_some() && dimension.is_none()).then_some(
            "its signals include `trained`, which is 100 for every trained account and 0 for every \
             untrained one; the row `without_trained` compares the score without it",
        )
    }

    fn overall_row(&self, dimension: Option<&str>, _rows: (i32, i32), _period: (i32, i32)) -> bool {
        matches!(dimension, None | Some(WITHOUT_TRAINED))
    }

    fn config_warnings(&self) -> Vec<String> {
        if self.signals.trained.is_none() {
            return Vec::new();
        }
        if self
            .weights_without_trained()
            .iter()
            .all(|(_, w)| *w == 0.0)
        {
            return vec![
                "the score's only weighted signal is `trained`, which the cohorts differ in by \
                 definition: its lift row is descriptive and there is no score to compare"
                    .to_string(),
            ];
        }
        vec![format!(
            "the signals include `trained` (weight {}), which differs between the cohorts by \
             definition: the lift row of the configured score is descriptive, and the row \
             `{WITHOUT_TRAINED}` compares the score without it (remove the signal to compare the score itself)",
            self.signals.trained.as_ref().map_or(0.0, |t| t.weight)
        )]
    }

    fn description(&self) -> &'static str {
        "Per customer at A: weighted mean of the configured 0–100 signals (table `account_health`); metric rows: mean score per cohort; with the `trained` signal also the score without it (`without_trained`), the row that is compared."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        let s = &self.signals;
        let mut needs = vec![(SourceName::Accounts, "account_id")];
        if s.active_days_30.is_some() || s.key_action_30.is_some() {
            needs.extend([
                (SourceName::Events, "account_id"),
                (SourceName::Events, "event_time"),
                (SourceName::Events, "event_name"),
            ]);
        }
        if s.tickets_90.is_some() {
            needs.extend([
                (SourceName::Tickets, "account_id"),
                (SourceName::Tickets, "created_at"),
            ]);
        }
        if s.nps_latest.is_some() {
            needs.extend([
                (SourceName::NpsResponses, "responded_at"),
                (SourceName::NpsResponses, "score"),
            ]);
        }
        if s.csat_latest.is_some() {
            needs.extend([
                (SourceName::CsatResponses, "responded_at"),
                (SourceName::CsatResponses, "score"),
            ]);
        }
        needs
    }

    fn check_config(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let weights = self.weights();
        if weights.is_empty() {
            problems.push("configure at least one signal".to_string());
        }
        if weights.iter().any(|(_, w)| !(*w >= 0.0)) || weights.iter().all(|(_, w)| *w == 0.0) {
            problems.push("weights must be ≥ 0 and not all 0".to_string());
        }
        if self.signals.key_action_30.is_some()
            && self.event.as_deref().is_none_or(|e| e.trim().is_empty())
        {
            problems.push("`key_action_30` needs `event`".to_string());
        }
        if self
            .signals
            .csat_latest
            .as_ref()
            .is_some_and(|c| c.scale_max < 2)
        {
            problems.push("`csat_latest.scale_max` must be at least 2".to_string());
        }
        problems
    }

    fn activity_from(&self, period: &crate::time::Period) -> Option<chrono::NaiveDate> {
        let s = &self.signals;
        (s.active_days_30.is_some() || s.key_action_30.is_some())
            .then(|| crate::metrics::adoption::reads_from(period, Some(signals::EVENT_SIGNAL_DAYS)))
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let customers = ctx
            .accounts
            .clone()
            .filter(customer_at(date_lit(ctx.period.as_of)));
        let (mut frame, signals) = signals::signals(self, ctx, customers)?;
        let weights = self.weights();
        frame = frame.with_columns(
            signals
                .iter()
                .map(|(name, e)| e.clone().cast(DataType::Float64).alias(*name))
                .collect::<Vec<_>>(),
        );
        // Read three times (the table, the score's rows and those without
        // `trained`): its joins and the latest responses computed once.
        frame = frame
            .with_columns([
                score(&weights).alias("health_score"),
                score(&self.weights_without_trained()).alias(WITHOUT_TRAINED),
            ])
            .cache();

        let mut table_columns = vec![
            col("account_id"),
            crate::cohort::cohort_label_at_as_of(),
            col("health_score"),
        ];
        table_columns.extend(weights.iter().map(|(name, _)| col(*name)));
        let table = frame.clone().select(table_columns);
        let mean = |column: &str, dimension: Option<&str>| {
            let scored = frame.clone().filter(col(column).is_not_null());
            let mut units = Units::new(scored, Reference::AsOf, ctx);
            if let Some(dimension) = dimension {
                units = units.dimension(lit(dimension));
            }
            units.plan(
                ctx,
                Kind::Mean,
                Direction::HigherIsBetter,
                Sums {
                    num: col(column),
                    den: lit(1.0),
                    sq: col(column) * col(column),
                    ..Sums::zero()
                },
            )
        };
        let mut aggregates = vec![mean("health_score", None)];
        if self.signals.trained.is_some() {
            aggregates.push(mean(WITHOUT_TRAINED, Some(WITHOUT_TRAINED)));
        }
        Ok(MetricPlan {
            aggregates,
            tables: vec![TablePlan {
                table: "account_health",
                frame: table,
            }],
            ..MetricPlan::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use crate::testkit::*;

    #[test]
    fn the_latest_score_is_the_mean_of_the_latest_days_responses_in_any_order() {
        // Account 1 answers 10 on 2025-11-01, then 9 and 6 on 2025-12-31 (two users), and 0 on A
        // (not before A): NPS (9 + 6)/2 = 7.5 → 75. CSAT: 5 on 2025-12-02, 2 and 5 on 2025-12-20:
        // 3.5 → (3.5 − 1) × 100 / 4 = 62.5. Account 3: one response each, 6 → 60 and 2 → 25.
        let nps = [
            "1,2025-11-01,10",
            "1,2025-12-31,9",
            "3,2025-11-10,6",
            "1,2025-12-31,6",
            "1,2026-01-01,0",
        ];
        let csat = [
            "1,2025-12-02,5",
            "1,2025-12-20,2",
            "3,2025-11-03,2",
            "1,2025-12-20,5",
        ];
        let metrics =
            "[{health_score: {signals: {nps_latest: {weight: 1}, csat_latest: {weight: 1}}}}]";
        for reversed in [false, true] {
            let file = |rows: &[&str]| {
                let mut rows = rows.to_vec();
                if reversed {
                    rows.reverse();
                }
                format!("account_id,responded_at,score\n{}\n", rows.join("\n"))
            };
            let c = Fixture::catalog()
                .with_files(&[("nps.csv", &file(&nps)), ("csat.csv", &file(&csat))])
                .compute_catalog(metrics);
            let table = &c.outputs["account_health"];
            let id = || col("account_id").cast(DataType::String);
            let only = id().eq(lit("1")).or(id().eq(lit("3")));
            assert_eq!(
                column_values(table, only.clone(), &["account_id"], "nps_latest"),
                ["75.0", "60.0"],
                "reversed: {reversed}"
            );
            assert_eq!(
                column_values(table, only, &["account_id"], "csat_latest"),
                ["62.5", "25.0"],
                "reversed: {reversed}"
            );
        }
    }

    #[test]
    fn weighted_signals_skip_missing_data() {
        // Customers at A: {1, 3, 5, 8}. Default signals: active_days_30 (0.4, 100 at 20 days), tickets_90
        // (0.2, 0 at 5), nps_latest (0.2), trained (0.2).
        // 1: 5 active days → 25; 2 tickets → 60; latest NPS 9 → 90; trained → 100: 10 + 12 + 18 + 20 = 60.
        // 3: 1 day → 5; 1 ticket → 80; latest NPS 6 → 60; untrained → 0: 2 + 16 + 12 + 0 = 30.
        // 5: events but none in 30 days → 0; no ticket → 100; no NPS (skipped); trained → 100: 40/0.8 = 50.
        // 8: no events (skipped); 100; NPS 3 → 30; untrained → 0: 26/0.6 = 43.333.
        let c = Fixture::catalog().compute_all("[health_score]");
        let table = &c.outputs["account_health"];
        assert_eq!(
            column_values(table, lit(true), &["account_id"], "account_id"),
            ["1", "3", "5", "8"]
        );
        let scores: Vec<f64> = column_values(table, lit(true), &["account_id"], "health_score")
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        for (got, want) in scores.iter().zip([60.0, 30.0, 50.0, 130.0 / 3.0]) {
            assert!((got - want).abs() < 1e-9, "{scores:?}");
        }
        assert_eq!(
            column_values(table, lit(true), &["account_id"], "nps_latest"),
            ["90.0", "60.0", "null", "30.0"]
        );
        assert_eq!(
            column_values(table, lit(true), &["account_id"], "active_days_30"),
            ["25.0", "5.0", "0.0", "null"]
        );
        assert_eq!(
            column_values(table, lit(true), &["account_id"], "cohort"),
            ["trained", "untrained", "trained", "untrained"]
        );
        // Mean per cohort (R = A): all (60 + 30 + 50 + 43.333)/4; trained {1, 5} 55; untrained {3, 8} 36.667.
        // Summed contributions are rounded to 2⁻¹⁶ for exact, order-independent sums: 43.333… moves by < 1e-5.
        let near = |got: Option<f64>, want: f64| {
            assert!((got.unwrap() - want).abs() < 1e-4, "{got:?} vs {want}")
        };
        near(
            value(&c, "health_score", "all"),
            (60.0 + 30.0 + 50.0 + 130.0 / 3.0) / 4.0,
        );
        assert_close(value(&c, "health_score", "trained"), 55.0);
        near(
            value(&c, "health_score", "untrained"),
            (30.0 + 130.0 / 3.0) / 2.0,
        );
    }
}
