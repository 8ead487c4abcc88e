//! `survival`: Kaplan–Meier survival from the landmark per cohort, with
//! Greenwood intervals and a log-rank test of trained against untrained.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cohort::{TRAINED, UNTRAINED};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::aggregate::by_cohort_and_segment;
use crate::metrics::presentation::Unit;
use crate::metrics::{CustomPlan, Finished, Metric, MetricPlan, PlanContext, Reference};
use crate::stats::adjust::{
    standardize_log_rank, standardize_survival, LifetimesByStratum, SurvivalMeasure,
};
use crate::stats::evalue::Scale;
use crate::stats::formulas::{accounts, kaplan_meier_curve, restricted_mean, wald_interval};
use crate::stats::{
    kaplan_meier, log_rank_p, survival_interval, AdjustSpec, Direction, Estimate, FrameColumns,
    Lifetimes, LiftRow, MetricRow, RowKey, Side,
};
use crate::time::{churned_before, date_lit, date_to_days, relationship_end};

/// docs/METRICS.md#survival: "Kaplan–Meier from the landmark, R = A: time = days
/// from L to churn (event, when churn_date < A) or to A (censored). Rows per
/// `days` in `at_days` (default [30, 90, 180, 365]): S(t), Greenwood 95% CI".
/// Each `days=t` lift row tests its own difference (Wald z from the two
/// Greenwood variances, so its p-value and interval agree); the whole-curve
/// log-rank test is a lift row of its own per curve (dimension `log_rank`,
/// p-value only; docs/STATISTICS.md#survival).
///
/// Only assigned accounts have a landmark to count from, so the cohort `all`
/// is trained + untrained here. S(t) is null when nobody is still observed
/// at t; `n` is the number of accounts in the group.
///
/// Also, for the report's decisions: the restricted mean survival time up
/// to the longest `at_days` horizon H (dimension `rmst_days=H`: the days an
/// account stayed, on average, out of its first H after the landmark), with
/// the Klein–Moeschberger variance, a Wald interval and a Wald lift test;
/// and the table `survival_curve`: each cohort's Kaplan–Meier curve at every
/// day with an event or a censoring (docs/OUTPUTS.md).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Survival {
    /// Days after the landmark to report (default [30, 90, 180, 365]).
    #[serde(default = "default_at_days")]
    pub at_days: Vec<u32>,
}

impl Default for Survival {
    fn default() -> Self {
        Survival {
            at_days: default_at_days(),
        }
    }
}

fn default_at_days() -> Vec<u32> {
    vec![30, 90, 180, 365]
}

/// Lifetimes by (segment, cohort), each by stratum (one `None` stratum
/// without `adjust`).
type Groups = BTreeMap<(Option<String>, String), LifetimesByStratum>;

/// The dimension of the lift row that carries the whole-curve log-rank test
/// (docs/STATISTICS.md#log-rank-test).
pub const LOG_RANK: &str = "log_rank";

impl Metric for Survival {
    /// The restricted mean (`rmst_days=H`) is in days; S(t) is a share.
    fn unit_of_dimension(&self, dimension: &str) -> Option<Unit> {
        dimension.starts_with("rmst_days=").then_some(Unit::Days)
    }

    /// The restricted mean and the log-rank test read the whole curves; each
    /// `days=t` row is one point of them (exploratory).
    fn overall_row(&self, dimension: Option<&str>, _rows: (i32, i32), _period: (i32, i32)) -> bool {
        dimension.is_some_and(|d| d.starts_with("rmst_days=") || d == LOG_RANK)
    }

    /// The restricted mean is the primary reading; the log-rank test is secondary.
    fn headline_row(&self, dimension: Option<&str>) -> bool {
        dimension.is_some_and(|d| d.starts_with("rmst_days="))
    }

    fn compares_at(&self) -> Reference {
        Reference::AsOf
    }

