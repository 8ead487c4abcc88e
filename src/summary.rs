//! The one statistics stage: turns the summed aggregates of every metric into
//! `metrics` rows (value, interval, n) and pairs trained with untrained into
//! `lift` rows (SPEC §6). Metric modules never compute statistics themselves.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::cohort::{TRAINED, UNTRAINED};
use crate::error::{Error, Result};
use crate::metrics::{Direction, Kind};
use crate::stats;

/// What the summary needs to know about each aggregate plan.
#[derive(Debug, Clone)]
pub struct PlanInfo {
    pub metric: &'static str,
    pub kind: Kind,
    pub direction: Direction,
}

/// Summed contributions of one cohort (see `metrics::aggregate::Sums`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub num: f64,
    pub den: f64,
    pub sq: f64,
    pub a1: f64,
    pub a2: f64,
    pub n: f64,
}

/// A row of the `metrics` table (without run_id and as_of).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub metric: String,
    pub cohort: String,
    pub segment: Option<String>,
    pub dimension: Option<String>,
    /// Days since 1970-01-01.
    pub period_start: i32,
    pub period_end: i32,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n: i64,
}

/// A row of the `lift` table (without run_id and as_of).
#[derive(Debug, Clone, PartialEq)]
pub struct LiftRow {
    pub metric: String,
    pub segment: Option<String>,
    pub dimension: Option<String>,
    pub period_start: i32,
    pub period_end: i32,
    pub trained_value: Option<f64>,
    pub untrained_value: Option<f64>,
    pub abs_diff: Option<f64>,
    pub rel_lift: Option<f64>,
    pub p_value: Option<f64>,
    pub significant: Option<bool>,
    pub direction: &'static str,
    pub n_trained: i64,
    pub n_untrained: i64,
}

impl LiftRow {
    /// SPEC §7 `lift`: trained against untrained for one key
    /// (segment, dimension, period_start, period_end); values with their n.
    pub fn compare(
        metric: &str,
        key: (Option<String>, Option<String>, i32, i32),
        trained: (Option<f64>, f64),
        untrained: (Option<f64>, f64),
        p_value: Option<f64>,
        alpha: f64,
        direction: Direction,
    ) -> LiftRow {
        let (segment, dimension, period_start, period_end) = key;
        let (t, u) = (trained.0, untrained.0);
        LiftRow {
            metric: metric.to_string(),
            segment,
            dimension,
            period_start,
            period_end,
            trained_value: t,
            untrained_value: u,
            abs_diff: t.zip(u).map(|(t, u)| t - u),
            rel_lift: t
                .zip(u)
                .and_then(|(t, u)| if u == 0.0 { None } else { Some(t / u - 1.0) }),
            p_value,
            significant: p_value.map(|p| p < alpha),
            direction: direction.as_str(),
            n_trained: trained.1.round() as i64,
            n_untrained: untrained.1.round() as i64,
        }
    }
}

/// Value and interval of one cohort.
#[derive(Debug, Clone, Copy, Default)]
pub struct Estimate {
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub interval: Option<(f64, f64)>,
}

type Key = (usize, Option<String>, Option<String>, i32, i32);

/// Reads the combined aggregate frame (`plan`, `cohort`, `segment`,
/// `dimension`, `period_start`, `period_end`, sums) and builds the rows of
/// `metrics` and `lift`, sorted. Every key gets all three cohorts, an empty
/// cohort with n = 0 and a null value.
pub fn summarize(
    aggregates: &DataFrame,
    plans: &[PlanInfo],
    alpha: f64,
) -> Result<(Vec<MetricRow>, Vec<LiftRow>)> {
    let grouped = read_totals(aggregates)?;
    let mut metric_rows = Vec::new();
    let mut lift_rows = Vec::new();
    for ((plan, segment, dimension, period_start, period_end), cohorts) in grouped {
        let info = plans
            .get(plan)
            .ok_or_else(|| Error::Other(format!("aggregate refers to unknown plan {plan}")))?;
        if let Kind::Association(measure) = info.kind {
            metric_rows.push(association_row(
                info,
                measure,
                &cohorts,
                segment,
                dimension,
                period_start,
                period_end,
            ));
            continue;
        }
        for cohort in ["all", TRAINED, UNTRAINED] {
            let totals = cohorts.get(cohort).copied().unwrap_or_default();
            let estimate = estimate(info.kind, &totals);
            metric_rows.push(MetricRow {
                metric: info.metric.to_string(),
                cohort: cohort.to_string(),
                segment: segment.clone(),
                dimension: dimension.clone(),
                period_start,
                period_end,
                numerator: estimate.numerator,
                denominator: estimate.denominator,
                value: estimate.value,
                ci_low: estimate.interval.map(|i| i.0),
                ci_high: estimate.interval.map(|i| i.1),
                n: totals.n.round() as i64,
            });
        }
        let trained = cohorts.get(TRAINED).copied().unwrap_or_default();
        let untrained = cohorts.get(UNTRAINED).copied().unwrap_or_default();
        let (t, u) = (
            estimate(info.kind, &trained).value,
            estimate(info.kind, &untrained).value,
        );
        let p_value = lift_p_value(info.kind, &trained, &untrained);
        lift_rows.push(LiftRow::compare(
            info.metric,
            (segment, dimension, period_start, period_end),
            (t, trained.n),
            (u, untrained.n),
            p_value,
            alpha,
            info.direction,
        ));
    }
    sort_rows(&mut metric_rows, &mut lift_rows);
    Ok((metric_rows, lift_rows))
}

