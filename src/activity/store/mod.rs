//! `activity.store`: the rollup kept by day between runs, so that a nightly
//! run computes one new day (and a few recent ones) instead of the whole
//! range.
//!
//! # Layout
//!
//! ```text
//! STORE/_store.json                   what the rollup means: the events source's definition
//! STORE/.store.lock                   one run at a time (the partition lock's protocol)
//! STORE/day=YYYY-MM-DD/_day.json      the day's manifest: its file (size, sha256), source rows,
//!                                     Σ events, rows, when, by which engine and run
//! STORE/day=YYYY-MM-DD/part-RUN.parquet   the day's rollup proper (one row per key)
//! ```
//!
//! A day exists when its `_day.json` does, and it is the file that manifest
//! names: a day is published by writing a new file, then its manifest (one
//! atomic write: a rename locally, one PUT on S3), then removing the old
//! file. A killed run leaves either the old day or the new one, and at most
//! a file no manifest names, which the next run removes. Stored rows keep
//! every account (the accounts table changes between runs); the run drops
//! orphans when it reads them, as for any rollup.
//!
//! # A run with a store
//!
//! Under the store's lock: the definition is compared with the stored one
//! (a change, or `--full-refresh`, rebuilds every day with a log line
//! saying why); the days to compute are the days of `[first, A)` the store
//! lacks, the last `lookback_days` days before A (late events), and, with
//! `drift_check`, the stored days whose source rows differ from the source's
//! rows of that day now (read from `event_time` alone). They are computed by
//! the configured engine, a month at most at a time; then the run reads
//! `[first, A)` from the store as a rollup. Days older than `keep_days`
//! before A are removed.
//!
//! A run asks in two steps: [`open`] takes the lock and finds the days to
//! compute; the run's check stage then checks the raw events of those days
//! with the data rules ([`Opened::days_to_check`]); [`Opened::fill`]
//! computes and publishes them and hands back the events source that reads
//! the store.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

mod compute;
mod files;

use crate::config::{Pipeline, ResolvedSource, SourceName, StoreSettings};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::log;
use crate::storage::lock::{Lock, LockRequest};
use crate::time::DayRange;

use compute::{chunks, compute_days, source_rows_by_day};
use files::Store;

/// The store's definition file.
const DEFINITION: &str = "_store.json";
/// A day's manifest.
const DAY_MANIFEST: &str = "_day.json";
/// The store's lock file (or S3 lease).
const LOCK: &str = ".store.lock";
/// The version of what a stored day holds; a change rebuilds every store
/// (2: each day's manifest records its file's size and sha256).
const FORMAT_VERSION: u32 = 2;
/// The most days computed and written in one piece.
const CHUNK_DAYS: u64 = 31;

/// What the stored rollup means: a store built under another definition
/// is rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Definition {
    version: u32,
    /// The events source as configured: path, format, columns, types,
    /// scale, CSV options, hive partitioning.
    events: BTreeMap<String, serde_json::Value>,
}

/// `day=…/_day.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DayManifest {
    pub day: NaiveDate,
    /// The day's Parquet file in its directory (None: the day had no event).
    pub file: Option<String>,
    /// Rows of the events source on that day (every account): Σ `events`.
    pub source_rows: u64,
    /// Rows of the day's rollup.
    pub rows: u64,
    /// Size and sha256 of the day's file, checked before the day is read
    /// again (docs/OPERATING.md#incremental-nightly-runs).
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub sha256: String,
    pub computed_at: String,
    pub engine: String,
    pub run_id: String,
}

/// The manifest's record of the store's part in a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoreEntry {
    pub location: String,
    /// Why every day was rebuilt, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuilt: Option<String>,
    /// Days computed by this run.
    pub computed_days: u64,
    /// Days of the run's range read from the store as they were.
    pub reused_days: u64,
    /// Stored days whose source rows had changed (recomputed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drifted_days: Vec<String>,
    /// Days removed (older than `keep_days`).
    pub removed_days: u64,
    pub seconds: f64,
}

/// The run's view of the store: the events source that reads the stored
/// days as a rollup, and the store's lock (held until dropped).
pub struct Synced {
    pub events: ResolvedSource,
    pub entry: StoreEntry,
    _lock: Lock,
}

