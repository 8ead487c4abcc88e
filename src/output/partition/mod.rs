//! Publishing the `as_of=YYYY-MM-DD/` partition (docs/OUTPUTS.md): the only code that
//! knows how a partition is locked, staged, described by its manifest and
//! committed, on local disk ([`local`]) or on S3 ([`s3`]).
//!
//! [`Partition`] owns the protocol: [`Partition::stage`] takes the
//! partition's lock ([`lock`]) and opens a private staging directory,
//! [`Partition::write_tables`] fills it, [`Partition::commit`] records each
//! file's size and sha256 in the manifest, writes the manifest and
//! `_SUCCESS` (the run id and every file's sha256) and makes the partition
//! visible in one step (a local directory swap, or uploads staged invisibly
//! and completed together on S3), then releases the lock. Dropped before
//! `commit`, it removes what it staged and releases the lock; the previous
//! partition stays as it was.

pub mod local;
pub mod manifest;
pub mod s3;
pub mod verify;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::DataFrame;

use self::local::{partition_name, Staging};
use self::manifest::{file_checksum, Manifest, SuccessMarker};
use self::s3::ScratchDir;
use crate::error::{Error, Result};
use crate::output::tables::TABLES;
use crate::storage::lock::{Lock, LockRequest};
use crate::storage::s3::S3;
use crate::storage::Location;

/// The marker of a complete partition: written last.
pub const SUCCESS: &str = "_SUCCESS";

/// A partition being staged for one run.
pub struct Partition {
    target: Location,
    as_of: NaiveDate,
    s3: Option<Arc<S3>>,
    staging: Staging,
    /// On S3, the private local directory the partition is staged in first.
    scratch: Option<ScratchDir>,
    lock: Lock,
}

impl Partition {
    /// Takes the lock of `as_of`'s partition under `target`
    /// (`.as_of=DATE.lock`, see [`crate::storage::lock`]): first of all, so
    /// that a second run stops before computing anything.
    pub fn lock(
        target: &Location,
        as_of: NaiveDate,
        s3: Option<&Arc<S3>>,
        request: &LockRequest,
    ) -> Result<Lock> {
        let name = format!(".{}.lock", partition_name(as_of));
        let lock = Lock::acquire(target, &name, s3, request)?;
        // On S3: the ETags of the partition's objects as this run found them,
        // the conditions of its manifest and `_SUCCESS` (docs/OPERATING.md, "Locks").
        lock.guard(&target.join(&format!("{}/", partition_name(as_of))))?;
        Ok(lock)
    }

    /// Opens the staging directory of `as_of`'s partition under `target`
    /// (next to the partition on local disk; a private local directory for
    /// S3). Needs the partition's lock: leftovers of earlier runs are
    /// removed only by the run that holds it.
    pub fn stage(
        lock: Lock,
        target: &Location,
        as_of: NaiveDate,
        run_id: &str,
        s3: Option<&Arc<S3>>,
    ) -> Result<Partition> {
        let (scratch, root) = match target {
            Location::Local(dir) => (None, dir.clone()),
            Location::S3 { .. } => {
                let scratch = ScratchDir::create(run_id)?;
                let root = scratch.path().to_path_buf();
                (Some(scratch), root)
            }
        };
        let staging = Staging::create(&root, as_of, run_id)?;
        Ok(Partition {
            target: target.clone(),
            as_of,
            s3: s3.cloned(),
            staging,
            scratch,
            lock,
        })
    }

    /// Writes every table of [`TABLES`] that `outputs` holds, as Parquet.
    pub fn write_tables(&self, outputs: &mut BTreeMap<&'static str, DataFrame>) -> Result<()> {
        for table in TABLES {
            if let Some(df) = outputs.get_mut(table) {
                self.staging.write_table(table, df)?;
            }
        }
        Ok(())
    }

    /// Writes a text file (the report) into the partition being staged.
    pub fn write_text(&self, name: &str, text: &str) -> Result<()> {
        self.staging.write_text(name, text)
    }

    /// Records every table's size and sha256 in the manifest, writes
    /// `_manifest.json` and publishes the partition with `_SUCCESS`; returns
    /// where it now is (a local path or an `s3://` URI).
    pub fn commit(self, mut manifest: Manifest) -> Result<String> {
        let dir = self.staging.dir().to_path_buf();
        let mut files = BTreeMap::new();
        for output in &mut manifest.outputs {
            let path = dir.join(&output.file);
            let (bytes, sha256) = file_checksum(&path)
                .map_err(|e| Error::io(format!("cannot read `{}`", path.display()), e))?;
            output.bytes = bytes;
            output.sha256 = sha256.clone();
            files.insert(output.file.clone(), sha256);
        }
        // Paths and names may carry interpolated secrets: one redaction.
        let text = crate::redact::redact(
            &serde_json::to_string_pretty(&manifest)
                .map_err(|e| Error::other(format!("manifest: {e}")))?,
        ) + "\n";
        files.insert(manifest::FILE.to_string(), manifest::sha256_hex(&text));
        let success = SuccessMarker {
            run_id: manifest.run_id.clone(),
            files,
        };
        let success = serde_json::to_string_pretty(&success)
            .map_err(|e| Error::other(format!("_SUCCESS: {e}")))?
            + "\n";
        self.lock.confirm()?;
        let published = match &self.target {
            Location::Local(_) => {
                self.staging.write_text(manifest::FILE, &text)?;
                self.staging.write_text(SUCCESS, &success)?;
                self.staging.commit()?.display().to_string()
            }
            Location::S3 { bucket, key } => {
                let s3 = self
                    .s3
                    .as_ref()
                    .ok_or_else(|| Error::other("S3 client missing for an s3:// output"))?;
                let tables: Vec<String> = manifest.outputs.iter().map(|o| o.file.clone()).collect();
                let uri = s3::publish(
                    s3,
                    &self.lock,
                    &s3::Destination {
                        bucket,
                        prefix: key,
                        partition: &partition_name(self.as_of),
                    },
                    self.staging.dir(),
                    &tables,
                    &text,
                    &success,
                )?;
                drop(self.staging);
                drop(self.scratch);
                uri
            }
        };
        self.lock.release()?;
        Ok(published)
    }
}
