//! `cohort-metrics verify PARTITION`: is a published partition intact?
//!
//! Reads `_SUCCESS` and `_manifest.json`, recomputes every table's size and
//! sha256 (streamed: local files in 1 MiB reads, S3 objects in ranged
//! requests) and reads every table's `run_id` column. Intact means: the
//! manifest is the one `_SUCCESS` names (same run id, same sha256), every
//! table has the size and sha256 both record, and every row of every table
//! carries the manifest's run id.

use std::sync::Arc;

use polars::prelude::*;

use super::manifest::{self, file_checksum, Checksum, Manifest, SuccessMarker};
use super::SUCCESS;
use crate::error::{Error, Result};
use crate::storage::s3::S3;
use crate::storage::Location;

/// What an intact partition holds.
#[derive(Debug)]
pub struct Verified {
    pub run_id: String,
    pub schema_version: u32,
    pub tables: usize,
    pub bytes: u64,
}

/// A published partition named on the command line (`verify`, `report`):
/// its location and, on S3, a client for `endpoint` (or AWS).
pub fn published(partition: &str, endpoint: Option<&str>) -> Result<(Location, Option<Arc<S3>>)> {
    let location = Location::parse(partition, std::path::Path::new(".")).map_err(Error::config)?;
    let s3 = match location.is_s3() {
        false => None,
        true => {
            let config = crate::storage::s3::S3Config {
                endpoint: endpoint.map(str::to_string),
                allow_http: endpoint.is_some_and(|e| e.starts_with("http://")),
                ..Default::default()
            };
            let settings = crate::storage::s3::S3Settings::from_config(Some(&config));
            if let Some(problem) = settings.problems().into_iter().next() {
                return Err(Error::config(
                    problem.replace("`storage.s3.endpoint`", "`--s3-endpoint`"),
                ));
            }
            Some(S3::new(settings))
        }
    };
    Ok((location, s3))
}

/// `cohort-metrics verify PARTITION`: a local directory or an `s3://` URI
/// (with `endpoint` for a store outside AWS).
pub fn verify_named(partition: &str, endpoint: Option<&str>) -> Result<Verified> {
    let (location, s3) = published(partition, endpoint)?;
    verify(&location, s3.as_ref())
}

