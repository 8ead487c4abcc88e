//! The job, stage after stage, each logged with its duration: config
//! (`config`) → scan (`inputs`) → check (`quality`) → plan (`plan`) →
//! execute and statistics (`execute`, `stats`) → write and publish
//! (`output::partition`). This module keeps only their order and logging.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::{load_pipeline_file, resolve, LoadOptions, Pipeline, SourceName};
use crate::error::Result;
use crate::execute::{self, Outputs};
use crate::inputs::Inputs;
use crate::log;
use crate::output::partition::lock::LockRequest;
use crate::output::partition::manifest::{sha256_hex, ActivityEntry, Manifest, RunRecord};
use crate::output::partition::Partition;
use crate::output::tables::{RunColumns, TABLES};
use crate::plan::build_plans;
use crate::quality::{self, QualityReport};
use crate::stats::{LiftRow, MetricRow};

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

/// The stages of a run, in order: the live progress line (on a terminal)
/// names the one after the last finished stage.
const STAGE_ORDER: [&str; 11] = [
    "config",
    "store",
    "spark",
    "scan",
    "check",
    "activity",
    "plan",
    "execute",
    "statistics",
    "write",
    "publish",
];

impl Drop for Stages {
    fn drop(&mut self) {
        log::progress(None);
    }
}

/// Stage timer: logs each stage and keeps the durations for the manifest;
/// on a terminal a live line shows the running stage.
struct Stages {
    started: Instant,
    last: Instant,
    timings: Vec<(String, f64)>,
}

impl Stages {
    fn new() -> Self {
        let now = Instant::now();
        log::progress(Some(STAGE_ORDER[0]));
        Stages {
            started: now,
            last: now,
            timings: Vec::new(),
        }
    }

    fn done(&mut self, stage: &str, message: &str) {
        let now = Instant::now();
        let seconds = (now - self.last).as_secs_f64();
        self.last = now;
        self.timings
            .push((stage.to_string(), (seconds * 1000.0).round() / 1000.0));
        log::info(stage, &format!("{message} ({seconds:.2}s)"));
        let next = STAGE_ORDER
            .iter()
            .position(|s| *s == stage)
            .and_then(|i| STAGE_ORDER.get(i + 1));
        log::progress(next.copied());
    }

