//! `activity.engine: spark`: the rollup computed by a Spark Connect server.
//!
//! The statement is the `spark` dialect of [`super::sql::rollup_of_days`], built
//! from the same definition as the local engine: the events source's path,
//! column mapping and formats, the run's days, UTC days (the session time
//! zone is pinned to UTC first), null user ids kept. Spark writes Parquet to
//! `run=RUN_ID/` under `activity.spark.staging`; one count query on Spark
//! gives the events the rollup stands for, which the Σ `events` of the
//! files this run reads must equal (a partial write never passes). The
//! staged rollup is then read as `engine: table` reads one, with the same
//! data rules, and removed when the run ends. A run removes the `run=*/`
//! that killed runs left behind: those whose newest file is older than
//! [`super::staging::ORPHAN_AGE`] (a live run's directory is never that old; the margin
//! also covers any plausible clock difference with the store).
//!
//! Errors are exit 4 and name the remote without its token, the step and
//! Spark's message. SIGINT and SIGTERM during the Spark steps interrupt the
//! running Spark operation (by the run's tag) before the run exits.

use std::time::{Duration, Instant};

use polars::prelude::*;
use spark_connect::SparkSession;

use crate::config::{Pipeline, ResolvedSource, SourceName, SparkSettings};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::log;

use super::interrupts::{interrupted, Interrupts};
use super::sql::{rollup_of_days, Dialect};
use super::staging::{remove_orphans, StagingDir, RUN_PREFIX};
use crate::time::DayRange;

/// The rollup Spark wrote for this run; its directory is removed on drop.
pub struct Staged {
    /// The events source that reads the staged rollup.
    pub events: ResolvedSource,
    /// What the manifest records.
    pub entry: SparkEntry,
    staging: StagingDir,
}

/// The manifest's record of the Spark steps.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SparkEntry {
    /// The Spark Connect URL, its token masked.
    pub remote: String,
    /// Spark's version, as the server reports it.
    pub version: String,
    /// The source events the rollup stands for (Spark's count query).
    pub events: u64,
    pub seconds: f64,
}

impl Staged {
    /// The staged rollup among `inputs` scanned with [`Staged::events`].
    pub fn rollup(inputs: &Inputs) -> Result<&crate::source::LoadedSource> {
        inputs
            .get(SourceName::Events)
            .ok_or_else(|| Error::other("the staged rollup was not scanned"))
    }

    /// Σ `events` of the staged files must equal Spark's count: anything
    /// else is a partial or foreign write under the run's directory.
    pub fn check_events(&self, inputs: &Inputs) -> Result<()> {
        let rollup = Staged::rollup(inputs)?;
        let sum = rollup
            .frame
            .clone()
            .select([col("events").cast(DataType::UInt64).sum()])
            .collect()
            .map_err(|e| Error::engine(&format!("reading {}", rollup.files_shown()), e))?;
        let read = sum
            .column("events")
            .ok()
            .and_then(|c| c.u64().ok().and_then(|c| c.get(0)))
            .unwrap_or(0);
        if read != self.entry.events {
            return Err(Error::io_failed(format!(
                "Spark at {}: the rollup it wrote to {} stands for {read} events, but Spark counts {} events \
                 of `sources.events` in the days read: the write is partial or the directory was changed \
                 during the run; nothing was published",
                self.entry.remote,
                self.staging.shown(),
                self.entry.events
            )));
        }
        Ok(())
    }
}

