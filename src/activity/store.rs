//! `activity.store`: the rollup kept by day between runs, so that a nightly
//! run computes one new day (and a few recent ones) instead of the whole
//! range.
//!
//! # Layout
//!
//! ```text
//! STORE/_store.json                   what the rollup means: the events source's definition
//! STORE/.store.lock                   one run at a time (the partition lock's protocol)
//! STORE/day=YYYY-MM-DD/_day.json      the day's manifest: its file, source rows, Σ events, rows,
//!                                     when, by which engine and run
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
//! the configured engine, a month at most at a time, the raw events of
//! those days checked by the data rules first; then the run reads
//! `[first, A)` from the store as a rollup. Days older than `keep_days`
//! before A are removed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::log;
use crate::output::partition::lock::{LockRequest, PartitionLock};
use crate::storage::s3::S3;
use crate::storage::Location;

use super::ActivityRange;

/// The store's definition file.
const DEFINITION: &str = "_store.json";
/// A day's manifest.
const DAY_MANIFEST: &str = "_day.json";
/// The store's lock file (or S3 lease).
const LOCK: &str = ".store.lock";
/// The version of what a stored day holds; a change rebuilds every store.
const FORMAT_VERSION: u32 = 1;
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

/// The run's view of the store: the pipeline whose `events` are the stored
/// days, read as a rollup, and the store's lock (held until dropped).
pub struct Synced {
    pub pipeline: Pipeline,
    pub entry: StoreEntry,
    _lock: PartitionLock,
}

/// What a run asks of the store.
pub struct SyncRequest<'a> {
    pub run_id: &'a str,
    /// `run --full-refresh`: recompute every day.
    pub full_refresh: bool,
    /// How long to wait for another run's lock.
    pub wait: Duration,
}

