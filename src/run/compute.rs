//! The stages that compute (docs/ARCHITECTURE.md, "The stages"): the
//! events an activity engine produced (store, Spark), scan, check,
//! activity, plan, execute and statistics. Nothing is written here.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::stages::{timed, Stages};
use super::RunOptions;
use crate::activity::{spark, store};
use crate::config::SourceName;
use crate::error::{Error, Result};
use crate::execute::{self, Outputs};
use crate::inputs::Inputs;
use crate::metrics::needs;
use crate::output::partition::manifest::ActivityEntry;
use crate::output::tables::RunColumns;
use crate::plan::{build_plans, AccountFrame, Job};
use crate::quality::{self, QualityReport, Scope};
use crate::stats::{LiftRow, MetricRow};

/// Everything a run computes before it writes.
pub struct Computed {
    pub run_id: String,
    pub report: QualityReport,
    /// Per source: format and files read.
    pub files: BTreeMap<SourceName, (String, Vec<String>)>,
    pub warnings: Vec<String>,
    pub metric_rows: Vec<MetricRow>,
    pub lift_rows: Vec<LiftRow>,
    /// Every output table, by name.
    pub outputs: BTreeMap<&'static str, DataFrame>,
    /// The activity stage, when a metric reads events.
    pub activity: Option<ActivityEntry>,
}

/// Scans the job's sources (with `events` in place of `sources.events`)
/// and checks what the metrics and `adjust` need of the columns found.
pub fn scan(job: &Job, events: Option<&crate::config::ResolvedSource>) -> Result<Inputs> {
    let (inputs, problems) = scan_all(job, events)?;
    match Error::all(problems) {
        Some(problem) => Err(problem),
        None => Ok(inputs),
    }
}

/// Like [`scan`], going on past a source that cannot be read or a column a
/// metric lacks: the inputs that could be read and every problem found
/// (docs/INPUTS.md#the-checks), for [`quality::check_all`].
pub fn scan_all(
    job: &Job,
    events: Option<&crate::config::ResolvedSource>,
) -> Result<(Inputs, Vec<Error>)> {
    let (inputs, mut problems) = Inputs::scan_all(&job.pipeline, events)?;
    problems.extend(needs::check_columns(&job.metrics, &inputs, &job.pipeline).err());
    if let Some(adjust) = &job.pipeline.adjust {
        // The strata need only schemas: a bucketed text column fails here.
        problems.extend(crate::strata::check(adjust, &inputs).err());
    }
    Ok((inputs, problems))
}

/// The rollup an activity engine produced for this run, read as the
/// events source.
enum Produced {
    Store(store::Synced),
    Spark(spark::Staged),
}

impl Produced {
    fn events(&self) -> &crate::config::ResolvedSource {
        match self {
            Produced::Store(synced) => &synced.events,
            Produced::Spark(staged) => &staged.events,
        }
    }
}

/// `activity.store` (the days the store lacks, computed by the configured
/// engine, their raw events checked first) or `engine: spark` without a
/// store (the rollup computed on Spark, removed when the run ends).
fn produce(
    job: &Job,
    run_id: &str,
    options: &RunOptions,
    stages: &mut Stages,
) -> Result<Option<Produced>> {
    let pipeline = &job.pipeline;
    let range = crate::plan::activity::range(job);
    let Some(range) = range.filter(|_| pipeline.store.is_some() || pipeline.spark.is_some()) else {
        return Ok(None);
    };
    // The raw events: their schema, the store's drift check, the local engine.
    let raw = scan(job, None)?;
    let request = store::SyncRequest {
        run_id,
        full_refresh: options.full_refresh,
        wait: options.wait_lock,
    };
    if let Some(opened) = store::open(pipeline, Some(range), &raw, &request)? {
        if let Some(days) = opened.days_to_check() {
            // The data rules over the raw rows the store computes from.
            let scope = Scope {
                event_days: Some(days),
                ..Scope::default()
            };
            let mut checked =
                raw.only(&[SourceName::Accounts, SourceName::Events, SourceName::Users]);
            timed("check", "raw events of the store's days", || {
                quality::check(&mut checked, pipeline, &scope)?.into_result()
            })?;
        }
        let synced = opened.fill(pipeline, &raw, run_id)?;
        let entry = &synced.entry;
        stages.done(
            "store",
            &format!(
                "{} day(s) of activity computed, {} reused from {}{}",
                entry.computed_days,
                entry.reused_days,
                entry.location,
                match entry.removed_days {
                    0 => String::new(),
                    n => format!(", {n} day(s) older than `keep_days` removed"),
                }
            ),
        );
        return Ok(Some(Produced::Store(synced)));
    }
    let staged = spark::stage(pipeline, &raw, run_id, range)?;
    stages.done(
        "spark",
        &format!(
            "the rollup of {} events written by Spark at {}",
            staged.entry.events, staged.entry.remote
        ),
    );
    Ok(Some(Produced::Spark(staged)))
}

