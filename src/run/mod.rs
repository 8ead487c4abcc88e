//! The commands that run a pipeline, stage after stage, each logged with
//! its duration (docs/ARCHITECTURE.md, "The stages"): config → store /
//! spark → scan → check → activity → plan → execute → statistics → write →
//! publish. This module keeps only their order; the computing stages are in
//! [`compute`], the timer in [`stages`].

mod compute;
mod stages;
mod usage;

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::config::{load_pipeline_file, resolve, LoadOptions};
use crate::error::{Error, Result};
use crate::log;
use crate::metrics::{needs, MetricConfig};
use crate::output::partition::manifest::{adjust_entry, sha256_hex, Manifest, RunRecord};
use crate::output::partition::Partition;
use crate::output::tables::{RunColumns, TABLES};
use crate::quality::{self, plausibility::Plausibility, QualityReport};
use crate::storage::lock::LockRequest;

pub use crate::plan::Job;
pub use compute::{scan, Computed};
use stages::{timed, Stages};

/// What the command line says about a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub pipeline: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub output: Option<String>,
    pub sets: Vec<String>,
    pub dry_run: bool,
    /// How long to wait for another run's lock of the output partition
    /// (and of the activity store).
    pub wait_lock: std::time::Duration,
    /// `run --full-refresh`: recompute every day of the activity store.
    pub full_refresh: bool,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Where the partition was published (a local path or an `s3://` URI).
    pub partition: Option<String>,
    pub rows: Vec<(String, u64)>,
    pub seconds: f64,
}

/// Reads and resolves the pipeline file: the pipeline and its metrics.
pub fn load(options: &RunOptions) -> Result<Job> {
    let (file, raw) = load_pipeline_file::<MetricConfig>(
        &options.pipeline,
        &LoadOptions {
            sets: options.sets.clone(),
        },
    )?;
    let (pipeline, metrics) = resolve(
        file,
        raw,
        &options.pipeline,
        options.as_of,
        options.output.as_deref(),
    )?;
    Ok(Job { pipeline, metrics })
}

/// What `validate` found: the data checks and the plausibility checks.
pub struct Validated {
    pub report: QualityReport,
    pub plausibility: Plausibility,
    pub job: Job,
}

impl Validated {
    /// The coverage summary `validate` ends with.
    pub fn summary(&self) -> String {
        quality::coverage(&self.report, &self.plausibility, &self.job.pipeline)
    }
}

/// `cohort-metrics validate`: config, inputs and data rules; writes nothing.
pub fn validate(options: &RunOptions) -> Result<Validated> {
    let mut stages = Stages::new();
    let job = load(options)?;
    let pipeline = &job.pipeline;
    stages.done("config", &format!("pipeline `{}` is valid", pipeline.name));
    for warning in needs::config_warnings(&job.metrics) {
        crate::log::warn("config", &warning);
    }
    let (mut inputs, problems) = compute::scan_all(&job, None)?;
    stages.done(
        "scan",
        &format!(
            "{} source(s) found with the columns the metrics need",
            inputs.sources.len()
        ),
    );
    let scope = needs::check_scope(&job.metrics, &pipeline.period);
    let (report, plausibility) = timed("check", "data rules and plausibility", || {
        quality::check_all(&mut inputs, pipeline, &scope, problems, Default::default())
    })?;
    let rows: u64 = report.rows_read.values().sum();
    stages.done("check", &format!("{rows} rows pass every rule"));
    Ok(Validated {
        report,
        plausibility,
        job,
    })
}

/// `cohort-metrics explain`: the optimized plan of every output.
pub fn explain(options: &RunOptions) -> Result<String> {
    let job = load(options)?;
    let inputs = scan(&job, None)?;
    let activity = crate::plan::activity::activity_plans(&job, &inputs)?;
    // The metrics' plans read the reductions as in-memory frames: empty
    // ones with the reductions' schemas stand in for them.
    let stand_ins = crate::plan::activity::activity_stand_ins(&job, &activity)?;
    let plans = crate::plan::build_plans(
        &job,
        &inputs,
        stand_ins.as_ref(),
        crate::plan::AccountFrame::Planned,
    )?;
    let run = RunColumns {
        run_id: "explain".into(),
        as_of: job.pipeline.period.as_of,
    };
    crate::execute::explain(plans, &run, &job.pipeline.segment_by, activity.plans)
}

/// `cohort-metrics activity-sql`: the activity rollup as SQL for `dialect`.
pub fn activity_sql(
    options: &RunOptions,
    dialect: crate::activity::sql::Dialect,
    table: Option<&str>,
) -> Result<String> {
    let job = load(options)?;
    let inputs = scan(&job, None)?;
    let range = crate::plan::activity::range(&job);
    crate::activity::sql::statement(&job.pipeline, &inputs, range, dialect, table)
}