/// Brings the store up to date for the run's days and returns the run's
/// view of it; None without `activity.store` or when no metric reads events.
pub fn sync(pipeline: &Pipeline, request: &SyncRequest) -> Result<Option<Synced>> {
    let Some(settings) = pipeline.store.as_ref() else {
        return Ok(None);
    };
    let Some(range) = super::range(pipeline) else {
        return Ok(None);
    };
    let started = Instant::now();
    let store = Store {
        location: settings.location.clone(),
        s3: pipeline.s3.clone(),
    };
    let lock = PartitionLock::acquire_named(
        &store.location,
        LOCK,
        pipeline.s3.as_ref(),
        &LockRequest {
            setting: pipeline.lock,
            run_id: request.run_id,
            wait: request.wait,
            expiry: pipeline.lock_expiry,
        },
    )?;
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

    // The raw events: their schema, the drift check and the local engine.
    let inputs = Inputs::scan(pipeline)?;
    if inputs
        .get(SourceName::Events)
        .is_some_and(|e| e.account_via_users)
    {
        // Stored days would keep the account each user had when computed.
        return Err(Error::config(
            "`activity.store` keeps events by account, but `sources.events` has no `account_id` and takes it from \
             `users`, which can change between runs: map `account_id` in the events source, or remove the store",
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
    if settings.drift_check {
        let stored: Vec<NaiveDate> = needed
            .iter()
            .copied()
            .filter(|d| days.contains_key(d) && !compute.contains(d))
            .collect();
        if let (Some(first), Some(last)) = (stored.first(), stored.last()) {
            let counts = source_rows_by_day(&inputs, *first, *last + chrono::Days::new(1))?;
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

    let chunks = chunks(&compute);
    if let (Some(first), Some(last)) = (compute.first(), compute.last()) {
        check_raw_events(pipeline, *first, *last + chrono::Days::new(1))?;
    }
    for chunk in &chunks {
        let rollup = compute_days(pipeline, &inputs, *chunk, request.run_id)?;
        store.publish(*chunk, rollup, pipeline, request.run_id, &mut days)?;
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
    Ok(Some(Synced {
        // The day bounds reach the reader, which skips the other days'
        // files by their statistics.
        pipeline: super::with_rollup_events(pipeline, store.location.join("day=*/*.parquet")),
        entry,
        _lock: lock,
    }))
}

/// The events source's definition, as configured.
fn definition(pipeline: &Pipeline) -> Result<Definition> {
    let source = pipeline.sources.get(&SourceName::Events).ok_or_else(|| {
        Error::config("`activity.store` keeps the rollup of `sources.events`, which is not defined")
    })?;
    let config = serde_json::to_value(&source.config)
        .map_err(|e| Error::Other(format!("the events source's definition: {e}")))?;
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

/// Contiguous runs of `days`, each at most [`CHUNK_DAYS`] long.
fn chunks(days: &BTreeSet<NaiveDate>) -> Vec<ActivityRange> {
    let mut out: Vec<ActivityRange> = Vec::new();
    for day in days {
        let next = *day + chrono::Days::new(1);
        match out.last_mut() {
            Some(last)
                if last.end == *day && (last.end - last.first).num_days() < CHUNK_DAYS as i64 =>
            {
                last.end = next
            }
            _ => out.push(ActivityRange {
                first: *day,
                end: next,
            }),
        }
    }
    out
}

/// Rows of the events source per UTC day in `[first, end)`, every account,
/// reading `event_time` alone.
fn source_rows_by_day(
    inputs: &Inputs,
    first: NaiveDate,
    end: NaiveDate,
) -> Result<BTreeMap<NaiveDate, u64>> {
    let events = inputs
        .get(SourceName::Events)
        .ok_or_else(|| Error::config("source `events` is required"))?;
    let counts = events
        .frame_in_days("event_time", first, end)
        .group_by([col("event_time").alias("day")])
        .agg([len().cast(DataType::UInt64).alias("rows")])
        .collect()
        .map_err(|e| {
            Error::engine(
                &format!("counting the events of {}", events.files_shown()),
                e,
            )
        })?;
    day_counts(&counts, "rows")
}

/// A frame's (`day`, `column`) pairs.
fn day_counts(frame: &DataFrame, column: &str) -> Result<BTreeMap<NaiveDate, u64>> {
    let days = frame
        .column("day")
        .and_then(|c| c.cast(&DataType::Int32))
        .map_err(|e| Error::Other(format!("store: {e}")))?;
    let counts = frame
        .column(column)
        .and_then(|c| c.cast(&DataType::UInt64))
        .map_err(|e| Error::Other(format!("store: {e}")))?;
    let days = days.i32().map_err(|e| Error::Other(e.to_string()))?;
    let counts = counts.u64().map_err(|e| Error::Other(e.to_string()))?;
    Ok(days
        .iter()
        .zip(counts.iter())
        .filter_map(|(d, n)| Some((crate::time::days_to_date(d?), n.unwrap_or(0))))
        .collect())
}

/// The data rules of the events source over the raw rows of `[first, end)`
/// (the rows the run is about to compute from), with the accounts.
fn check_raw_events(pipeline: &Pipeline, first: NaiveDate, end: NaiveDate) -> Result<()> {
    let mut checked = pipeline.clone();
    checked.sources.retain(|name, _| {
        matches!(
            name,
            SourceName::Accounts | SourceName::Events | SourceName::Users
        )
    });
    checked.metrics.clear();
    checked.check_days = Some(ActivityRange { first, end });
    let inputs = Inputs::scan(&checked)?;
    crate::quality::check(&inputs, &checked)?.into_result()?;
    Ok(())
}

/// The rollup proper of `days`, every account, by the configured engine.
fn compute_days(
    pipeline: &Pipeline,
    inputs: &Inputs,
    days: ActivityRange,
    run_id: &str,
) -> Result<DataFrame> {
    let started = Instant::now();
    let frame = match pipeline.activity_engine {
        crate::config::ActivityEngine::Spark => {
            let staged = super::spark::stage_days(pipeline, inputs, run_id, days)?;
            let inputs = Inputs::scan(&staged.pipeline)?;
            staged.check_events(&inputs)?;
            let rollup = inputs
                .get(SourceName::Events)
                .ok_or_else(|| Error::Other("the staged rollup was not scanned".into()))?;
            let frame = rollup
                .frame
                .clone()
                .select(key_columns(rollup.has_column("user_id"), col("events")));
            collect(frame, &format!("reading {}", rollup.files_shown()))?
        }
        _ => {
            let events = inputs
                .get(SourceName::Events)
                .ok_or_else(|| Error::config("source `events` is required"))?;
            let frame = events
                .frame_in_days("event_time", days.first, days.end)
                .select(key_columns(events.has_column("user_id"), lit(1u32)));
            let frame = frame
                .group_by([
                    col("account_id"),
                    col("user_id"),
                    col("day"),
                    col("event_name"),
                ])
                .agg([col("events").sum().cast(DataType::UInt32).alias("events")]);
            collect(frame, &format!("the rollup of {}", events.files_shown()))?
        }
    };
    log::debug(
        "store",
        &format!(
            "computed {} … {}: {} row(s) in {:.2}s",
            days.first,
            days.end - chrono::Days::new(1),
            frame.height(),
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(frame)
}

/// The contract's columns of a typed events frame (`event_time` its day),
/// `events` from `count`.
fn key_columns(has_user: bool, count: Expr) -> Vec<Expr> {
    let user = if has_user {
        col("user_id")
    } else {
        when(lit(false))
            .then(col("account_id"))
            .otherwise(lit(NULL))
    };
    vec![
        col("account_id"),
        user.alias("user_id"),
        col("event_time").alias("day"),
        col("event_name"),
        count.cast(DataType::UInt32).alias("events"),
    ]
}

fn collect(frame: LazyFrame, what: &str) -> Result<DataFrame> {
    frame.collect().map_err(|e| Error::engine(what, e))
}

/// The store's directory (local or S3).
struct Store {
    location: Location,
    s3: Option<Arc<S3>>,
}

fn day_dir(day: NaiveDate) -> String {
    format!("day={day}")
}

impl Store {
    fn s3(&self) -> Result<&Arc<S3>> {
        self.s3
            .as_ref()
            .ok_or_else(|| Error::Other("no S3 client for the activity store".into()))
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match &self.location.join(name) {
            Location::Local(path) => match std::fs::read(path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(path.display(), e)),
            },
            Location::S3 { bucket, key } => {
                let s3 = self.s3()?;
                if s3.head(bucket, key)?.is_none() {
                    return Ok(None);
                }
                Ok(Some(s3.get(bucket, key)?))
            }
        }
    }

    fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<Option<T>> {
        let Some(bytes) = self.read(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::Io(format!(
                "{}: not a file of the activity store ({e}); remove it or point `activity.store` elsewhere",
                self.location.join(name)
            ))
        })
    }

    /// Writes `name` in one step: a rename locally, one PUT on S3.
    fn write(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        match &self.location.join(name) {
            Location::Local(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
                }
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, &bytes)
                    .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
                    .and_then(|_| std::fs::rename(&tmp, path))
                    .map_err(|e| Error::io(path.display(), e))
            }
            Location::S3 { bucket, key } => self.s3()?.put_bytes(bucket, key, bytes),
        }
    }

    fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let text =
            serde_json::to_vec_pretty(value).map_err(|e| Error::Other(format!("store: {e}")))?;
        self.write(name, text)
    }

    /// Every file name under the store, relative to it.
    fn list(&self) -> Result<Vec<String>> {
        match &self.location {
            Location::Local(root) => {
                let mut names = Vec::new();
                let entries = match std::fs::read_dir(root) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
                    Err(e) => return Err(Error::io(root.display(), e)),
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().to_string();
                    if entry.path().is_dir() {
                        for inner in std::fs::read_dir(entry.path())
                            .map_err(|e| Error::io(entry.path().display(), e))?
                            .flatten()
                        {
                            names.push(format!("{name}/{}", inner.file_name().to_string_lossy()));
                        }
                    } else {
                        names.push(name);
                    }
                }
                Ok(names)
            }
            Location::S3 { bucket, key } => Ok(self
                .s3()?
                .list(bucket, key)?
                .into_iter()
                .filter_map(|o| o.key.strip_prefix(key.as_str()).map(str::to_string))
                .collect()),
        }
    }

    fn remove_file(&self, name: &str) -> Result<()> {
        match &self.location.join(name) {
            Location::Local(path) => match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io(path.display(), e))
                }
                _ => Ok(()),
            },
            Location::S3 { bucket, key } => self.s3()?.delete(bucket, key),
        }
    }

    /// The stored days: those with a manifest. Files no manifest names
    /// (what a killed run left) are removed.
    fn days(&self) -> Result<BTreeMap<NaiveDate, DayManifest>> {
        let mut by_dir: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for name in self.list()? {
            if let Some((dir, file)) = name.split_once('/') {
                if dir.starts_with("day=") {
                    by_dir
                        .entry(dir.to_string())
                        .or_default()
                        .push(file.to_string());
                }
            }
        }
        let mut days = BTreeMap::new();
        for (dir, files) in by_dir {
            let manifest = if files.iter().any(|f| f == DAY_MANIFEST) {
                self.read_json::<DayManifest>(&format!("{dir}/{DAY_MANIFEST}"))?
            } else {
                None
            };
            let named = manifest.as_ref().and_then(|m| m.file.clone());
            for file in &files {
                if file != DAY_MANIFEST && Some(file) != named.as_ref() {
                    self.remove_file(&format!("{dir}/{file}"))?;
                }
            }
            if let Some(manifest) = manifest {
                let complete = named.as_ref().is_none_or(|f| files.contains(f));
                if complete && day_dir(manifest.day) == dir {
                    days.insert(manifest.day, manifest);
                } else {
                    // A manifest whose file is gone: the day is missing.
                    self.remove_file(&format!("{dir}/{DAY_MANIFEST}"))?;
                }
            }
        }
        Ok(days)
    }

    fn remove_day(&self, day: NaiveDate) -> Result<()> {
        let dir = day_dir(day);
        // The manifest first: the day stops existing before its file goes.
        let manifest = self.read_json::<DayManifest>(&format!("{dir}/{DAY_MANIFEST}"))?;
        self.remove_file(&format!("{dir}/{DAY_MANIFEST}"))?;
        if let Some(file) = manifest.and_then(|m| m.file) {
            self.remove_file(&format!("{dir}/{file}"))?;
        }
        if let Location::Local(root) = &self.location {
            let _ = std::fs::remove_dir(root.join(&dir));
        }
        Ok(())
    }

    /// Writes each day of `range` from `rollup`: its file, then its
    /// manifest, then the removal of the file it replaces.
    fn publish(
        &self,
        range: ActivityRange,
        rollup: DataFrame,
        pipeline: &Pipeline,
        run_id: &str,
        days: &mut BTreeMap<NaiveDate, DayManifest>,
    ) -> Result<()> {
        let sums = rollup
            .clone()
            .lazy()
            .group_by([col("day")])
            .agg([
                col("events").cast(DataType::UInt64).sum().alias("events"),
                len().cast(DataType::UInt64).alias("rows"),
            ])
            .collect()
            .map_err(|e| Error::engine("store", e))?;
        let events = day_counts(&sums, "events")?;
        let rows = day_counts(&sums, "rows")?;
        for day in range.first.iter_days().take_while(|d| *d < range.end) {
            let dir = day_dir(day);
            let n = rows.get(&day).copied().unwrap_or(0);
            let file = (n > 0).then(|| format!("part-{run_id}.parquet"));
            if let Some(file) = &file {
                let mut frame = rollup
                    .clone()
                    .lazy()
                    .filter(col("day").eq(crate::time::date_lit(day)))
                    .sort(["account_id", "user_id", "event_name"], Default::default())
                    .collect()
                    .map_err(|e| Error::engine("store", e))?;
                let mut bytes = std::io::Cursor::new(Vec::new());
                ParquetWriter::new(&mut bytes)
                    .finish(&mut frame)
                    .map_err(|e| Error::engine(&format!("writing the rollup of {day}"), e))?;
                self.write(&format!("{dir}/{file}"), bytes.into_inner())?;
            }
            let manifest = DayManifest {
                day,
                file,
                source_rows: events.get(&day).copied().unwrap_or(0),
                rows: n,
                computed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                engine: pipeline.activity_engine.name().to_string(),
                run_id: run_id.to_string(),
            };
            self.write_json(&format!("{dir}/{DAY_MANIFEST}"), &manifest)?;
            if let Some(old) = days.get(&day).and_then(|m| m.file.clone()) {
                if Some(&old) != manifest.file.as_ref() {
                    self.remove_file(&format!("{dir}/{old}"))?;
                }
            }
            days.insert(day, manifest);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn days_to_compute_come_in_contiguous_chunks_of_at_most_a_month() {
        let mut days: BTreeSet<NaiveDate> = d("2026-01-01").iter_days().take(40).collect();
        days.insert(d("2026-03-01"));
        days.insert(d("2026-03-02"));
        let got: Vec<(String, String)> = chunks(&days)
            .iter()
            .map(|r| (r.first.to_string(), r.end.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-01-01".to_string(), "2026-02-01".to_string()),
                ("2026-02-01".to_string(), "2026-02-10".to_string()),
                ("2026-03-01".to_string(), "2026-03-03".to_string()),
            ]
        );
    }
}
