//! The statistics stage: turns the summed aggregates of every metric into
//! `metrics` rows (value, interval, n) and pairs trained with untrained into
//! `lift` rows (docs/STATISTICS.md). Metric modules never compute statistics themselves.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::adjust::{standardize, AdjustSpec, ByStratum};
use super::estimate::{association, Estimate, Measure};
use super::evalue::Scale;
use super::kind::{Direction, Kind, Totals, SUM_COLUMNS};
use super::rows::{sort_rows, FrameColumns, LiftRow, MetricRow, RowKey, Side};
use crate::cohort::{TRAINED, UNTRAINED};
use crate::error::{Error, Result};

/// What the statistics stage needs to know about each aggregate plan.
#[derive(Debug, Clone)]
pub struct AggregateInfo {
    pub metric: &'static str,
    pub kind: Kind,
    /// Whether the plan's units are nested in accounts (docs/STATISTICS.md, CR1).
    pub nested: bool,
    pub direction: Direction,
}

impl AggregateInfo {
    fn measure(&self) -> Measure {
        Measure {
            kind: self.kind,
            nested: self.nested,
        }
    }
}

/// Reads the combined aggregate frame (`plan`, `cohort`, `segment`,
/// `dimension`, `period_start`, `period_end`, sums) and builds the rows of
/// `metrics` and `lift`, sorted. Every key gets all three cohorts, an empty
/// cohort with n = 0 and a null value.
pub fn evaluate(
    aggregates: &DataFrame,
    plans: &[AggregateInfo],
    alpha: f64,
    adjust: Option<&AdjustSpec>,
) -> Result<Evaluated> {
    let grouped = read_totals(aggregates)?;
    let mut metric_rows = Vec::new();
    let mut lift_rows = Vec::new();
    for ((plan, key), cohorts) in grouped {
        let info = plans
            .get(plan)
            .ok_or_else(|| Error::other(format!("aggregate refers to unknown plan {plan}")))?;
        let empty = ByStratum::new();
        let strata = |cohort: &str| cohorts.get(cohort).unwrap_or(&empty);
        let totals = |cohort: &str| {
            let mut sum = Totals::default();
            for t in strata(cohort).values() {
                sum += *t;
            }
            sum
        };
        let (trained, untrained) = (totals(TRAINED), totals(UNTRAINED));
        if let Kind::Association(measure) = info.kind {
            let value = Estimate {
                value: association(measure, &trained, &untrained),
                ..Estimate::default()
            };
            let n = trained.n + untrained.n;
            metric_rows.push(MetricRow::new(info.metric, "all", &key, value, n, None));
            continue;
        }
        let measure = info.measure();
        let clusters = |t: &Totals| (info.kind != Kind::Median).then_some(t.clusters);
        for cohort in ["all", TRAINED, UNTRAINED] {
            let totals = totals(cohort);
            let value = measure.estimate(&totals);
            let row = MetricRow::new(
                info.metric,
                cohort,
                &key,
                value,
                totals.n,
                clusters(&totals),
            );
            metric_rows.push(row);
        }
        let side = |t: &Totals| {
            let point = measure.point_and_variance(t);
            Side {
                value: measure.estimate(t).value,
                variance: point.and_then(|p| p.1),
                n: t.n,
            }
        };
        let mut row = LiftRow::compare(
            info.metric,
            &key,
            side(&trained),
            side(&untrained),
            measure.lift_p_value(&trained, &untrained),
            alpha,
            info.direction,
        )
        .read_as(
            side(&untrained)
                .value
                .and_then(|control| Scale::of(info.kind, control, &trained, &untrained)),
        );
        if let Some(spec) = adjust {
            let standardized = standardize(measure, strata(TRAINED), strata(UNTRAINED), spec);
            row.adjusted = standardized.into_adjusted();
        }
        lift_rows.push(row);
    }
    sort_rows(&mut metric_rows, &mut lift_rows);
    Ok(Evaluated {
        metric_rows,
        lift_rows,
        warnings: Vec::new(),
    })
}

/// The rows of the statistics stage and what it warns about.
pub struct Evaluated {
    pub metric_rows: Vec<MetricRow>,
    pub lift_rows: Vec<LiftRow>,
    pub warnings: Vec<String>,
}

type Grouped = BTreeMap<(usize, RowKey), BTreeMap<String, ByStratum>>;

fn read_totals(df: &DataFrame) -> Result<Grouped> {
    let columns = FrameColumns::new(df, "aggregates");
    let plan = columns.index("plan")?;
    let (cohort, segment, dimension) = (
        columns.text("cohort")?,
        columns.text("segment")?,
        columns.text("dimension")?,
    );
    let (start, end) = (columns.days("period_start")?, columns.days("period_end")?);
    let stratum = columns.optional_text(crate::cohort::STRATUM)?;
    let sums: Vec<Float64Chunked> = SUM_COLUMNS
        .iter()
        .map(|c| columns.number(c))
        .collect::<Result<_>>()?;
    let mut grouped = Grouped::new();
    for i in 0..columns.height() {
        let key = RowKey {
            segment: segment.get(i).map(str::to_string),
            dimension: dimension.get(i).map(str::to_string),
            period_start: start.get(i).unwrap_or_default(),
            period_end: end.get(i).unwrap_or_default(),
        };
        let value = |k: usize| sums[k].get(i).unwrap_or(0.0);
        let totals = Totals {
            num: value(0),
            den: value(1),
            sq: value(2),
            a1: value(3),
            a2: value(4),
            n: value(5),
            clusters: value(6),
            cxx: value(7),
            cxy: value(8),
            cyy: value(9),
        };
        let cohort = cohort.get(i).unwrap_or("all").to_string();
        let stratum = stratum.as_ref().and_then(|s| s.get(i)).map(str::to_string);
        *grouped
            .entry((plan.get(i).unwrap_or_default() as usize, key))
            .or_default()
            .entry(cohort)
            .or_default()
            .entry(stratum)
            .or_default() += totals;
    }
    Ok(grouped)
}