/// Computes every output of a resolved job without writing anything.
pub fn compute(job: &Job) -> Result<Computed> {
    compute::compute_stages(
        job,
        new_run_id(),
        &RunOptions::default(),
        &mut Stages::new(),
    )
}

/// `cohort-metrics run`.
pub fn run(options: &RunOptions) -> Result<RunOutcome> {
    let mut stages = Stages::new();
    let started_at = chrono::Utc::now();
    let run_id = new_run_id();
    let job = load(options)?;
    let pipeline = &job.pipeline;
    stages.done(
        "config",
        &format!(
            "pipeline `{}`: period [{}, {}), {} metric(s), run {run_id}",
            pipeline.name,
            pipeline.period.start,
            pipeline.period.as_of,
            job.metrics.len()
        ),
    );
    // The partition's lock first: a second run on the same output stops
    // here (exit 5) instead of computing everything before it finds out.
    let lock = if options.dry_run {
        None
    } else {
        Some(Partition::lock(
            &pipeline.output_dir,
            pipeline.period.as_of,
            pipeline.s3.as_ref(),
            &LockRequest {
                setting: pipeline.lock,
                run_id: &run_id,
                wait: options.wait_lock,
                expiry: pipeline.lock_expiry,
            },
        )?)
    };
    let Computed {
        run_id,
        report,
        files,
        mut warnings,
        mut outputs,
        activity,
        lift_rows,
        ..
    } = compute::compute_stages(&job, run_id, options, &mut stages)?;
    // Before anything is written: with `quality.drift: error` a finding
    // stops the run.
    let drift = crate::output::drift::compare(pipeline, &report, &lift_rows)?;
    warnings.extend(drift.findings.iter().chain(&drift.unread).cloned());
    let rows: Vec<(String, u64)> = TABLES
        .iter()
        .map(|t| {
            (
                t.to_string(),
                outputs.get(t).map(|df| df.height() as u64).unwrap_or(0),
            )
        })
        .collect();

    if options.dry_run {
        let seconds = stages.total();
        log::info(
            "done",
            &format!(
                "dry run: nothing written; {} ({seconds:.2}s)",
                describe_rows(&rows)
            ),
        );
        return Ok(RunOutcome {
            partition: None,
            rows,
            seconds,
        });
    }

    let lock = lock.ok_or_else(|| Error::other("no partition lock"))?;
    let partition = Partition::stage(
        lock,
        &pipeline.output_dir,
        pipeline.period.as_of,
        &run_id,
        pipeline.s3.as_ref(),
    )?;
    partition.write_tables(&mut outputs)?;
    stages.done("write", &format!("{} table(s) staged", TABLES.len()));
    let mut manifest = Manifest::new(
        pipeline,
        RunRecord {
            run_id: &run_id,
            started_at,
            files: &files,
            report: &report,
            rows: &rows,
            timings: stages.timings.clone(),
            resources: stages.resources.clone(),
            warnings,
            activity,
            adjust: adjust_entry(pipeline, &lift_rows),
        },
    );
    manifest.drift = Some(drift);
    let headline = if pipeline.report {
        let nights = crate::report::history(
            &pipeline.output_dir,
            pipeline.s3.as_ref(),
            pipeline.period.as_of,
        )?;
        Some(crate::report::write_into(
            &partition,
            &outputs,
            &mut manifest,
            nights,
        )?)
    } else {
        None
    };
    let published = partition.commit(manifest)?;
    let seconds = stages.total();
    log::info(
        "done",
        &format!(
            "wrote {} to `{published}` in {seconds:.2}s",
            describe_rows(&rows)
        ),
    );
    if let Some(headline) = headline.filter(|_| log::terminal()) {
        eprint!(
            "\n{headline}\nreport: {}/{}\n",
            published.trim_end_matches('/'),
            crate::report::FILE
        );
    }
    Ok(RunOutcome {
        partition: Some(published),
        rows,
        seconds,
    })
}

fn describe_rows(rows: &[(String, u64)]) -> String {
    rows.iter()
        .map(|(t, n)| format!("{t}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A run id: UTC time plus a random suffix, sortable and unique enough.
fn new_run_id() -> String {
    let now = chrono::Utc::now();
    let seed = format!(
        "{}-{}-{:?}",
        now.timestamp_nanos_opt().unwrap_or_default(),
        std::process::id(),
        std::thread::current().id()
    );
    let hash = sha256_hex(&seed);
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &hash[..8])
}
