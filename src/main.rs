//! `cohort-metrics`: parse the command line, set up logging, run the command,
//! map the error to its exit code.

use std::process::ExitCode;

use clap::Parser;

use cohort_metrics::error::{Error, Result};
use cohort_metrics::{catalog, generate, log, run};

mod cli;

use cli::{Cli, Command, LogFormat, PipelineArgs};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let format = match cli.log_format {
        LogFormat::Text => log::Format::Text,
        LogFormat::Json => log::Format::Json,
    };
    log::init(format, cli.quiet, cli.verbose);
    // A panic's message may hold a value of the pipeline: redacted like
    // every other text that leaves the process.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{}", cohort_metrics::redact::redact(&info.to_string()));
    }));
    // A panic is a bug; it still ends with exit code 1 and a clear line, never a half-written output.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(cli.command)))
        .unwrap_or_else(|_| {
            Err(Error::other(
                "internal error (a bug): the job stopped; nothing was published",
            ))
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::from(err.exit_code() as u8)
        }
    }
}

fn report(err: &Error) {
    // Secrets never leave the process, whatever a server echoed back.
    let mut message = format!("error: {err}");
    if let Some(hint) = err.hint() {
        message.push_str(&format!("\nhint: {hint}"));
    }
    let message = cohort_metrics::redact::redact(&message);
    match log::format() {
        log::Format::Json => log::emit(log::Level::Error, "error", &message),
        log::Format::Text => eprintln!("{message}"),
    }
}

fn run_options(args: PipelineArgs) -> run::RunOptions {
    run::RunOptions {
        pipeline: args.pipeline,
        as_of: args.as_of,
        sets: args.sets,
        ..Default::default()
    }
}

fn execute(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => {
            let mut options = run_options(args.pipeline);
            options.output = args.output;
            options.dry_run = args.dry_run;
            options.wait_lock = std::time::Duration::from_secs(args.wait_lock);
            options.full_refresh = args.full_refresh;
            run::run(&options).map(|_| ())
        }
        Command::Validate(args) => {
            let validated = run::validate(&run_options(args))?;
            print_out(&cohort_metrics::redact::redact(&validated.summary()))
        }
        Command::Explain(args) => print_out(&cohort_metrics::redact::redact(&run::explain(
            &run_options(args),
        )?)),
        Command::Metrics { markdown } => {
            print!(
                "{}",
                if markdown {
                    catalog::markdown()
                } else {
                    catalog::text()
                }
            );
            Ok(())
        }
        Command::Generate(args) => generate::run(&generate::GenerateOptions {
            out: args.out,
            accounts: args.accounts,
            seed: args.seed,
            layout: match args.format {
                cli::GenerateFormat::Mixed => generate::Layout::Mixed,
                cli::GenerateFormat::Parquet => generate::Layout::Parquet,
                cli::GenerateFormat::Csv => generate::Layout::Csv,
            },
            end: args.end,
            event_factor: args.event_factor,
            training_effect: !args.no_training_effect,
        }),
        Command::Report(args) => {
            let page = cohort_metrics::report::render_partition(
                &args.partition,
                args.s3_endpoint.as_deref(),
            )?;
            cohort_metrics::report::write_page(&args.out, &args.partition, &page)?;
            cohort_metrics::log::info(
                "report",
                &format!("wrote `{}` from `{}`", args.out.display(), args.partition),
            );
            Ok(())
        }
        Command::Verify(args) => {
            let verified = cohort_metrics::output::partition::verify::verify_named(
                &args.partition,
                args.s3_endpoint.as_deref(),
            )?;
            print_out(&format!(
                "intact: run {}, schema version {}, {} table(s), {} bytes\n",
                verified.run_id, verified.schema_version, verified.tables, verified.bytes
            ))
        }
        Command::ActivitySql(args) => {
            let sql = run::activity_sql(
                &run_options(args.pipeline),
                args.dialect,
                args.table.as_deref(),
            )?;
            print_out(&cohort_metrics::redact::redact(&sql))
        }
        Command::Init(args) => {
            let drafted = cohort_metrics::draft::init(&cohort_metrics::draft::InitOptions {
                exports: args.exports,
                output: args.output,
                force: args.force,
            })?;
            for (source, path, shape) in &drafted.sources {
                cohort_metrics::log::info("init", &format!("`{source}` from `{path}` ({shape})"));
            }
            for (path, why) in &drafted.skipped {
                cohort_metrics::log::warn("init", &format!("`{path}` not drafted: {why}"));
            }
            for warning in &drafted.warnings {
                cohort_metrics::log::warn("init", warning);
            }
            cohort_metrics::log::info(
                "init",
                &format!(
                    "wrote the draft `{}`; validating it (fix what follows, then run it)",
                    drafted.path.display()
                ),
            );
            let validated = run::validate(&run::RunOptions {
                pipeline: drafted.path,
                ..Default::default()
            })?;
            print_out(&cohort_metrics::redact::redact(&validated.summary()))
        }
        Command::Schema => {
            let schema = schemars::schema_for!(
                cohort_metrics::config::PipelineFile<cohort_metrics::metrics::MetricConfig>
            );
            let text =
                serde_json::to_string_pretty(&schema).map_err(|e| Error::other(e.to_string()))?;
            print_out(&(text + "\n"))
        }
    }
}

/// Writes command output to stdout; a closed pipe (`| head`) is not an error.
fn print_out(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("cannot write to stdout", e))
        }
        _ => Ok(()),
    }
}

/// polars' own allocator (jemalloc with background threads), as in the
/// Python wheels: it returns freed memory to the system and lets polars
/// account for what it allocates.
#[global_allocator]
static ALLOCATOR: polars_ooc::Allocator = polars_ooc::Allocator;

/// jemalloc's options, read when it starts (docs/OPERATING.md, "Memory"):
/// freed pages go back to the system after about a second instead of ten,
/// so that the peak memory a container must allow stays near what the run
/// holds (at a million accounts 1.9 instead of 2.1 GiB for 1–2 % more
/// time, docs/BENCHMARKS.md). `_RJEM_MALLOC_CONF` in the environment
/// overrides it. The symbol is jemalloc's `malloc_conf` under the prefix
/// the Rust build gives its names; where another allocator is used
/// nothing reads it.
#[used]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: MallocConf = MallocConf(c"dirty_decay_ms:1000".as_ptr());

/// A C string pointer that can be a `static` (jemalloc reads it as
/// `const char *malloc_conf`).
#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);

// SAFETY: the pointer is to a string literal, never written.
unsafe impl Sync for MallocConf {}
