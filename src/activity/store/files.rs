//! The store's directory (local or S3): its files, the stored days and
//! their manifests, and publishing a day (file, then manifest, then the
//! removal of the file it replaces).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::compute::day_counts;
use super::{DayManifest, DAY_MANIFEST};
use crate::config::Pipeline;
use crate::error::{Error, Result};
use crate::storage::checksum::sha256_hex;
use crate::storage::lock::Lock;
use crate::storage::s3::S3;
use crate::storage::Location;
use crate::time::DayRange;

/// The store's directory (local or S3).
pub(super) struct Store {
    pub(super) location: Location,
    pub(super) s3: Option<Arc<S3>>,
    /// The store's lock: on S3 it fences every write and removal.
    pub(super) lock: Lock,
}

fn day_dir(day: NaiveDate) -> String {
    format!("day={day}")
}

impl Store {
    fn s3(&self) -> Result<&Arc<S3>> {
        self.s3
            .as_ref()
            .ok_or_else(|| Error::other("no S3 client for the activity store"))
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

    pub(super) fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<Option<T>> {
        let Some(bytes) = self.read(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::io_failed(format!(
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
                // A new file (never through a link left at the name).
                let _ = std::fs::remove_file(&tmp);
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&tmp)
                    .and_then(|mut file| {
                        std::io::Write::write_all(&mut file, &bytes)?;
                        file.sync_all()
                    })
                    .and_then(|_| std::fs::rename(&tmp, path))
                    .map_err(|e| Error::io(path.display(), e))
            }
            Location::S3 { bucket, key } => self.lock.put(self.s3()?, bucket, key, bytes),
        }
    }

    pub(super) fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let text =
            serde_json::to_vec_pretty(value).map_err(|e| Error::other(format!("store: {e}")))?;
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
            Location::S3 { bucket, key } => self.lock.delete(self.s3()?, bucket, key),
        }
    }

    /// The stored days: those with a manifest. Files no manifest names
    /// (what a killed run left) are removed.
    pub(super) fn days(&self) -> Result<BTreeMap<NaiveDate, DayManifest>> {
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

    /// Checks a stored day before it is read again: its file has the size
    /// and sha256 its manifest records, and its rows are the recorded
    /// number, each of the directory's day. Exit 3 naming the day otherwise.
    pub(super) fn check_day(&self, manifest: &DayManifest) -> Result<()> {
        let Some(file) = &manifest.file else {
            return Ok(());
        };
        let day = manifest.day;
        let name = format!("{}/{file}", day_dir(day));
        let shown = self.location.join(&name);
        let bytes = self.read(&name)?.unwrap_or_default();
        let mut problems = Vec::new();
        let sha256 = sha256_hex(&bytes);
        if bytes.len() as u64 != manifest.bytes || sha256 != manifest.sha256 {
            problems.push(format!(
                "{} bytes with sha256 {sha256}, but `{DAY_MANIFEST}` records {} bytes with sha256 {}",
                bytes.len(),
                manifest.bytes,
                manifest.sha256
            ));
        } else {
            // Only the day column: the rows and their days are what is checked.
            let counts = ParquetReader::new(std::io::Cursor::new(bytes))
                .with_columns(Some(vec!["day".to_string()]))
                .finish()
                .and_then(|df| {
                    df.lazy()
                        .select([
                            len().cast(DataType::UInt64).alias("rows"),
                            col("day")
                                .neq(crate::time::date_lit(day))
                                .or(col("day").is_null())
                                .sum()
                                .cast(DataType::UInt64)
                                .alias("other_days"),
                        ])
                        .collect()
                })
                .map_err(|e| Error::engine(&format!("reading `{shown}`"), e))?;
            let rows = day_counts_total(&counts, "rows")?;
            let other_days = day_counts_total(&counts, "other_days")?;
            if rows != manifest.rows {
                problems.push(format!(
                    "{rows} rows, but `{DAY_MANIFEST}` records {}",
                    manifest.rows
                ));
            }
            if other_days > 0 {
                problems.push(format!("{other_days} rows of another day than {day}"));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::data_hint(
            format!(
                "activity store: day {day}: `{shown}` is not the file its manifest describes: {}",
                problems.join("; ")
            ),
            format!(
                "something changed the store's files: run with `--full-refresh` to recompute every day, or delete `{}` to \
                 recompute that day",
                self.location.join(&day_dir(day))
            ),
        ))
    }

    pub(super) fn remove_day(&self, day: NaiveDate) -> Result<()> {
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
    pub(super) fn publish(
        &self,
        range: DayRange,
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
            let mut written = (0u64, String::new());
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
                let bytes = bytes.into_inner();
                written = (bytes.len() as u64, sha256_hex(&bytes));
                self.write(&format!("{dir}/{file}"), bytes)?;
            }
            let manifest = DayManifest {
                day,
                file,
                source_rows: events.get(&day).copied().unwrap_or(0),
                rows: n,
                bytes: written.0,
                sha256: written.1,
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

/// A one-row count column of a small frame.
fn day_counts_total(frame: &DataFrame, column: &str) -> Result<u64> {
    frame
        .column(column)
        .and_then(|c| c.u64().map(|c| c.get(0).unwrap_or(0)))
        .map_err(|e| Error::engine("activity store", e))
}