/// Runs the rollup of the days `range` on Spark (the store computes only
/// the days it lacks). Every account's rows are kept: the run drops
/// orphans when it reads the rollup.
/// `inputs` are the pipeline's sources as scanned (the events' schema).
pub fn stage(
    pipeline: &Pipeline,
    inputs: &Inputs,
    run_id: &str,
    range: DayRange,
) -> Result<Staged> {
    let settings = pipeline
        .spark
        .as_ref()
        .ok_or_else(|| Error::config("`activity.engine: spark` needs `activity.spark`"))?;
    let started = Instant::now();
    let statements = rollup_of_days(pipeline, inputs, Dialect::Spark, None, range)?;
    remove_orphans(&settings.staging_location, pipeline.s3.as_ref())?;
    let run_dir = format!("{RUN_PREFIX}{run_id}");
    let staging = StagingDir {
        location: settings.staging_location.join(&format!("{run_dir}/")),
        s3: pipeline.s3.clone(),
    };
    let spark_dir = format!("{}/{run_dir}", settings.staging.trim_end_matches('/'));
    let remote = settings.remote_shown();
    let session = Remote::connect(settings)?;
    let tag = format!("cohort-metrics-{run_id}");
    session.step("tag the run's operations", || session.session.add_tag(&tag))?;
    let version = session.version.clone();
    log::info(
        "spark",
        &format!(
            "computing the rollup of the days {} … {} on Spark {version} at {remote}",
            statements.range.first,
            statements.range.end - chrono::Days::new(1),
        ),
    );
    let events = {
        let _interrupts = Interrupts::watch(session.session.clone(), tag.clone(), remote.clone());
        for statement in &statements.setup {
            session.sql("set up the session and the events view", statement)?;
        }
        session.sql(
            &format!("write the rollup to {spark_dir}"),
            &format!(
                "INSERT OVERWRITE DIRECTORY {} USING parquet\n{}",
                super::sql::text(&spark_dir),
                statements.select
            ),
        )?;
        let rows = session.sql("count the events of the days read", &statements.count)?;
        rows.first()
            .and_then(|row| row.get(0))
            .and_then(|value| value.as_i64())
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| {
                Error::io_failed(format!(
                    "Spark at {remote}: the count of the events gave no number"
                ))
            })?
    };
    let _ = session.session.stop();
    let rollup = super::rollup_source(pipeline, staging.location.join("*.parquet"));
    let seconds = started.elapsed().as_secs_f64();
    log::info(
        "spark",
        &format!(
            "Spark wrote the rollup of {events} events to {} ({seconds:.2}s)",
            staging.shown()
        ),
    );
    Ok(Staged {
        events: rollup,
        entry: SparkEntry {
            remote,
            version,
            events,
            seconds: (seconds * 1000.0).round() / 1000.0,
        },
        staging,
    })
}

/// A session on the configured remote, whose failures name it.
struct Remote {
    session: SparkSession,
    shown: String,
    version: String,
}

impl Remote {
    /// Connects and asks the server's version: the first call that needs
    /// the server to answer and to accept the token.
    fn connect(settings: &SparkSettings) -> Result<Remote> {
        let shown = settings.remote_shown();
        reachable(&settings.remote)
            .map_err(|e| Error::io_failed(format!("Spark at {shown}: could not connect: {e}")))?;
        let session = spark_connect::SparkSessionBuilder::new()
            .remote(&settings.remote)
            .get_or_create()
            .map_err(|e| failed(&shown, "connect", &e))?;
        let version = session
            .version()
            .map_err(|e| failed(&shown, "connect", &e))?;
        Ok(Remote {
            session,
            shown,
            version,
        })
    }

    fn step<T>(&self, step: &str, work: impl FnOnce() -> spark_connect::Result<T>) -> Result<T> {
        let started = Instant::now();
        let result = work().map_err(|e| failed(&self.shown, step, &e));
        log::debug(
            "spark",
            &format!("{step}: {:.2}s", started.elapsed().as_secs_f64()),
        );
        interrupted()?;
        result
    }

    /// Runs one statement and returns its rows.
    fn sql(&self, step: &str, statement: &str) -> Result<Vec<spark_connect::row::Row>> {
        log::debug("spark", &format!("{step}: started"));
        self.step(step, || self.session.sql(statement)?.collect())
    }
}

