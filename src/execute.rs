//! The execute stage: every output of a run is collected in one call, so
//! that polars optimizes the plans together and computes shared scans once;
//! then the collected frames are routed to their tables and the statistics
//! stage (`crate::stats::stage`) turns the aggregates into `metrics` and
//! `lift` rows.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::frame::collect_all;
use crate::metrics::aggregate::combine;
use crate::metrics::families::Families;
use crate::metrics::FinishRows;
use crate::output::tables::{self, ids_as_text, RunColumns, TABLES};
use crate::plan::Plans;
use crate::stats::impact::{impact_rows, starting_mrr, ImpactInputs};
use crate::stats::{
    add_q_values, evaluate, sort_rows, AdjustSpec, AggregateInfo, Evaluated, LiftRow, MetricRow,
    BALANCED_SMD,
};

/// The collected frames of one run, routed.
pub struct Collected {
    /// The combined aggregates of every metric (empty without aggregates).
    pub aggregates: DataFrame,
    /// What each aggregate plan measures, by its index in `aggregates`' `plan` column.
    pub infos: Vec<AggregateInfo>,
    /// Output tables in their published shape, by name.
    pub tables: BTreeMap<&'static str, DataFrame>,
    /// Custom plans: the metric's id, how to finish, the collected frame.
    custom: Vec<(&'static str, FinishRows, DataFrame)>,
}

/// What a run computed: the rows of `metrics` and `lift`, and every output
/// table by name.
pub struct Outputs {
    pub metric_rows: Vec<MetricRow>,
    pub lift_rows: Vec<LiftRow>,
    pub tables: BTreeMap<&'static str, DataFrame>,
    /// What the statistics stage warns about (overlap of the adjustment).
    pub warnings: Vec<String>,
}

/// The lazy outputs of a run, in the order they are collected.
struct Prepared {
    aggregates: Option<LazyFrame>,
    infos: Vec<AggregateInfo>,
    /// Tables in their published shape, in the order of [`TABLES`].
    tables: Vec<(&'static str, LazyFrame)>,
    custom: Vec<(&'static str, FinishRows, LazyFrame)>,
}

fn prepare(plans: Plans, run: &RunColumns, segment_by: &[String]) -> Result<Prepared> {
    let infos = plans
        .aggregates
        .iter()
        .map(|a| AggregateInfo {
            metric: a.metric,
            kind: a.plan.kind,
            nested: a.plan.nested,
            direction: a.plan.direction,
        })
        .collect();
    let aggregates = combine(plans.aggregates.into_iter().map(|a| a.plan.units).collect())?;
    let mut planned = plans.tables;
    let tables = TABLES
        .iter()
        .filter_map(|table| {
            let frame = planned.remove(table)?;
            Some((*table, tables::shape(table, frame, run, segment_by)))
        })
        .collect();
    let custom = plans
        .custom
        .into_iter()
        .map(|c| (c.metric, c.plan.finish, c.plan.frame))
        .collect();
    Ok(Prepared {
        aggregates,
        infos,
        tables,
        custom,
    })
}

/// Shapes the plans' tables, collects everything in one call and routes the
/// frames.
pub fn collect(plans: Plans, run: &RunColumns, segment_by: &[String]) -> Result<Collected> {
    let prepared = prepare(plans, run, segment_by)?;
    let has_aggregates = prepared.aggregates.is_some();
    let mut lazy: Vec<LazyFrame> = prepared.aggregates.into_iter().collect();
    let table_names: Vec<&'static str> = prepared.tables.iter().map(|(t, _)| *t).collect();
    lazy.extend(prepared.tables.into_iter().map(|(_, frame)| frame));
    let mut finishers = Vec::new();
    for (metric, finish, frame) in prepared.custom {
        lazy.push(frame);
        finishers.push((metric, finish));
    }

    let mut collected = collect_all(lazy, "computing metrics")?.into_iter();
    let aggregates = if has_aggregates {
        collected.next().unwrap_or_default()
    } else {
        DataFrame::empty()
    };
    let tables = table_names
        .into_iter()
        .zip(collected.by_ref())
        .map(|(table, df)| Ok((table, ids_as_text(df)?)))
        .collect::<Result<_>>()?;
    let custom = finishers
        .into_iter()
        .zip(collected)
        .map(|((metric, finish), frame)| (metric, finish, frame))
        .collect();
    Ok(Collected {
        aggregates,
        infos: prepared.infos,
        tables,
        custom,
    })
}

/// `cohort-metrics explain`: the optimized plan of every output, then of all
/// of them together as a run collects them.
/// `activity`: the reductions of activity the metrics read (computed in
/// their own stage before the metrics, shown first; in the metrics' plans
/// they appear as in-memory frames).
pub fn explain(
    plans: Plans,
    run: &RunColumns,
    segment_by: &[String],
    activity: BTreeMap<String, LazyFrame>,
) -> Result<String> {
    let mut text = String::new();
    if !activity.is_empty() {
        for (key, plan) in &activity {
            text.push_str(&format!("== activity: {key} ==\n{}\n\n", describe(plan)?));
        }
    }
    let prepared = prepare(plans, run, segment_by)?;
    let mut sections: Vec<(String, LazyFrame)> = Vec::new();
    if let Some(aggregates) = prepared.aggregates {
        let title = format!(
            "metrics and lift (aggregates of {} metric plans)",
            prepared.infos.len()
        );
        sections.push((title, aggregates));
    }
    sections.extend(
        prepared
            .tables
            .into_iter()
            .map(|(table, plan)| (table.to_string(), plan)),
    );
    sections.extend(
        prepared
            .custom
            .into_iter()
            .map(|(metric, _, frame)| (format!("metrics and lift ({metric} counts)"), frame)),
    );
    for (title, plan) in &sections {
        text.push_str(&format!("== {title} ==\n{}\n\n", describe(plan)?));
    }
    let together = describe_all(sections.into_iter().map(|(_, p)| p).collect())?;
    text.push_str(&format!(
        "== every output together, as one run executes them (shared scans appear once, as CACHE nodes) ==\n{together}\n"
    ));
    Ok(text)
}

/// How the statistics stage reads the rows: the significance level, the
/// adjustment, the families of the lift rows and the run's period [S, A)
/// in days since 1970-01-01.
pub struct Reading<'a> {
    pub alpha: f64,
    pub adjust: Option<&'a AdjustSpec>,
    pub families: &'a Families<'a>,
    pub period: (i32, i32),
    /// The period's months and `money:`, for the `impact` table.
    pub months: u32,
    pub money: &'a crate::config::MoneyConfig,
}

/// The statistics stage and the `metrics` and `lift` tables; tables whose
/// metric is not configured are written empty with their schema.
pub fn statistics(collected: Collected, reading: &Reading, run: &RunColumns) -> Result<Outputs> {
    let (alpha, adjust) = (reading.alpha, reading.adjust);
    let Collected {
        aggregates,
        infos,
        mut tables,
        custom,
    } = collected;
    let Evaluated {
        mut metric_rows,
        mut lift_rows,
        warnings,
    } = if infos.is_empty() {
        Evaluated {
            metric_rows: Vec::new(),
            lift_rows: Vec::new(),
            warnings: Vec::new(),
        }
    } else {
        evaluate(&aggregates, &infos, alpha, adjust)?
    };
    for (metric, finish, frame) in &custom {
        let finished = finish(frame, metric, alpha)?;
        metric_rows.extend(finished.metric_rows);
        lift_rows.extend(finished.lift_rows);
        for (table, df) in finished.tables {
            let shaped = tables::shape(table, df.lazy(), run, &[])
                .collect()
                .map_err(|e| crate::error::Error::engine(&format!("writing `{table}`"), e))?;
            tables.insert(table, shaped);
        }
    }
    sort_rows(&mut metric_rows, &mut lift_rows);
    reading.families.apply(&mut lift_rows, reading.period);
    add_q_values(&mut lift_rows);
    let basis_of = |metric: &str| reading.families.money(metric);
    let impact = impact_rows(
        &lift_rows,
        &ImpactInputs {
            basis_of: &basis_of,
            starting_mrr: starting_mrr(&metric_rows, &reading.families.revenue_retention()),
            months: reading.months,
            money: reading.money,
        },
    );
    tables.insert("impact", crate::output::impact::impact_table(run, &impact)?);
    tables.insert("metrics", tables::metrics_table(run, &metric_rows)?);
    tables.insert("lift", tables::lift_table(run, &lift_rows)?);
    for table in [
        "retention_curve",
        "survival_curve",
        "revenue_movements",
        "account_health",
        "balance",
    ] {
        if !tables.contains_key(table) {
            tables.insert(table, tables::empty_table(table)?);
        }
    }
    let mut warnings = warnings;
    warnings.extend(crate::stats::adjust::overlap_warnings(&lift_rows, adjust));
    if let Some(balance) = tables.get("balance") {
        warnings.extend(imbalance_warnings(balance)?);
    }
    Ok(Outputs {
        metric_rows,
        lift_rows,
        tables,
        warnings,
    })
}

/// docs/STATISTICS.md: "flag |SMD| > 0.1 after adjustment in the log" ([`BALANCED_SMD`]) — one warning
/// naming the covariate levels still unbalanced after the adjustment.
fn imbalance_warnings(balance: &DataFrame) -> Result<Vec<String>> {
    let columns = crate::stats::FrameColumns::new(balance, "balance");
    let (covariate, level) = (columns.text("covariate")?, columns.text("level")?);
    let smd = columns.number("smd_adjusted")?;
    let unbalanced: Vec<String> = (0..columns.height())
        .filter(|&i| smd.get(i).is_some_and(|s| s.abs() > BALANCED_SMD))
        .map(|i| {
            let name = covariate.get(i).unwrap_or_default();
            let what = match level.get(i) {
                Some(level) => format!("{name}={level}"),
                None => format!("mean {name}"),
            };
            format!("{what} (SMD {:+.2})", smd.get(i).unwrap_or_default())
        })
        .collect();
    Ok(if unbalanced.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "adjust: after adjustment {} still differ between trained and untrained by more than \
             {BALANCED_SMD} standardized mean differences (table `balance`): {}; finer buckets or more \
             covariates may be needed",
            unbalanced.len(),
            unbalanced.join(", ")
        )]
    })
}

/// The optimized plan of `plan` as text (for `cohort-metrics explain`).
fn describe(plan: &LazyFrame) -> Result<String> {
    plan.describe_optimized_plan()
        .map_err(|e| Error::engine("explaining the plan", e))
}

/// The optimized plan of several outputs collected together (`collect_all`).
fn describe_all(plans: Vec<LazyFrame>) -> Result<String> {
    let dsl = plans.into_iter().map(|lf| lf.logical_plan).collect();
    LazyFrame::explain_all(dsl, OptFlags::default())
        .map_err(|e| Error::engine("explaining the plans", e))
}
