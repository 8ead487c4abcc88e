//! The job: config → plan → execute → publish, one stage after the other,
//! each logged with its duration.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::{load_pipeline_file, resolve, LoadOptions, Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::metrics::{AggregatePlan, MetricPlan, PlanContext};
use crate::output::manifest::{input_entries, sha256_hex, Manifest, OutputEntry};
use crate::output::publish::{partition_name, Staging};
use crate::output::s3_publish::{self, ScratchDir};
use crate::output::tables::{self, TABLES};
use crate::quality::{self, QualityReport};
use crate::storage::Location;
use crate::summary::{summarize, PlanInfo};
use crate::{cohort, log};

/// What the command line says about a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub pipeline: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub output: Option<String>,
    pub sets: Vec<String>,
    pub dry_run: bool,
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
const STAGE_ORDER: [&str; 8] = [
    "config",
    "scan",
    "check",
    "plan",
    "execute",
    "summarize",
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

/// SPEC §7: `account_id` is a String column sorted as text, also when the
/// run compared integer ids as integers (see `build_source`): cast and
/// re-sort the per-account tables.
fn ids_as_text(df: DataFrame) -> Result<DataFrame> {
    match df.schema().get("account_id") {
        Some(DataType::String) | None => Ok(df),
        Some(_) => df
            .lazy()
            .with_column(col("account_id").cast(DataType::String))
            .sort(
                ["account_id"],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .collect()
            .map_err(|e| Error::engine("writing account ids as text", e)),
    }
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

/// The plans of one run, built from the pipeline and the scanned inputs.
pub struct Plans {
    pub aggregates: Vec<AggregatePlan>,
    /// (table, plan) for retention_curve, revenue_movements, account_cohorts.
    pub tables: Vec<(&'static str, LazyFrame)>,
    /// Plans finished in Rust (survival).
    pub custom: Vec<crate::metrics::CustomPlan>,
}

/// Builds every plan; nothing is executed.
/// `event_rows`: the events' row count when known (from the data checks);
/// it decides whether the events are shared in memory (see
/// `PlanContext::daily_events`).
pub fn build_plans(
    pipeline: &Pipeline,
    inputs: &Inputs,
    run_id: &str,
    event_rows: Option<u64>,
) -> Result<Plans> {
    let segment_by = &pipeline.file.segment_by;
    // Read once: the cohort rule and the education metrics share it.
    let training = match inputs.get(SourceName::Training) {
        Some(_) => Some(inputs.frame(SourceName::Training)?.cache()),
        None => None,
    };
    let training_shared = training.clone();
    let accounts = cohort::account_frame(
        inputs.frame(SourceName::Accounts)?,
        training,
        &pipeline.file.cohort,
        &pipeline.period,
        segment_by,
    )
    .cache();
    let ctx = PlanContext::new(
        &pipeline.period,
        inputs,
        segment_by,
        &pipeline.file.cohort,
        accounts.clone(),
    )
    .with_event_rows(event_rows);
    if let Some(training) = &training_shared {
        ctx.seed(SourceName::Training.as_str(), training.clone());
    }
    let mut aggregates = Vec::new();
    let mut custom = Vec::new();
    let mut extra: BTreeMap<&'static str, LazyFrame> = BTreeMap::new();
    for metric in &pipeline.file.metrics {
        let MetricPlan {
            aggregates: a,
            tables: t,
        } = metric.metric().plan(&ctx)?;
        aggregates.extend(a);
        for table in t {
            extra.insert(table.table, table.frame);
        }
        custom.extend(metric.metric().custom_plans(&ctx)?);
    }
    let as_of = pipeline.period.as_of;
    let mut table_plans = Vec::new();
    for (table, columns, keys) in [
        (
            "retention_curve",
            &tables::RETENTION_CURVE_COLUMNS[..],
            &["cohort", "segment", "signup_month", "months_since_signup"][..],
        ),
        (
            "revenue_movements",
            &tables::REVENUE_MOVEMENTS_COLUMNS[..],
            &["month", "cohort", "segment", "movement"][..],
        ),
    ] {
        if let Some(frame) = extra.remove(table) {
            let sorted = frame.sort(
                keys.to_vec(),
                SortMultipleOptions::default().with_nulls_last(false),
            );
            table_plans.push((
                table,
                tables::with_run_columns(sorted, run_id, as_of, columns),
            ));
        }
    }
    if let Some(frame) = extra.remove("account_health") {
        // Columns: account_id, cohort, health_score, then one per configured signal.
        let sorted = frame.sort(["account_id"], SortMultipleOptions::default());
        let with_run = sorted.select([
            lit(run_id).alias("run_id"),
            crate::time::date_lit(as_of).alias("as_of"),
            col("*"),
        ]);
        table_plans.push(("account_health", with_run));
    }
    let mut cohort_columns: Vec<&str> = vec!["account_id"];
    cohort_columns.extend(segment_by.iter().map(String::as_str));
    cohort_columns.extend([
        "signup_date",
        "landmark_date",
        "cohort",
        "first_completed_at",
        "courses_by_landmark",
    ]);
    let account_cohorts = accounts
        .with_column(cohort::cohort_label_at_as_of())
        .sort(["account_id"], SortMultipleOptions::default());
    table_plans.push((
        "account_cohorts",
        tables::with_run_columns(account_cohorts, run_id, as_of, &cohort_columns),
    ));
    Ok(Plans {
        aggregates,
        tables: table_plans,
        custom,
    })
}

/// `cohort-metrics validate`: config, inputs and data rules; writes nothing.
pub fn validate(options: &RunOptions) -> Result<QualityReport> {
    let mut stages = Stages::new();
    let pipeline = load(options)?;
    stages.done(
        "config",
        &format!("pipeline `{}` is valid", pipeline.file.name),
    );
    let inputs = Inputs::scan(&pipeline)?;
    stages.done(
        "scan",
        &format!(
            "{} source(s) found with the columns the metrics need",
            inputs.sources.len()
        ),
    );
    let report = quality::check(&inputs, &pipeline)?.into_result()?;
    let rows: u64 = report.rows_read.values().sum();
    stages.done("check", &format!("{rows} rows pass every rule"));
    Ok(report)
}

/// `cohort-metrics explain`: the optimized plan of every output.
pub fn explain(options: &RunOptions) -> Result<String> {
    let pipeline = load(options)?;
    let inputs = Inputs::scan(&pipeline)?;
    let plans = build_plans(&pipeline, &inputs, "explain", None)?;
    let mut sections: Vec<(String, LazyFrame)> = Vec::new();
    if let Some(aggregates) = crate::metrics::aggregate::combine(&plans.aggregates)? {
        let title = format!(
            "metrics and lift (aggregates of {} metric plans)",
            plans.aggregates.len()
        );
        sections.push((title, aggregates));
    }
    sections.extend(
        plans
            .tables
            .into_iter()
            .map(|(table, plan)| (table.to_string(), plan)),
    );
    sections.extend(
        plans
            .custom
            .into_iter()
            .map(|c| ("metrics and lift (survival counts)".to_string(), c.frame)),
    );
    let mut text = String::new();
    for (title, plan) in &sections {
        text.push_str(&format!(
            "== {title} ==\n{}\n\n",
            crate::execute::describe(plan)?
        ));
    }
    let together = crate::execute::describe_all(sections.into_iter().map(|(_, p)| p).collect())?;
    text.push_str(&format!(
        "== every output together, as one run executes them (shared scans appear once, as CACHE nodes) ==\n{together}\n"
    ));
    Ok(text)
}

/// Everything a run computes before it writes.
pub struct Computed {
    pub run_id: String,
    pub report: QualityReport,
    /// Per source: format and files read.
    pub files: BTreeMap<SourceName, (String, Vec<String>)>,
    pub warnings: Vec<String>,
    pub metric_rows: Vec<crate::summary::MetricRow>,
    pub lift_rows: Vec<crate::summary::LiftRow>,
    /// Every output table, by name.
    pub outputs: BTreeMap<&'static str, DataFrame>,
}

/// Scans, checks, plans, executes and summarizes; writes nothing.
fn compute_stages(pipeline: &Pipeline, run_id: String, stages: &mut Stages) -> Result<Computed> {
    let inputs = Inputs::scan(pipeline)?;
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

    let report = quality::check(&inputs, pipeline)?.into_result()?;
    let mut warnings: Vec<String> = report
        .orphans
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(name, n)| {
            format!("source `{name}`: dropped {n} row(s) whose account_id is not in `accounts`")
        })
        .collect();
    if !inputs.sources.contains_key(&SourceName::Training) {
        let warning = "no `training` source: every assigned account is untrained".to_string();
        log::warn("plan", &warning);
        warnings.push(warning);
    }
    stages.done(
        "check",
        &format!(
            "{} input rows pass every rule",
            report.rows_read.values().sum::<u64>()
        ),
    );

    let event_rows = report.rows_read.get(&SourceName::Events).copied();
    let plans = build_plans(pipeline, &inputs, &run_id, event_rows)?;
    let plan_infos: Vec<PlanInfo> = plans
        .aggregates
        .iter()
        .map(|p| PlanInfo {
            metric: p.metric,
            kind: p.kind,
            direction: p.direction,
        })
        .collect();
    let mut lazy = Vec::new();
    let combined = crate::metrics::aggregate::combine(&plans.aggregates)?;
    let has_aggregates = combined.is_some();
    if let Some(combined) = combined {
        lazy.push(combined);
    }
    let table_names: Vec<&'static str> = plans.tables.iter().map(|(t, _)| *t).collect();
    lazy.extend(plans.tables.into_iter().map(|(_, p)| p));
    let mut finishers = Vec::new();
    for custom in plans.custom {
        lazy.push(custom.frame);
        finishers.push(custom.finish);
    }
    stages.done(
        "plan",
        &format!(
            "{} aggregate plan(s), {} table plan(s)",
            plan_infos.len(),
            table_names.len()
        ),
    );

    let mut collected = crate::execute::collect_all(lazy, "computing metrics")?.into_iter();
    let aggregates = if has_aggregates {
        collected.next().unwrap_or_default()
    } else {
        DataFrame::empty()
    };
    let mut outputs: BTreeMap<&'static str, DataFrame> = table_names
        .into_iter()
        .zip(collected.by_ref())
        .map(|(table, df)| Ok((table, ids_as_text(df)?)))
        .collect::<Result<_>>()?;
    let custom_frames: Vec<DataFrame> = collected.collect();
    stages.done(
        "execute",
        &format!("{} aggregate row(s)", aggregates.height()),
    );

    let alpha = pipeline.file.stats.alpha;
    let (mut metric_rows, mut lift_rows) = if has_aggregates {
        summarize(&aggregates, &plan_infos, alpha)?
    } else {
        (Vec::new(), Vec::new())
    };
    for (finish, frame) in finishers.iter().zip(&custom_frames) {
        let (m, l) = finish(frame, alpha)?;
        metric_rows.extend(m);
        lift_rows.extend(l);
    }
    crate::summary::sort_rows(&mut metric_rows, &mut lift_rows);
    let as_of = pipeline.period.as_of;
    outputs.insert(
        "metrics",
        tables::metrics_table(&run_id, as_of, &metric_rows)?,
    );
    outputs.insert("lift", tables::lift_table(&run_id, as_of, &lift_rows)?);
    for table in ["retention_curve", "revenue_movements", "account_health"] {
        if !outputs.contains_key(table) {
            outputs.insert(table, tables::empty_table(table)?);
        }
    }
    stages.done(
        "summarize",
        &format!(
            "{} metric row(s), {} lift row(s)",
            metric_rows.len(),
            lift_rows.len()
        ),
    );
    Ok(Computed {
        run_id,
        report,
        files,
        warnings,
        metric_rows,
        lift_rows,
        outputs,
    })
}

/// Computes every output of a resolved pipeline without writing anything.
pub fn compute(pipeline: &Pipeline) -> Result<Computed> {
    compute_stages(pipeline, new_run_id(), &mut Stages::new())
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
            pipeline.file.name,
            pipeline.period.start,
            pipeline.period.as_of,
            pipeline.file.metrics.len()
        ),
    );
    let Computed {
        run_id,
        report,
        files,
        warnings,
        mut outputs,
        ..
    } = compute_stages(&pipeline, run_id, &mut stages)?;
    let as_of = pipeline.period.as_of;
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

    // On S3 the partition is staged in a private local directory first.
    let (scratch, staging_root) = match &pipeline.output_dir {
        Location::Local(dir) => (None, dir.clone()),
        Location::S3 { .. } => {
            let scratch = ScratchDir::create(&run_id)?;
            let root = scratch.path().to_path_buf();
            (Some(scratch), root)
        }
    };
    let staging = Staging::create(&staging_root, as_of, &run_id)?;
    for table in TABLES {
        if let Some(df) = outputs.get_mut(table) {
            staging.write_table(table, df)?;
        }
    }
    stages.done("write", &format!("{} table(s) staged", TABLES.len()));
    let manifest = Manifest {
        run_id: run_id.clone(),
        tool: env!("CARGO_PKG_NAME"),
        tool_version: env!("CARGO_PKG_VERSION"),
        pipeline_name: pipeline.file.name.clone(),
        pipeline_path: pipeline.file_path.display().to_string(),
        pipeline_sha256: sha256_hex(&pipeline.raw_text),
        pipeline: serde_json::to_value(&pipeline.file)
            .map_err(|e| Error::Other(format!("manifest: {e}")))?,
        as_of: as_of.to_string(),
        period_start: pipeline.period.start.to_string(),
        period_end: pipeline.period.as_of.to_string(),
        period_months: pipeline.period.months,
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        inputs: input_entries(&pipeline, &files, &report),
        outputs: rows
            .iter()
            .map(|(t, n)| OutputEntry {
                table: t.clone(),
                file: format!("{t}.parquet"),
                rows: *n,
            })
            .collect(),
        timings: stages.timings.clone(),
        warnings,
    };
    let manifest_text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::Other(format!("manifest: {e}")))?;
    staging.write_text("_manifest.json", &(manifest_text + "\n"))?;
    let partition = match &pipeline.output_dir {
        Location::Local(_) => {
            staging.write_text("_SUCCESS", "")?;
            staging.commit()?.display().to_string()
        }
        Location::S3 { bucket, key } => {
            let s3 = pipeline
                .s3
                .as_ref()
                .ok_or_else(|| Error::Other("S3 client missing for an s3:// output".into()))?;
            let mut files: Vec<String> = TABLES.iter().map(|t| format!("{t}.parquet")).collect();
            files.push("_manifest.json".into());
            let uri = s3_publish::publish(
                s3,
                bucket,
                key,
                &partition_name(as_of),
                staging.dir(),
                &files,
            )?;
            drop(staging);
            drop(scratch);
            uri
        }
    };
    let seconds = stages.total();
    log::info(
        "done",
        &format!(
            "wrote {} to `{partition}` in {seconds:.2}s",
            describe_rows(&rows)
        ),
    );
    Ok(RunOutcome {
        partition: Some(partition),
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