/// Attempts to open a TCP connection to the remote's host and port before
/// the client does: the client retries an unreachable server with backoff
/// for about ten minutes (pyspark's policy), which a nightly job should not
/// spend on a server that is not there. Three attempts, two seconds apart.
fn reachable(remote: &str) -> std::result::Result<(), String> {
    use std::net::{TcpStream, ToSocketAddrs};
    let authority = remote
        .trim_start_matches("sc://")
        .split(['/', ';'])
        .next()
        .unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => (
            host.to_string(),
            port.parse::<u16>()
                .map_err(|_| format!("`{port}` is not a port"))?,
        ),
        _ => (authority.to_string(), 15002),
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut last = String::new();
    for attempt in 0..3 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_secs(2));
        }
        let addresses = match (host.as_str(), port).to_socket_addrs() {
            Ok(addresses) => addresses.collect::<Vec<_>>(),
            Err(e) => {
                last = format!("{host}: {e}");
                continue;
            }
        };
        for address in addresses {
            match TcpStream::connect_timeout(&address, Duration::from_secs(5)) {
                Ok(_) => return Ok(()),
                Err(e) => last = format!("{host}:{port}: {e}"),
            }
        }
    }
    Err(format!("{last} (3 attempts, 2 s apart)"))
}

/// Exit 4, naming the remote (without its token), the step and Spark's
/// message.
fn failed(remote: &str, step: &str, error: &spark_connect::SparkError) -> Error {
    let message = error.to_string();
    let message = message.trim();
    Error::io_failed(format!(
        "Spark at {remote}: could not {step}: {}",
        if message.is_empty() {
            "no message"
        } else {
            message
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Location;

    #[test]
    fn an_unreachable_remote_is_told_at_once() {
        // Nothing listens on port 9 of 127.0.0.1.
        let err = reachable("sc://127.0.0.1:9/;token=x").unwrap_err();
        assert!(err.starts_with("127.0.0.1:9: "), "{err}");
        assert!(reachable("sc://127.0.0.1:notaport/")
            .unwrap_err()
            .contains("not a port"));
    }

    #[test]
    fn a_staged_rollup_that_does_not_add_up_to_sparks_count_is_refused() {
        let fixture = crate::testkit::Fixture::tiny();
        let pipeline = crate::run::load(&crate::run::RunOptions {
            pipeline: fixture.pipeline("[{ key_action_rate: { event: report_created } }]", ""),
            ..Default::default()
        })
        .unwrap()
        .pipeline;
        // What Spark staged: 3 events in two rows.
        let dir = fixture.dir.path().join("staging/run=x");
        std::fs::create_dir_all(&dir).unwrap();
        let mut frame = df!(
            "account_id" => [1i64, 1],
            "user_id" => [11i64, 12],
            "day" => [crate::time::date_to_days(chrono::NaiveDate::from_ymd_opt(2025, 12, 5).unwrap()); 2],
            "event_name" => ["login", "login"],
            "events" => [2i64, 1],
        )
        .unwrap()
        .lazy()
        .with_column(col("day").cast(DataType::Date))
        .collect()
        .unwrap();
        ParquetWriter::new(std::fs::File::create(dir.join("part-0.parquet")).unwrap())
            .finish(&mut frame)
            .unwrap();
        let staged = |counted: u64| Staged {
            events: super::super::rollup_source(&pipeline, Location::Local(dir.join("*.parquet"))),
            entry: SparkEntry {
                remote: "sc://spark:15002/;token=***".into(),
                version: "4.3.0".into(),
                events: counted,
                seconds: 0.0,
            },
            staging: StagingDir {
                location: Location::Local(dir.clone()),
                s3: None,
            },
        };
        let partial = staged(4);
        let inputs = Inputs::scan_with(&pipeline, Some(&partial.events)).unwrap();
        let err = partial.check_events(&inputs).unwrap_err();
        assert_eq!(err.exit_code(), 4);
        assert!(
            err.to_string()
                .contains("stands for 3 events, but Spark counts 4 events"),
            "{err}"
        );
        std::mem::forget(partial); // keep the directory for the next case
        let whole = staged(3);
        let inputs = Inputs::scan_with(&pipeline, Some(&whole.events)).unwrap();
        whole.check_events(&inputs).unwrap();
        drop(whole);
        assert!(!dir.exists(), "the run's directory goes with it");
    }
}