/// Sorts rows by their key columns (SPEC §7: "Rows sorted by their leading key columns").
pub fn sort_rows(metric_rows: &mut [MetricRow], lift_rows: &mut [LiftRow]) {
    metric_rows.sort_by(|a, b| {
        (
            &a.metric,
            &a.cohort,
            &a.segment,
            &a.dimension,
            a.period_start,
        )
            .cmp(&(
                &b.metric,
                &b.cohort,
                &b.segment,
                &b.dimension,
                b.period_start,
            ))
    });
    lift_rows.sort_by(|a, b| {
        (&a.metric, &a.segment, &a.dimension, a.period_start).cmp(&(
            &b.metric,
            &b.segment,
            &b.dimension,
            b.period_start,
        ))
    });
}

/// SPEC §5 `key_action_correlation`: one row for the cohort `all` from the
/// 2×2 table a = trained & did, b = trained & not, c = untrained & did,
/// d = untrained & not.
fn association_row(
    info: &PlanInfo,
    measure: crate::metrics::Association,
    cohorts: &BTreeMap<String, Totals>,
    segment: Option<String>,
    dimension: Option<String>,
    period_start: i32,
    period_end: i32,
) -> MetricRow {
    let trained = cohorts.get(TRAINED).copied().unwrap_or_default();
    let untrained = cohorts.get(UNTRAINED).copied().unwrap_or_default();
    let (a, b) = (trained.num, trained.den - trained.num);
    let (c, d) = (untrained.num, untrained.den - untrained.num);
    let value = match measure {
        crate::metrics::Association::Phi => stats::phi(a, b, c, d),
        crate::metrics::Association::Tetrachoric => stats::tetrachoric(a, b, c, d),
    };
    MetricRow {
        metric: info.metric.to_string(),
        cohort: "all".to_string(),
        segment,
        dimension,
        period_start,
        period_end,
        numerator: None,
        denominator: None,
        value,
        ci_low: None,
        ci_high: None,
        n: (trained.n + untrained.n).round() as i64,
    }
}

fn read_totals(df: &DataFrame) -> Result<BTreeMap<Key, BTreeMap<String, Totals>>> {
    let err = |e: PolarsError| Error::Other(format!("reading aggregates: {e}"));
    let plan = df
        .column("plan")
        .map_err(err)?
        .cast(&DataType::UInt32)
        .map_err(err)?;
    let plan = plan.u32().map_err(err)?;
    let string = |name: &str| -> Result<StringChunked> {
        Ok(df
            .column(name)
            .map_err(err)?
            .cast(&DataType::String)
            .map_err(err)?
            .str()
            .map_err(err)?
            .clone())
    };
    let days = |name: &str| -> Result<Int32Chunked> {
        Ok(df
            .column(name)
            .map_err(err)?
            .cast(&DataType::Int32)
            .map_err(err)?
            .i32()
            .map_err(err)?
            .clone())
    };
    let number = |name: &str| -> Result<Float64Chunked> {
        Ok(df
            .column(name)
            .map_err(err)?
            .cast(&DataType::Float64)
            .map_err(err)?
            .f64()
            .map_err(err)?
            .clone())
    };
    let (cohort, segment, dimension) =
        (string("cohort")?, string("segment")?, string("dimension")?);
    let (start, end) = (days("period_start")?, days("period_end")?);
    let sums: Vec<Float64Chunked> = crate::metrics::aggregate::SUM_COLUMNS
        .iter()
        .map(|c| number(c))
        .collect::<Result<_>>()?;
    let mut grouped: BTreeMap<Key, BTreeMap<String, Totals>> = BTreeMap::new();
    for i in 0..df.height() {
        let key = (
            plan.get(i).unwrap_or_default() as usize,
            segment.get(i).map(str::to_string),
            dimension.get(i).map(str::to_string),
            start.get(i).unwrap_or_default(),
            end.get(i).unwrap_or_default(),
        );
        let value = |k: usize| sums[k].get(i).unwrap_or(0.0);
        let totals = Totals {
            num: value(0),
            den: value(1),
            sq: value(2),
            a1: value(3),
            a2: value(4),
            n: value(5),
        };
        let cohort = cohort.get(i).unwrap_or("all").to_string();
        grouped.entry(key).or_default().insert(cohort, totals);
    }
    Ok(grouped)
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    if den != 0.0 {
        Some(num / den)
    } else {
        None
    }
}