    fn description(&self) -> &'static str {
        "Kaplan–Meier share of accounts still customers t days after their landmark (per `days=t`), Greenwood interval and its Wald test; the log-rank test of the whole curves (`log_rank`, p-value only); the restricted mean survival time up to the longest horizon H (`rmst_days=H`, days stayed out of the first H, Wald test); table `survival_curve`."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Accounts, "account_id"),
            (SourceName::Accounts, "signup_date"),
        ]
    }

    fn check_config(&self) -> Vec<String> {
        if self.at_days.is_empty() {
            return vec!["`at_days` must list at least one day".into()];
        }
        Vec::new()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let a = date_lit(ctx.period.as_of);
        let mut columns = ctx.unit_columns(Reference::AsOf);
        columns.extend([
            (relationship_end(a.clone()).cast(DataType::Int64)
                - col("landmark_date").cast(DataType::Int64))
            .alias("time"),
            churned_before(a).alias("event"),
            lit(1.0).alias("count"),
        ]);
        let units = ctx
            .accounts
            .clone()
            .filter(col(Reference::AsOf.column()).is_not_null())
            .select(columns);
        let mut keys = vec!["time", "event"];
        if ctx.stratified {
            keys.push(crate::cohort::STRATUM);
        }
        let frame = by_cohort_and_segment(units, ctx.segment_by, &keys, &["count"]);
        let adjust = ctx.adjust.clone();
        let at_days = self.at_days.clone();
        let (start, end) = (
            date_to_days(ctx.period.start),
            date_to_days(ctx.period.as_of),
        );
        let finish = move |df: &DataFrame, metric: &str, alpha: f64| {
            rows(df, metric, &at_days, (start, end), alpha, adjust.as_ref())
        };
        Ok(MetricPlan {
            custom: vec![CustomPlan {
                frame,
                finish: Box::new(finish),
            }],
            ..MetricPlan::default()
        })
    }
}

fn read_groups(df: &DataFrame) -> Result<Groups> {
    let columns = FrameColumns::new(df, "survival counts");
    let (cohort, segment) = (columns.text("cohort")?, columns.text("segment")?);
    let time = columns.whole("time")?;
    let event = columns.flag("event")?;
    let count = columns.number("count")?;
    let stratum = columns.optional_text(crate::cohort::STRATUM)?;
    let mut groups = Groups::new();
    for i in 0..df.height() {
        let key = (
            segment.get(i).map(str::to_string),
            cohort.get(i).unwrap_or("all").to_string(),
        );
        let stratum = stratum.as_ref().and_then(|s| s.get(i)).map(str::to_string);
        let entry = groups
            .entry(key)
            .or_default()
            .entry(stratum)
            .or_default()
            .entry(time.get(i).unwrap_or(0))
            .or_insert((0.0, 0.0));
        let n = count.get(i).unwrap_or(0.0);
        if event.get(i).unwrap_or(false) {
            entry.0 += n;
        } else {
            entry.1 += n;
        }
    }
    Ok(groups)
}

/// The rows of `survival_curve` being built.
#[derive(Default)]
struct Curve {
    cohort: Vec<&'static str>,
    segment: Vec<Option<String>>,
    day: Vec<i64>,
    at_risk: Vec<i64>,
    events: Vec<i64>,
    censored: Vec<i64>,
    survival: Vec<f64>,
    ci_low: Vec<f64>,
    ci_high: Vec<f64>,
}

impl Curve {
    fn add(&mut self, cohort: &'static str, segment: &Option<String>, lifetimes: &Lifetimes) {
        for point in kaplan_meier_curve(lifetimes) {
            self.cohort.push(cohort);
            self.segment.push(segment.clone());
            self.day.push(point.time);
            self.at_risk.push(point.at_risk.round() as i64);
            self.events.push(point.events.round() as i64);
            self.censored.push(point.censored.round() as i64);
            self.survival.push(point.survival);
            self.ci_low.push(point.interval.0);
            self.ci_high.push(point.interval.1);
        }
    }