/// Scans, checks, plans, executes and runs the statistics; writes nothing.
pub(super) fn compute_stages(
    job: &Job,
    run_id: String,
    options: &RunOptions,
    stages: &mut Stages,
) -> Result<Computed> {
    let pipeline = &job.pipeline;
    let produced = produce(job, &run_id, options, stages)?;
    let (mut inputs, mut problems) = scan_all(job, produced.as_ref().map(Produced::events))?;
    if let Some(Produced::Spark(staged)) = &produced {
        problems.extend(staged.check_events(&inputs).err());
    }
    let files: BTreeMap<SourceName, (String, Vec<String>)> = inputs
        .sources
        .iter()
        .map(|(name, s)| {
            let format = format!("{:?}", s.format).to_lowercase();
            (
                *name,
                (format, s.files.iter().map(|f| f.to_string()).collect()),
            )
        })
        .collect();
    stages.done(
        "scan",
        &format!(
            "{} source(s), {} file(s)",
            inputs.sources.len(),
            files.values().map(|f| f.1.len()).sum::<usize>()
        ),
    );

    let mut scope = needs::check_scope(&job.metrics, &pipeline.period);
    // The typed rows of the CSV sources, kept by their data rules' pass
    // for the rest of the run (docs/OPERATING.md#temporary-files); removed
    // when the computing ends. Without a temporary directory the CSV
    // files are parsed again where read.
    let spill = crate::source::SpillDir::create(&run_id);
    scope.spill = spill.as_ref().map(|dir| dir.path().to_path_buf());
    let config_warnings = needs::config_warnings(&job.metrics);
    for warning in &config_warnings {
        crate::log::warn("config", warning);
    }
    // The activity fold rides the events' data rules: events are read once.
    // Prepared only over inputs that scanned cleanly, and a fold that cannot
    // be prepared is prepared again after the checks (which report bad data
    // better than a failed read would): nothing is hidden, only not ridden.
    let (ride, rider) = match problems.is_empty() {
        true => match crate::plan::activity::prepare_ride(job, &inputs) {
            Ok(ride) => ride.unzip(),
            Err(e) => {
                crate::log::debug("activity", &format!("the fold reads events apart: {e}"));
                (None, None)
            }
        },
        false => (None, None),
    };
    // Facts folded from the rows of their sources' data rules' passes.
    let folds = match problems.is_empty() {
        true => crate::metrics::fact_folds(&job.metrics, &pipeline.period, &inputs),
        false => Vec::new(),
    };
    let mut riders: BTreeMap<SourceName, crate::inputs::RiderStart> = BTreeMap::new();
    riders.extend(rider.map(|start| (SourceName::Events, start)));
    let mut rides = Vec::new();
    for (source, ride, start) in folds {
        riders.insert(source, start);
        rides.push(ride);
    }
    let (report, plausibility) = timed("check", "data rules and plausibility", || {
        quality::check_all(&mut inputs, pipeline, &scope, problems, riders)
    })?;
    for ride in rides {
        ride.keep(&mut inputs)?;
    }
    let mut warnings = config_warnings;
    warnings.extend(report.warnings.clone());
    warnings.extend(plausibility.warnings);
    stages.done(
        "check",
        &format!(
            "{} input rows pass every rule",
            report.rows_read.values().sum::<u64>()
        ),
    );

    let activity = crate::plan::activity::compute_activity(job, &inputs, ride)?;
    let mut activity_entry = None;
    if let Some(computed) = &activity {
        let started = stages.last;
        stages.done(
            "activity",
            &format!(
                "events of {} … {} reduced to {} frame(s) of {} row(s)",
                computed.range.first,
                computed.range.end - chrono::Days::new(1),
                computed.reductions.len(),
                computed
                    .reductions
                    .values()
                    .map(|f| f.height())
                    .sum::<usize>()
            ),
        );
        activity_entry = Some(ActivityEntry {
            engine: pipeline.activity_engine.name().to_string(),
            spark: match &produced {
                Some(Produced::Spark(staged)) => Some(staged.entry.clone()),
                _ => None,
            },
            store: match &produced {
                Some(Produced::Store(synced)) => Some(synced.entry.clone()),
                _ => None,
            },
            first_day: computed.range.first.to_string(),
            end_day: computed.range.end.to_string(),
            rows_in: report
                .rows_read
                .get(&SourceName::Events)
                .copied()
                .unwrap_or(0),
            reductions: computed
                .reductions
                .iter()
                .map(|(key, frame)| (key.clone(), frame.height() as u64))
                .collect(),
            seconds: (stages.last - started).as_secs_f64(),
        });
    }
    let plans = build_plans(job, &inputs, activity.as_ref(), AccountFrame::Computed)?;
    stages.done(
        "plan",
        &format!(
            "{} aggregate plan(s), {} table plan(s)",
            plans.aggregates.len(),
            plans.tables.len()
        ),
    );

    let run = RunColumns {
        run_id,
        as_of: pipeline.period.as_of,
    };
    let collected = execute::collect(plans, &run, &pipeline.segment_by)?;
    // Every plan that read the kept rows has run.
    drop(spill);
    stages.done(
        "execute",
        &format!("{} aggregate row(s)", collected.aggregates.height()),
    );

    let adjust = crate::stats::AdjustSpec::of(pipeline);
    let Outputs {
        metric_rows,
        lift_rows,
        tables,
        warnings: statistics_warnings,
    } = execute::statistics(
        collected,
        &execute::Reading {
            alpha: pipeline.alpha,
            adjust: adjust.as_ref(),
            families: &crate::metrics::families::Families::new(
                &job.metrics,
                pipeline.primary.as_deref(),
                pipeline.guardrails.as_deref(),
            ),
            period: (
                crate::time::date_to_days(pipeline.period.start),
                crate::time::date_to_days(pipeline.period.as_of),
            ),
            months: pipeline.period.months,
            money: &pipeline.money,
        },
        &run,
    )?;
    for warning in &statistics_warnings {
        crate::log::warn("statistics", warning);
    }
    if adjust.is_some() {
        crate::stats::adjust::log_cmh(&lift_rows, crate::time::date_to_days(pipeline.period.start));
    }
    warnings.extend(statistics_warnings);
    stages.done(
        "statistics",
        &format!(
            "{} metric row(s), {} lift row(s)",
            metric_rows.len(),
            lift_rows.len()
        ),
    );
    Ok(Computed {
        run_id: run.run_id,
        report,
        files,
        warnings,
        metric_rows,
        lift_rows,
        outputs: tables,
        activity: activity_entry,
    })
}