/// Checks the partition at `location`: Ok when intact, a data error (exit
/// 3) listing every mismatch, an I/O error (exit 4) when it cannot be read
/// or has no `_SUCCESS`.
pub fn verify(location: &Location, s3: Option<&Arc<S3>>) -> Result<Verified> {
    let store = Store { location, s3 };
    let (success, manifest_text, manifest) = store.published()?;

    let mut problems = Vec::new();
    if manifest.run_id != success.run_id {
        problems.push(format!(
            "`{}` is of run `{}` but `{SUCCESS}` of run `{}`",
            manifest::FILE,
            manifest.run_id,
            success.run_id
        ));
    }
    let manifest_sum = manifest::sha256_hex(&manifest_text);
    if success.files.get(manifest::FILE) != Some(&manifest_sum) {
        problems.push(format!(
            "`{}` has sha256 {manifest_sum}, not the one `{SUCCESS}` records",
            manifest::FILE
        ));
    }
    let mut bytes = 0;
    for output in &manifest.outputs {
        let Some((size, sum)) = store.checksum(&output.file)? else {
            problems.push(format!("`{}` is missing", output.file));
            continue;
        };
        bytes += size;
        if size != output.bytes || sum != output.sha256 {
            problems.push(format!(
                "`{}`: {size} bytes with sha256 {sum}, but the manifest records {} bytes with sha256 {}",
                output.file, output.bytes, output.sha256
            ));
        } else if success.files.get(&output.file) != Some(&sum) {
            problems.push(format!(
                "`{}`: sha256 {sum} is not the one `{SUCCESS}` records",
                output.file
            ));
        }
        if !output.file.ends_with(".parquet") {
            // The report names its run in its body.
            let text = store.read_text(&output.file)?.unwrap_or_default();
            if !text.contains(&format!("data-run-id=\"{}\"", manifest.run_id)) {
                problems.push(format!(
                    "`{}` is not the report of run `{}`",
                    output.file, manifest.run_id
                ));
            }
            continue;
        }
        for other in store.run_ids(&output.file)? {
            if other != manifest.run_id {
                problems.push(format!(
                    "`{}` holds rows of run `{other}`, not of run `{}`",
                    output.file, manifest.run_id
                ));
            }
        }
    }
    // A file the manifest does not list was not published by its run (the
    // protocol's own hidden files, such as a lock, excepted).
    for name in store.names()? {
        let listed = name == SUCCESS
            || name == manifest::FILE
            || manifest.outputs.iter().any(|o| o.file == name);
        if !listed && !name.starts_with('.') {
            problems.push(format!(
                "`{name}` is in the partition but not in its manifest (a file or directory another program \
                 put there)"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Error::data(format!(
            "partition `{location}` is not intact:\n{}",
            problems
                .iter()
                .map(|p| format!("  - {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    Ok(Verified {
        run_id: manifest.run_id,
        schema_version: manifest.schema_version,
        tables: manifest.outputs.len(),
        bytes,
    })
}

/// The manifest and the tables `names` (those the manifest lists) of a
/// published partition: one with `_SUCCESS` naming the manifest's run.
pub fn read_published(
    location: &Location,
    s3: Option<&Arc<S3>>,
    names: &[&str],
) -> Result<(Manifest, std::collections::BTreeMap<String, DataFrame>)> {
    let store = Store { location, s3 };
    let (success, _, manifest) = store.published()?;
    if manifest.run_id != success.run_id {
        return Err(Error::data(format!(
            "`{location}`: `{}` is of run `{}` but `{SUCCESS}` of run `{}`",
            manifest::FILE,
            manifest.run_id,
            success.run_id
        )));
    }
    let mut tables = std::collections::BTreeMap::new();
    for output in manifest
        .outputs
        .iter()
        .filter(|o| names.contains(&o.table.as_str()))
    {
        tables.insert(output.table.clone(), store.read_table(&output.file)?);
    }
    Ok((manifest, tables))
}

/// Reads the files of one partition, on disk or on S3.
struct Store<'a> {
    location: &'a Location,
    s3: Option<&'a Arc<S3>>,
}

impl Store<'_> {
    /// `_SUCCESS`, the manifest's text and the manifest: an I/O error (exit
    /// 4) when the partition has no `_SUCCESS` or either cannot be read.
    fn published(&self) -> Result<(SuccessMarker, String, Manifest)> {
        let location = self.location;
        let success_text = self.read_text(SUCCESS)?.ok_or_else(|| {
            Error::io_failed(format!(
                "`{location}` has no `{SUCCESS}`: it is not a complete partition (never published, or being published now)"
            ))
        })?;
        let success: SuccessMarker = serde_json::from_str(&success_text).map_err(|e| {
            Error::io_failed(format!(
                "`{}`: not a `{SUCCESS}` this tool writes (run id and checksums): {e}",
                location.join(SUCCESS)
            ))
        })?;
        let manifest_text = self.read_text(manifest::FILE)?.ok_or_else(|| {
            Error::io_failed(format!(
                "`{location}` has `{SUCCESS}` but no `{}`",
                manifest::FILE
            ))
        })?;
        let manifest: Manifest = serde_json::from_str(&manifest_text).map_err(|e| {
            Error::io_failed(format!(
                "`{}` is not a manifest: {e}",
                location.join(manifest::FILE)
            ))
        })?;
        Ok((success, manifest_text, manifest))
    }

    fn s3(&self) -> Result<&Arc<S3>> {
        self.s3
            .ok_or_else(|| Error::other("S3 client missing for an s3:// partition"))
    }

    /// The names of the partition's entries: files and directories directly
    /// in it (on S3, the first part of each key under it).
    fn names(&self) -> Result<Vec<String>> {
        let mut names = std::collections::BTreeSet::new();
        match self.location {
            Location::Local(dir) => {
                let entries = std::fs::read_dir(dir)
                    .map_err(|e| Error::io(format!("cannot list `{}`", dir.display()), e))?;
                for entry in entries {
                    let entry = entry
                        .map_err(|e| Error::io(format!("cannot list `{}`", dir.display()), e))?;
                    names.insert(entry.file_name().to_string_lossy().to_string());
                }
            }
            Location::S3 { bucket, key } => {
                let prefix = if key.ends_with('/') {
                    key.clone()
                } else {
                    format!("{key}/")
                };
                for object in self.s3()?.list(bucket, &prefix)? {
                    let rest = object.key.strip_prefix(&prefix).unwrap_or(&object.key);
                    names.insert(rest.split('/').next().unwrap_or(rest).to_string());
                }
            }
        }
        Ok(names.into_iter().collect())
    }

    /// A small file's text, `None` when it does not exist.
    fn read_text(&self, name: &str) -> Result<Option<String>> {
        let bytes = match self.location.join(name) {
            Location::Local(path) => match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Error::io(format!("cannot read `{}`", path.display()), e)),
            },
            Location::S3 { bucket, key } => match self.s3()?.get_tagged(&bucket, &key)? {
                Some((bytes, _)) => bytes,
                None => return Ok(None),
            },
        };
        String::from_utf8(bytes).map(Some).map_err(|_| {
            Error::io_failed(format!("`{}` is not UTF-8 text", self.location.join(name)))
        })
    }

    /// Size and sha256 of a file, `None` when it does not exist.
    fn checksum(&self, name: &str) -> Result<Option<(u64, String)>> {
        match self.location.join(name) {
            Location::Local(path) => match file_checksum(&path) {
                Ok(sum) => Ok(Some(sum)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(format!("cannot read `{}`", path.display()), e)),
            },
            Location::S3 { bucket, key } => {
                let mut sum = Checksum::default();
                let found =
                    self.s3()?
                        .read_chunks(&bucket, &key, 8 * 1024 * 1024, &mut |chunk| {
                            sum.update(chunk);
                            true
                        })?;
                Ok(found.then(|| sum.finish()))
            }
        }
    }

    /// A lazy scan of one table of the partition.
    fn scan(&self, location: &Location) -> PolarsResult<LazyFrame> {
        let args = ScanArgsParquet {
            cloud_options: self.s3.map(|s| s.cloud_options().clone()),
            glob: false,
            ..Default::default()
        };
        LazyFrame::scan_parquet(location.polars_path(), args)
    }

    /// A whole (small) table.
    fn read_table(&self, name: &str) -> Result<DataFrame> {
        let location = self.location.join(name);
        self.scan(&location)
            .and_then(|lf| lf.collect())
            .map_err(|e| Error::io_failed(format!("reading `{location}`: {e}")))
    }

    /// The distinct `run_id` values of a table (only that column is read).
    fn run_ids(&self, name: &str) -> Result<Vec<String>> {
        let location = self.location.join(name);
        let what = format!("reading `run_id` of `{location}`");
        let ids = self
            .scan(&location)
            .and_then(|lf| {
                lf.select([col("run_id").cast(DataType::String)])
                    .unique(None, UniqueKeepStrategy::Any)
                    .collect()
            })
            .map_err(|e| Error::io_failed(format!("{what}: {e}")))?;
        let column = ids
            .column("run_id")
            .and_then(|c| c.str().cloned())
            .map_err(|e| Error::io_failed(format!("{what}: {e}")))?;
        Ok(column
            .iter()
            .map(|v| v.unwrap_or("null").to_string())
            .collect())
    }
}