/// Value, interval, numerator and denominator of one cohort's totals.
pub fn estimate(kind: Kind, t: &Totals) -> Estimate {
    let plain = |value: Option<f64>, interval: Option<(f64, f64)>| Estimate {
        numerator: Some(t.num),
        denominator: Some(t.den),
        value,
        interval,
    };
    match kind {
        Kind::Proportion => plain(ratio(t.num, t.den), stats::wilson(t.num, t.den)),
        Kind::Percent => plain(
            ratio(t.num, t.den).map(|v| 100.0 * v),
            stats::wilson(t.num, t.den).map(|(lo, hi)| (100.0 * lo, 100.0 * hi)),
        ),
        Kind::Nps => match stats::nps(t.a1, t.a2, t.den) {
            Some((value, variance)) => {
                plain(Some(value), Some(stats::nps_interval(value, variance)))
            }
            None => plain(None, None),
        },
        Kind::Mean => match stats::mean_and_variance(t.num, t.sq, t.den) {
            Some((mean, variance)) => plain(
                Some(mean),
                variance.map(|v| stats::mean_interval(mean, v, t.den)),
            ),
            None => plain(None, None),
        },
        Kind::Rate => plain(ratio(t.num, t.den), stats::rate_interval(t.num, t.den)),
        Kind::Count => plain(Some(t.num), stats::rate_interval(t.num, 1.0)),
        Kind::Median => Estimate {
            numerator: None,
            denominator: None,
            value: (t.n > 0.0).then_some(t.num),
            interval: None,
        },
        Kind::Association(_) => Estimate::default(),
        Kind::Ratio { divisor } => Estimate {
            numerator: Some(t.num / divisor),
            denominator: Some(t.den / divisor),
            value: ratio(t.num, t.den),
            interval: None,
        },
        Kind::LifetimeValue { months, margin } => {
            let arpa = ratio(t.a1 / 100.0, t.a2);
            let retention = ratio(t.num, t.den);
            let churn = retention.map(|r| 1.0 - r.powf(1.0 / months.max(1) as f64));
            let value = arpa.zip(churn).and_then(|(arpa, c)| {
                if c > 0.0 {
                    Some(arpa * margin / c)
                } else {
                    None
                }
            });
            Estimate {
                numerator: None,
                denominator: None,
                value,
                interval: None,
            }
        }
    }
}

/// The lift p-value of trained against untrained (null where SPEC §6 gives none).
pub fn lift_p_value(kind: Kind, t: &Totals, u: &Totals) -> Option<f64> {
    match kind {
        Kind::Proportion | Kind::Percent => stats::two_proportion_p(t.num, t.den, u.num, u.den),
        Kind::Nps => {
            let (v1, var1) = stats::nps(t.a1, t.a2, t.den)?;
            let (v2, var2) = stats::nps(u.a1, u.a2, u.den)?;
            stats::nps_p(v1, var1, v2, var2)
        }
        Kind::Mean => {
            let (m1, var1) = stats::mean_and_variance(t.num, t.sq, t.den)?;
            let (m2, var2) = stats::mean_and_variance(u.num, u.sq, u.den)?;
            stats::welch_p(m1, var1?, t.den, m2, var2?, u.den)
        }
        Kind::Rate => stats::rate_p(t.num, t.den, u.num, u.den),
        Kind::Count
        | Kind::Median
        | Kind::Association(_)
        | Kind::Ratio { .. }
        | Kind::LifetimeValue { .. } => None,
    }
}
