//! Command-line definitions (docs/OPERATING.md).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Does training your customers pay off? Computes retention, revenue and
/// survey metrics for trained and untrained customers (landmark cohorts),
/// tests the difference, and writes Parquet tables.
#[derive(Debug, Parser)]
#[command(name = "cohort-metrics", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success, 2 invalid command line or pipeline file, 3 input data broke a rule \
(verify: the partition is not intact), 4 an input or output could not be read or written, 5 another run \
holds the output partition's lock, 1 anything else."
)]
pub struct Cli {
    /// Log line format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Debug details.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline and publish its tables under <output>/as_of=YYYY-MM-DD/.
    Run(RunArgs),
    /// Check the pipeline, the inputs and every data rule; write nothing.
    Validate(PipelineArgs),
    /// Print the optimized query plan of every output table.
    Explain(PipelineArgs),
    /// List every metric id with its definition and the inputs it needs.
    Metrics {
        /// Print the catalog as a Markdown table (as in docs/METRICS.md).
        #[arg(long)]
        markdown: bool,
    },
    /// Write a synthetic dataset with planted training effects.
    Generate(GenerateArgs),
    /// Render the report page of a published partition again (the same
    /// bytes as the run's `report.html`), into --out, never into the partition.
    Report(ReportArgs),
    /// Print the JSON Schema of the pipeline file.
    Schema,
    /// Check a published partition: every table's size and sha256 against
    /// the manifest and `_SUCCESS`, and every row's run id. Exit 0 intact,
    /// 3 not intact, 4 unreadable or without `_SUCCESS`.
    Verify(VerifyArgs),
    /// Print the SQL that computes the pipeline's activity rollup in another
    /// engine (DuckDB, Spark), for `activity.engine: table`.
    #[command(name = "activity-sql")]
    ActivitySql(ActivitySqlArgs),
    /// Draft a pipeline file from a folder of exports: each file's header and
    /// first rows are read, vendor shapes recognized (docs/INPUTS.md, Recipes),
    /// every guess commented; then the draft is validated.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder of exports (CSV, Parquet, NDJSON files; a subfolder of one
    /// format is one source).
    pub exports: PathBuf,
    /// Where to write the draft.
    #[arg(long, short, default_value = "pipeline.yaml")]
    pub output: PathBuf,
    /// Replace the output file when it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ActivitySqlArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// The engine's SQL dialect.
    #[arg(long, value_enum)]
    pub dialect: cohort_metrics::activity::sql::Dialect,
    /// Read this table (or view) of the engine instead of the events source's files;
    /// its columns are named as the source's `columns` map them.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The partition: a directory `…/as_of=YYYY-MM-DD` or `s3://bucket/prefix/as_of=YYYY-MM-DD`;
    /// it must have `_SUCCESS`.
    pub partition: String,
    /// Where to write the page.
    #[arg(long, value_name = "FILE", default_value = "report.html")]
    pub out: PathBuf,
    /// S3-compatible endpoint for an `s3://` partition outside AWS (e.g. MinIO);
    /// plain `http://` is allowed. Credentials and region come from the environment.
    #[arg(long, value_name = "URL", env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The partition: a directory `…/as_of=YYYY-MM-DD` or `s3://bucket/prefix/as_of=YYYY-MM-DD`.
    pub partition: String,
    /// S3-compatible endpoint for an `s3://` partition outside AWS (e.g. MinIO);
    /// plain `http://` is allowed. Credentials and region come from the environment.
    #[arg(long, value_name = "URL", env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The pipeline file (YAML).
    pub pipeline: PathBuf,
    /// Exclusive end of the measurement (YYYY-MM-DD); overrides `period.as_of`.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Override a scalar of the pipeline by its dotted path, e.g. `period.months=3`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Output directory (relative to the current directory); overrides `output.path`.
    #[arg(long, value_name = "URI")]
    pub output: Option<String>,
    /// Compute everything but write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// When another run holds the output partition's lock, wait up to this many
    /// seconds for it, then exit with code 5 naming the holder. On S3 a lease
    /// is first watched: taken over if it stays unchanged for
    /// `output.lock_expiry_secs` (its run is dead), exit 5 once it is renewed.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait_lock: u64,
    /// With `activity.store`: recompute every stored day of the run's range
    /// instead of only the missing and the last `lookback_days` days.
    #[arg(long)]
    pub full_refresh: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write the tables and GENERATOR.md into.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of accounts.
    #[arg(long, default_value_t = 2_000)]
    pub accounts: u64,
    /// Random seed; the same seed gives the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// File format: `mixed` writes accounts, users and survey responses as CSV and the rest as Parquet.
    #[arg(long, value_enum, default_value_t = GenerateFormat::Mixed)]
    pub format: GenerateFormat,
    /// Last day covered by the data is the day before this date.
    #[arg(long, value_parser = parse_date, default_value = "2026-11-01")]
    pub end: chrono::NaiveDate,
    /// Events per active day are 1–4 times this: 1 gives about 114 events per
    /// account (1M accounts: 114M events), 10 about a billion at 1M accounts.
    /// Active days and every other table stay the same.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub event_factor: u32,
    /// Training changes nothing (no planted effects) while the confounding by
    /// plan stays: the null scenario an adjusted comparison must not call significant.
    #[arg(long)]
    pub no_training_effect: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GenerateFormat {
    Mixed,
    Parquet,
    Csv,
}

fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date: expected YYYY-MM-DD"))
}