/// What a run asks of the store.
pub struct SyncRequest<'a> {
    pub run_id: &'a str,
    /// `run --full-refresh`: recompute every day.
    pub full_refresh: bool,
    /// How long to wait for another run's lock.
    pub wait: Duration,
}

/// The store under this run's lock, with the days it will compute.
pub struct Opened {
    store: Store,
    settings: StoreSettings,
    range: DayRange,
    entry: StoreEntry,
    days: BTreeMap<NaiveDate, DayManifest>,
    needed: Vec<NaiveDate>,
    compute: BTreeSet<NaiveDate>,
    started: Instant,
}

/// Takes the store's lock, reads its state (rebuilding it on a changed
/// definition or `--full-refresh`) and finds the days to compute, reading
/// the raw events (`inputs`) for the drift check. None without
/// `activity.store` or when no metric reads events (`range`).
pub fn open(
    pipeline: &Pipeline,
    range: Option<DayRange>,
    inputs: &Inputs,
    request: &SyncRequest,
) -> Result<Option<Opened>> {
    let (Some(settings), Some(range)) = (pipeline.store.clone(), range) else {
        return Ok(None);
    };
    let started = Instant::now();
    let lock = Lock::acquire(
        &settings.location,
        LOCK,
        pipeline.s3.as_ref(),
        &LockRequest {
            setting: settings.lock,
            run_id: request.run_id,
            wait: request.wait,
            expiry: pipeline.lock_expiry,
        },
    )?;
    lock.guard(&settings.location)?;
    let store = Store {
        location: settings.location.clone(),
        s3: pipeline.s3.clone(),
        lock,
    };
    let definition = definition(pipeline)?;
    let mut entry = StoreEntry {
        location: store.location.to_string(),
        ..Default::default()
    };
    let stored_definition = store.read_json::<Definition>(DEFINITION)?;
    entry.rebuilt = if request.full_refresh {
        Some("`run --full-refresh`".to_string())
    } else {
        match &stored_definition {
            Some(stored) if *stored != definition => Some(changed(stored, &definition)),
            _ => None,
        }
    };
    let mut days = store.days()?;
    if let Some(reason) = &entry.rebuilt {
        if !days.is_empty() {
            log::warn(
                "store",
                &format!(
                    "rebuilding every stored day of {}: {reason}",
                    store.location
                ),
            );
        }
        for day in days.keys() {
            store.remove_day(*day)?;
        }
        days.clear();
    }
    if stored_definition.as_ref() != Some(&definition) {
        store.write_json(DEFINITION, &definition)?;
    }

    let needed: Vec<NaiveDate> = range
        .first
        .iter_days()
        .take_while(|d| *d < range.end)
        .collect();
    let lookback_from = range.end - chrono::Days::new(u64::from(settings.lookback_days));
    let mut compute: BTreeSet<NaiveDate> = needed
        .iter()
        .copied()
        .filter(|d| !days.contains_key(d) || *d >= lookback_from)
        .collect();

    if inputs
        .get(SourceName::Events)
        .is_some_and(|e| e.account_via.is_some())
    {
        // Stored days would keep the account each user (or company name)
        // had when computed.
        return Err(Error::config(
            "`activity.store` keeps events by account, but `sources.events` has no `account_id` and takes it from \
             `users` or from the accounts' names, which can change between runs: map `account_id` in the events \
             source, or remove the store",
        ));
    }
    if let Some(keep) = settings.keep_days {
        let read = (range.end - range.first).num_days();
        if i64::from(keep) < read {
            log::warn(
                "store",
                &format!(
                    "`activity.keep_days` ({keep}) is shorter than the {read} days the metrics read: the older days are \
                     removed after each run and computed again by the next"
                ),
            );
        }
    }
    // A stored day is read only as it was written: its file's size, sha256,
    // rows and day as its manifest records them.
    for day in needed.iter().filter(|d| !compute.contains(d)) {
        if let Some(manifest) = days.get(day) {
            store.check_day(manifest)?;
        }
    }
    if settings.drift_check {
        let stored: Vec<NaiveDate> = needed
            .iter()
            .copied()
            .filter(|d| days.contains_key(d) && !compute.contains(d))
            .collect();
        if let (Some(first), Some(last)) = (stored.first(), stored.last()) {
            let counts = source_rows_by_day(inputs, *first, *last + chrono::Days::new(1))?;
            for day in stored {
                let now = counts.get(&day).copied().unwrap_or(0);
                if now != days[&day].source_rows {
                    entry.drifted_days.push(format!(
                        "{day} (stored {}, source {now})",
                        days[&day].source_rows
                    ));
                    compute.insert(day);
                }
            }
            if !entry.drifted_days.is_empty() {
                log::warn(
                    "store",
                    &format!(
                        "{} stored day(s) differ from the events source (events later than `lookback_days`?), \
                         recomputed: {}",
                        entry.drifted_days.len(),
                        entry.drifted_days.join(", ")
                    ),
                );
            }
        }
    }
    Ok(Some(Opened {
        store,
        settings,
        range,
        entry,
        days,
        needed,
        compute,
        started,
    }))
}