    fn frame(self) -> Result<DataFrame> {
        let columns = vec![
            Column::new("cohort".into(), self.cohort),
            Column::new("segment".into(), self.segment),
            Column::new("day".into(), self.day),
            Column::new("at_risk".into(), self.at_risk),
            Column::new("events".into(), self.events),
            Column::new("censored".into(), self.censored),
            Column::new("survival".into(), self.survival),
            Column::new("ci_low".into(), self.ci_low),
            Column::new("ci_high".into(), self.ci_high),
        ];
        DataFrame::new_infer_height(columns)
            .map_err(|e| crate::error::Error::engine("building `survival_curve`", e))
    }
}

fn rows(
    df: &DataFrame,
    metric: &str,
    at_days: &[u32],
    (start, end): (i32, i32),
    alpha: f64,
    adjust: Option<&AdjustSpec>,
) -> Result<Finished> {
    let groups = read_groups(df)?;
    let empty = LifetimesByStratum::new();
    let segments: BTreeSet<Option<String>> = groups.keys().map(|(s, _)| s.clone()).collect();
    let (mut metric_rows, mut lift_rows) = (Vec::new(), Vec::new());
    let mut curve = Curve::default();
    let horizon = at_days.iter().copied().max().unwrap_or(0) as i64;
    for segment in segments {
        let strata = |cohort: &str| {
            groups
                .get(&(segment.clone(), cohort.to_string()))
                .unwrap_or(&empty)
        };
        // The cohort's lifetimes over all strata.
        let merged = |cohort: &str| {
            let mut all = Lifetimes::new();
            for group in strata(cohort).values() {
                for (t, (d, c)) in group {
                    let entry = all.entry(*t).or_insert((0.0, 0.0));
                    entry.0 += d;
                    entry.1 += c;
                }
            }
            all
        };
        let (all, trained, untrained) = (merged("all"), merged(TRAINED), merged(UNTRAINED));
        let cohorts = [("all", &all), (TRAINED, &trained), (UNTRAINED, &untrained)];
        for (cohort, lifetimes) in cohorts {
            curve.add(cohort, &segment, lifetimes);
        }
        let mut log_rank = LiftRow::compare(
            metric,
            &RowKey {
                segment: segment.clone(),
                dimension: Some(LOG_RANK.to_string()),
                period_start: start,
                period_end: end,
            },
            Side {
                n: accounts(&trained),
                ..Side::default()
            },
            Side {
                n: accounts(&untrained),
                ..Side::default()
            },
            log_rank_p(&trained, &untrained),
            alpha,
            Direction::HigherIsBetter,
        );
        if let Some(spec) = adjust {
            log_rank.adjusted =
                standardize_log_rank(strata(TRAINED), strata(UNTRAINED), spec).into_adjusted();
        }
        lift_rows.push(log_rank);
        let measures = at_days
            .iter()
            .map(|&days| (SurvivalMeasure::At(days as i64), format!("days={days}")))
            .chain([(
                SurvivalMeasure::RestrictedMean(horizon),
                format!("rmst_days={horizon}"),
            )]);
        for (measure, dimension) in measures {
            let key = RowKey {
                segment: segment.clone(),
                dimension: Some(dimension),
                period_start: start,
                period_end: end,
            };
            let mut values = BTreeMap::new();
            for (cohort, lifetimes) in cohorts {
                let (estimate, interval) = match measure {
                    SurvivalMeasure::At(days) => {
                        let survival = kaplan_meier(lifetimes, days);
                        (survival, survival.map(|(s, v)| survival_interval(s, v)))
                    }
                    SurvivalMeasure::RestrictedMean(tau) => {
                        let mean = restricted_mean(lifetimes, tau);
                        (mean, mean.map(|(m, v)| wald_interval(m, v)))
                    }
                };
                let n = accounts(lifetimes);
                values.insert(
                    cohort,
                    Side {
                        value: estimate.map(|e| e.0),
                        variance: estimate.map(|e| e.1),
                        n,
                    },
                );
                let estimate = Estimate {
                    value: estimate.map(|e| e.0),
                    interval,
                    ..Estimate::default()
                };
                metric_rows.push(MetricRow::new(metric, cohort, &key, estimate, n, Some(n)));
            }
            let (first, second) = (values[TRAINED], values[UNTRAINED]);
            let mut row = LiftRow::compare(
                metric,
                &key,
                first,
                second,
                first.wald_p(&second),
                alpha,
                Direction::HigherIsBetter,
            )
            .read_as(match measure {
                SurvivalMeasure::At(_) => second.value.and_then(Scale::survival),
                _ => None,
            });
            if let Some(spec) = adjust {
                row.adjusted =
                    standardize_survival(strata(TRAINED), strata(UNTRAINED), measure, spec)
                        .into_adjusted();
            }
            lift_rows.push(row);
        }
    }
    Ok(Finished {
        metric_rows,
        lift_rows,
        tables: vec![("survival_curve", curve.frame()?)],
    })
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn kaplan_meier_from_the_landmark() {
        // Assigned at A (W = 30): 1 T (L 01-31, no churn → censored at A: 335 days), 2 U (L 01-31, churn 11-01:
        // event at 274), 3 U (L 01-31, churn on A → censored at 335), 4 T (L 07-01, churn 12-01: event at 153),
        // 5 T (L 12-01, censored at 31), 7 T (L 03-03, churn 10-15: event at 226), 8 U (L 11-09, censored at 53).
        // trained {1: 335+, 4: 153, 5: 31+, 7: 226}: S(30) = 1; S(180) = 1 − 1/3 = 2/3 (5 censored at 31, 3 at risk
        // at 153); S(300) = 2/3 · (1 − 1/2) = 1/3 (7 at 226 with 2 at risk).
        // untrained {2: 274, 3: 335+, 8: 53+}: S(300) = 1 − 1/2 = 1/2 (2 at risk at 274). S(400): nobody observed.
        let c = Fixture::tiny().compute("[{ survival: { at_days: [30, 180, 300, 400] } }]");
        let at = |cohort: &str, days: &str| row(&c, "survival", cohort, None, Some(days));
        assert_close(at("trained", "days=30").value, 1.0);
        assert_close(at("trained", "days=180").value, 2.0 / 3.0);
        assert_close(at("trained", "days=300").value, 1.0 / 3.0);
        assert_close(at("untrained", "days=300").value, 0.5);
        assert_eq!(at("trained", "days=400").value, None);
        assert_eq!(at("trained", "days=30").n, 4);
        // all = trained + untrained (7 accounts): events at 153, 226, 274; at risk 5, 4, 3 after 31+ and 53+.
        // S(300) = (4/5)(3/4)(2/3) = 0.4.
        assert_close(at("all", "days=300").value, 0.4);
        let l = c
            .lift_rows
            .iter()
            .find(|r| {
                r.metric == "survival"
                    && r.segment.is_none()
                    && r.dimension.as_deref() == Some("days=300")
            })
            .unwrap();
        assert_close(l.abs_diff, 1.0 / 3.0 - 0.5);
        // The row tests its own difference: Greenwood variances 2/27 (trained: (1/3)²·(1/6 + 1/2)) and
        // 1/8 (untrained: (1/2)²·1/2), z = −(1/6)/√(2/27 + 1/8) = −0.3735437 → p = 0.7087438
        // (statsmodels SurvfuncRight's surv_prob_se, scipy 2·norm.sf); the interval agrees with it.
        assert!(
            (l.p_value.unwrap() - 0.7087438392501955).abs() < 1e-12,
            "{:?}",
            l.p_value
        );
        let half = 1.959964 * (2.0f64 / 27.0 + 0.125).sqrt();
        assert_close(l.diff_ci_low, -1.0 / 6.0 - half);
        assert_close(l.diff_ci_high, -1.0 / 6.0 + half);
        // The whole curves: one log-rank row, p-value only. O(trained) = 2, E = 3/5 + 2/4 + 1/3 =
        // 1.433333, V = 0.24 + 0.25 + 0.222222 = 0.712222, χ² = 0.450858 → p = 0.501928.
        let rows: Vec<_> = c
            .lift_rows
            .iter()
            .filter(|r| {
                r.metric == "survival"
                    && r.segment.is_none()
                    && r.dimension.as_deref() == Some("log_rank")
            })
            .collect();
        assert_eq!(rows.len(), 1);
        let log_rank = rows[0];
        assert!(
            (log_rank.p_value.unwrap() - 0.501928).abs() < 1e-5,
            "{:?}",
            log_rank.p_value
        );
        assert_eq!(
            (
                log_rank.trained_value,
                log_rank.abs_diff,
                log_rank.diff_ci_low
            ),
            (None, None, None)
        );
        assert_eq!((log_rank.n_trained, log_rank.n_untrained), (4, 3));
        // No `metrics` row carries the test.
        assert!(!c
            .metric_rows
            .iter()
            .any(|r| r.dimension.as_deref() == Some("log_rank")));
    }

    #[test]
    fn restricted_mean_and_the_curve_table() {
        // The accounts of the test above, horizon 300 (the longest `at_days`).
        // trained {31+, 153, 226, 335+}: S = 1 to 153, 2/3 to 226, 1/3 to 300 →
        // RMST = 153 + 73·2/3 + 74/3 = 226.333333; variance (Klein–Moeschberger):
        // A(226) = 74/3, A(153) = 74/3 + 146/3 = 220/3 → (74/3)²/(2·1) + (220/3)²/(3·2) = 1200.518519.
        // untrained {53+, 274, 335+}: S = 1 to 274, 1/2 to 300 → 287; A(274) = 13 → 169/2 = 84.5.
        // Difference −60.666667, se √1285.018519 = 35.847155, z −1.692370, p 0.0905754 (scipy).
        let c = Fixture::tiny().compute("[{ survival: { at_days: [30, 300] } }]");
        let at = |cohort: &str| row(&c, "survival", cohort, None, Some("rmst_days=300"));
        assert_close(at("trained").value, 226.0 + 1.0 / 3.0);
        assert_close(at("untrained").value, 287.0);
        let half = 1.959964 * 1200.518_518_518_518_5_f64.sqrt();
        assert_close(at("trained").ci_low, 226.0 + 1.0 / 3.0 - half);
        assert_eq!(at("trained").n, 4);
        let l = c
            .lift_rows
            .iter()
            .find(|r| r.segment.is_none() && r.dimension.as_deref() == Some("rmst_days=300"))
            .unwrap();
        assert_close(l.abs_diff, 226.0 + 1.0 / 3.0 - 287.0);
        assert!(
            (l.p_value.unwrap() - 0.090575358).abs() < 1e-8,
            "{:?}",
            l.p_value
        );
        // A horizon after the last follow-up (335) has no restricted mean.
        let c = Fixture::tiny().compute("[{ survival: { at_days: [30, 400] } }]");
        assert_eq!(
            row(&c, "survival", "trained", None, Some("rmst_days=400")).value,
            None
        );

        // survival_curve: one row per cohort and day with an event or a censoring.
        use polars::prelude::{col, lit};
        let curve = &c.outputs["survival_curve"];
        let trained = |column: &str| {
            let filter = col("cohort")
                .eq(lit("trained"))
                .and(col("segment").is_null());
            column_values(curve, filter, &["day"], column)
        };
        assert_eq!(trained("day"), ["31", "153", "226", "335"]);
        assert_eq!(trained("at_risk"), ["4", "3", "2", "1"]);
        assert_eq!(trained("events"), ["0", "1", "1", "0"]);
        assert_eq!(trained("censored"), ["1", "0", "0", "1"]);
        let survival: Vec<f64> = trained("survival")
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(survival[0], 1.0);
        assert!((survival[1] - 2.0 / 3.0).abs() < 1e-15 && (survival[3] - 1.0 / 3.0).abs() < 1e-15);
        let overall = col("cohort").eq(lit("all")).and(col("segment").is_null());
        let all = column_values(curve, overall, &["day"], "day");
        // all: 31, 53, 153, 226, 274 and 335 (two accounts censored on the same day).
        assert_eq!(all.len(), 6);
    }
}