    fn total(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// Runs one part of a stage, logging its duration at debug level (`-v`).
fn timed<T>(stage: &str, part: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let result = work();
    log::debug(
        stage,
        &format!("{part}: {:.2}s", started.elapsed().as_secs_f64()),
    );
    result
}

/// Reads and resolves the pipeline file.
pub fn load(options: &RunOptions) -> Result<Pipeline> {
    let (file, raw) = load_pipeline_file(
        &options.pipeline,
        &LoadOptions {
            sets: options.sets.clone(),
        },
    )?;
    resolve(
        file,
        raw,
        &options.pipeline,
        options.as_of,
        options.output.as_deref(),
    )
}

/// What `validate` found: the data checks and the plausibility checks.
pub struct Validated {
    pub report: QualityReport,
    pub plausibility: quality::plausibility::Plausibility,
    pub pipeline: Pipeline,
}

impl Validated {
    /// The coverage summary `validate` ends with: per source its rows, date
    /// range and dropped rows; the cohort sizes; the courses matched.
    pub fn summary(&self) -> String {
        let mut out = String::from("coverage:\n");
        let width = self
            .report
            .rows_read
            .keys()
            .map(|n| n.to_string().len())
            .max()
            .unwrap_or(6);
        for (name, rows) in &self.report.rows_read {
            let range = match self.report.date_ranges.get(name) {
                Some((column, Some(first), Some(last))) => format!("{column} {first} … {last}"),
                Some((column, _, _)) => format!("{column}: no dates"),
                None => String::new(),
            };
            let dropped = self.report.orphans.get(name).copied().unwrap_or(0);
            let dropped = if dropped > 0 {
                format!(
                    "; dropped {dropped} ({:.1} %): account_id empty or not in accounts",
                    dropped as f64 * 100.0 / (*rows).max(1) as f64
                )
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {:<width$}  {rows:>10} rows  {range}{dropped}\n",
                name.to_string()
            ));
        }
        let p = &self.plausibility;
        out.push_str(&format!(
            "  cohorts at the period start {}: {}\n  cohorts at as_of {}: {}\n",
            self.pipeline.period.start, p.at_start, self.pipeline.period.as_of, p.at_as_of
        ));
        match (&self.pipeline.cohort.courses, p.courses.is_empty()) {
            (Some(_), false) => out.push_str(&format!(
                "  courses matched: {}\n",
                p.courses
                    .iter()
                    .map(|(c, n)| format!("`{c}` ({n} rows)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            (None, _) => out.push_str("  courses: every course qualifies (no `cohort.courses`)\n"),
            _ => {}
        }
        out
    }
}

/// `cohort-metrics validate`: config, inputs and data rules; writes nothing.
pub fn validate(options: &RunOptions) -> Result<Validated> {
    let mut stages = Stages::new();
    let pipeline = load(options)?;
    stages.done("config", &format!("pipeline `{}` is valid", pipeline.name));
    let inputs = Inputs::scan(&pipeline)?;
    stages.done(
        "scan",
        &format!(
            "{} source(s) found with the columns the metrics need",
            inputs.sources.len()
        ),
    );
    let report =
        timed("check", "data rules", || quality::check(&inputs, &pipeline))?.into_result()?;
    let plausibility = timed("check", "plausibility", || {
        quality::plausibility::check(&inputs, &pipeline, &report)
    })?;
    let rows: u64 = report.rows_read.values().sum();
    stages.done("check", &format!("{rows} rows pass every rule"));
    Ok(Validated {
        report,
        plausibility,
        pipeline,
    })
}

/// `cohort-metrics explain`: the optimized plan of every output.
pub fn explain(options: &RunOptions) -> Result<String> {
    let pipeline = load(options)?;
    let inputs = Inputs::scan(&pipeline)?;
    let activity = crate::plan::activity_plans(&pipeline, &inputs)?;
    // The metrics' plans read the reductions as in-memory frames: empty
    // ones with the reductions' schemas stand in for them.
    let stand_ins = crate::plan::activity_stand_ins(&pipeline, &activity)?;
    let plans = build_plans(&pipeline, &inputs, stand_ins.as_ref())?;
    let run = RunColumns {
        run_id: "explain".into(),
        as_of: pipeline.period.as_of,
    };
    execute::explain(plans, &run, &pipeline.segment_by, activity.plans)
}

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

/// Scans, checks, plans, executes and runs the statistics; writes nothing.
fn compute_stages(
    pipeline: &Pipeline,
    run_id: String,
    options: &RunOptions,
    stages: &mut Stages,
) -> Result<Computed> {
    // `activity.store`: the days the store lacks are computed (by the
    // configured engine) and the run reads the rollup from the store.
    let synced = crate::activity::store::sync(
        pipeline,
        &crate::activity::store::SyncRequest {
            run_id: &run_id,
            full_refresh: options.full_refresh,
            wait: options.wait_lock,
        },
    )?;
    if let Some(synced) = &synced {
        stages.done(
            "store",
            &format!(
                "{} day(s) of activity computed, {} reused from {}{}",
                synced.entry.computed_days,
                synced.entry.reused_days,
                synced.entry.location,
                match synced.entry.removed_days {
                    0 => String::new(),
                    n => format!(", {n} day(s) older than `keep_days` removed"),
                }
            ),
        );
    }
    // `engine: spark` without a store: the rollup is computed on Spark and
    // read from its staging directory (removed when `staged` drops).
    let staged = match synced {
        Some(_) => None,
        None => crate::activity::spark::stage(pipeline, &run_id)?,
    };
    let pipeline = match (&synced, &staged) {
        (Some(synced), _) => &synced.pipeline,
        (None, Some(staged)) => {
            stages.done(
                "spark",
                &format!(
                    "the rollup of {} events written by Spark at {}",
                    staged.entry.events, staged.entry.remote
                ),
            );
            &staged.pipeline
        }
        (None, None) => pipeline,
    };
    let inputs = Inputs::scan(pipeline)?;
    if let Some(staged) = &staged {
        staged.check_events(&inputs)?;
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

    let report =
        timed("check", "data rules", || quality::check(&inputs, pipeline))?.into_result()?;
    let mut warnings: Vec<String> = report.warnings.clone();
    warnings.extend(
        timed("check", "plausibility", || {
            quality::plausibility::check(&inputs, pipeline, &report)
        })?
        .warnings,
    );
    stages.done(
        "check",
        &format!(
            "{} input rows pass every rule",
            report.rows_read.values().sum::<u64>()
        ),
    );

    let activity = crate::plan::compute_activity(pipeline, &inputs)?;
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
            spark: staged.as_ref().map(|s| s.entry.clone()),
            store: synced.as_ref().map(|s| s.entry.clone()),
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
    let plans = build_plans(pipeline, &inputs, activity.as_ref())?;
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
    } = execute::statistics(collected, pipeline.alpha, adjust.as_ref(), &run)?;
    for warning in &statistics_warnings {
        crate::log::warn("statistics", warning);
    }
    if adjust.is_some() {
        log_cmh(&lift_rows, crate::time::date_to_days(pipeline.period.start));
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

/// Computes every output of a resolved pipeline without writing anything.
pub fn compute(pipeline: &Pipeline) -> Result<Computed> {
    compute_stages(
        pipeline,
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
    let pipeline = load(options)?;
    stages.done(
        "config",
        &format!(
            "pipeline `{}`: period [{}, {}), {} metric(s), run {run_id}",
            pipeline.name,
            pipeline.period.start,
            pipeline.period.as_of,
            pipeline.metrics.len()
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
        warnings,
        mut outputs,
        activity,
        lift_rows,
        ..
    } = compute_stages(&pipeline, run_id, options, &mut stages)?;
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

    let lock = lock.ok_or_else(|| crate::error::Error::Other("no partition lock".into()))?;
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
        &pipeline,
        RunRecord {
            run_id: &run_id,
            started_at,
            files: &files,
            report: &report,
            rows: &rows,
            timings: stages.timings.clone(),
            warnings,
            activity,
            adjust: adjust_entry(&pipeline, &lift_rows),
        },
    );
    let headline = if pipeline.report {
        Some(write_report(&partition, &outputs, &mut manifest)?)
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

/// Renders `report.html` from the run's tables and manifest (as
/// `cohort-metrics report` reads them back) into the staged partition, and
/// lists it among the manifest's outputs; returns the headline as text for
/// the terminal.
fn write_report(
    partition: &Partition,
    outputs: &BTreeMap<&'static str, polars::prelude::DataFrame>,
    manifest: &mut Manifest,
) -> Result<String> {
    let tables = crate::report::TABLES
        .iter()
        .filter_map(|t| Some((t.to_string(), outputs.get(t)?.clone())))
        .collect();
    let data = crate::report::ReportData::new(&tables, manifest)?;
    let page = crate::report::render(&data);
    partition.write_text(crate::report::FILE, &page)?;
    manifest
        .outputs
        .push(crate::output::partition::manifest::OutputEntry {
            table: "report".to_string(),
            file: crate::report::FILE.to_string(),
            rows: 0,
            bytes: 0,
            sha256: String::new(),
        });
    Ok(crate::report::terminal_table(&data))
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

/// `cohort-metrics verify PARTITION`: a local directory or an `s3://` URI
/// (with `endpoint` for a store outside AWS).
pub fn verify(
    partition: &str,
    endpoint: Option<&str>,
) -> Result<crate::output::partition::verify::Verified> {
    let (location, s3) = published_partition(partition, endpoint)?;
    crate::output::partition::verify::verify(&location, s3.as_ref())
}

/// A published partition named on the command line (`verify`, `report`):
/// its location and, on S3, a client for `endpoint` (or AWS).
pub fn published_partition(
    partition: &str,
    endpoint: Option<&str>,
) -> Result<(
    crate::storage::Location,
    Option<std::sync::Arc<crate::storage::s3::S3>>,
)> {
    let location = crate::storage::Location::parse(partition, std::path::Path::new("."))
        .map_err(crate::error::Error::config)?;
    let s3 = location.is_s3().then(|| {
        let config = crate::config::S3Config {
            endpoint: endpoint.map(str::to_string),
            allow_http: endpoint.is_some_and(|e| e.starts_with("http://")),
            ..Default::default()
        };
        crate::storage::s3::S3::new(crate::storage::s3::S3Settings::from_config(Some(&config)))
    });
    Ok((location, s3))
}

/// The manifest's `adjust` entry: the settings and the CMH cross-checks.
fn adjust_entry(
    pipeline: &Pipeline,
    lift_rows: &[crate::stats::LiftRow],
) -> Option<crate::output::partition::manifest::AdjustEntry> {
    use crate::output::partition::manifest::{AdjustEntry, CmhEntry};
    let adjust = pipeline.adjust.as_ref()?;
    let cmh = lift_rows
        .iter()
        .filter_map(|row| {
            Some(CmhEntry {
                metric: row.metric.clone(),
                segment: row.segment.clone(),
                dimension: row.dimension.clone(),
                period_start: crate::time::days_to_date(row.period_start).to_string(),
                adjusted_p_value: row.adjusted.p_value,
                cmh_p_value: row.adjusted.cmh_p_value?,
            })
        })
        .collect();
    Some(AdjustEntry {
        method: adjust.method.name().to_string(),
        covariates: adjust.covariates.clone(),
        min_per_arm: adjust.min_per_arm,
        cmh,
    })
}

/// SPEC §6: the CMH cross-check "in the log": how many proportion rows have
/// one, and the overall rows' Wald and CMH p-values side by side.
fn log_cmh(lift_rows: &[crate::stats::LiftRow], period_start: i32) {
    let checked: Vec<_> = lift_rows
        .iter()
        .filter(|r| r.adjusted.cmh_p_value.is_some())
        .collect();
    if checked.is_empty() {
        return;
    }
    let overall: Vec<String> = checked
        .iter()
        .filter(|r| r.segment.is_none() && r.dimension.is_none() && r.period_start == period_start)
        .map(|r| {
            format!(
                "{} {:.2e} / {:.2e}",
                r.metric,
                r.adjusted.p_value.unwrap_or(f64::NAN),
                r.adjusted.cmh_p_value.unwrap_or(f64::NAN)
            )
        })
        .collect();
    log::info(
        "statistics",
        &format!(
            "adjust: Cochran–Mantel–Haenszel cross-check of {} proportion row(s) in the manifest \
             (adjust.cmh); adjusted Wald p / CMH p of the overall rows: {}",
            checked.len(),
            overall.join(", ")
        ),
    );
}