impl Opened {
    /// The days whose raw events this run computes from: the check stage
    /// checks them with the data rules before [`Opened::fill`] (None when
    /// every day is stored already).
    pub fn days_to_check(&self) -> Option<DayRange> {
        let (first, last) = (self.compute.first()?, self.compute.last()?);
        Some(DayRange {
            first: *first,
            end: *last + chrono::Days::new(1),
        })
    }

    /// Computes the missing days by the configured engine and publishes
    /// each, removes the days older than `keep_days`, and returns the run's
    /// view of the store.
    pub fn fill(self, pipeline: &Pipeline, inputs: &Inputs, run_id: &str) -> Result<Synced> {
        let Opened {
            store,
            settings,
            range,
            mut entry,
            mut days,
            needed,
            compute,
            started,
        } = self;
        for chunk in &chunks(&compute) {
            let rollup = compute_days(pipeline, inputs, *chunk, run_id)?;
            store.publish(*chunk, rollup, pipeline, run_id, &mut days)?;
        }
        entry.computed_days = compute.len() as u64;
        entry.reused_days = needed.len() as u64 - entry.computed_days;

        let keep = settings
            .keep_days
            .map_or(range.first, |k| range.end - chrono::Days::new(u64::from(k)));
        for day in days.keys().filter(|d| **d < keep) {
            store.remove_day(*day)?;
            entry.removed_days += 1;
        }
        entry.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
        Ok(Synced {
            // The day bounds reach the reader, which skips the other days'
            // files by their statistics.
            events: crate::config::ResolvedSource {
                written_by_store: true,
                ..super::rollup_source(pipeline, store.location.join("day=*/*.parquet"))
            },
            entry,
            _lock: store.lock,
        })
    }
}

/// The events source's definition, as configured.
fn definition(pipeline: &Pipeline) -> Result<Definition> {
    let source = pipeline.sources.get(&SourceName::Events).ok_or_else(|| {
        Error::config("`activity.store` keeps the rollup of `sources.events`, which is not defined")
    })?;
    let config = serde_json::to_value(&source.config)
        .map_err(|e| Error::other(format!("the events source's definition: {e}")))?;
    let mut events: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    events.insert(
        "path".into(),
        serde_json::Value::String(source.location.to_string()),
    );
    for key in [
        "format",
        "columns",
        "types",
        "scale",
        "csv",
        "hive_partitioning",
        // The rows a filter leaves out change every day's rollup.
        "keep_rows",
        "drop_rows",
    ] {
        if let Some(value) = config.get(key).filter(|v| !v.is_null()) {
            events.insert(key.into(), value.clone());
        }
    }
    Ok(Definition {
        version: FORMAT_VERSION,
        events,
    })
}

/// Says what changed between two definitions.
fn changed(stored: &Definition, now: &Definition) -> String {
    if stored.version != now.version {
        return format!(
            "the store's format changed (version {} → {})",
            stored.version, now.version
        );
    }
    let keys: BTreeSet<&String> = stored.events.keys().chain(now.events.keys()).collect();
    let differ: Vec<String> = keys
        .into_iter()
        .filter(|k| stored.events.get(*k) != now.events.get(*k))
        .map(|k| {
            let shown =
                |v: Option<&serde_json::Value>| v.map_or("(unset)".to_string(), |v| v.to_string());
            format!(
                "`sources.events.{k}` was {}, is {}",
                shown(stored.events.get(k)),
                shown(now.events.get(k))
            )
        })
        .collect();
    format!("the events source changed: {}", differ.join("; "))
}
