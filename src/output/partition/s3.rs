//! Publishing a partition to S3 (docs/OUTPUTS.md) without ever hiding or mixing the
//! previous one. S3 cannot swap a prefix, so the commit uses what it can do
//! atomically per object, in the manner of Spark's S3A "magic" committer:
//!
//! 1. the tables are staged on local disk first (nothing is uploaded unless
//!    every table was computed and written);
//! 2. each table is uploaded as a multipart upload to its final key and
//!    left open: an open upload is invisible to readers. Its upload id is
//!    recorded in the partition's lease first, so that if this run is
//!    killed, the run that takes the lease over aborts it;
//! 3. the lease is confirmed (rewritten with `If-Match`: still ours), then
//!    every upload is completed, all at once (one round trip between the
//!    first and the last), then `_manifest.json` is written, then
//!    `_SUCCESS`, which holds the run id and every file's sha256; both with
//!    the lease confirmed first and on the condition of the ETag this run
//!    found when it took the lease ([`Lock::put`]), so that a run that lost
//!    its lease cannot write over the new holder's. `_SUCCESS` is never
//!    deleted first;
//! 4. objects of earlier runs that this run did not produce are deleted,
//!    only after `_SUCCESS`, each after confirming the lease.
//!
//! A run that fails or is killed before step 3 leaves the previous partition
//! exactly as it was (its tables, manifest and `_SUCCESS`); a failure aborts
//! every upload it opened. Between the completions of step 3 and the new
//! `_SUCCESS` (a few round trips; forever for a run killed right there,
//! until the next run) a reader can see new tables beside the previous
//! `_SUCCESS`: the reader contract (docs/OPERATING.md) closes that window by comparing
//! each table's `run_id` with the one in `_SUCCESS` (`cohort-metrics
//! verify` does the same).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::storage::s3::S3;

use super::{manifest, SUCCESS};
use crate::storage::lock::Lock;

/// Where a partition goes on S3.
pub struct Destination<'a> {
    pub bucket: &'a str,
    /// The output prefix (`output.path` without the bucket).
    pub prefix: &'a str,
    /// `as_of=YYYY-MM-DD`.
    pub partition: &'a str,
}

impl Destination<'_> {
    /// `prefix/partition/`.
    fn base(&self) -> String {
        if self.prefix.is_empty() || self.prefix.ends_with('/') {
            format!("{}{}/", self.prefix, self.partition)
        } else {
            format!("{}/{}/", self.prefix, self.partition)
        }
    }
}

/// Uploads the staged `tables` (file names inside `staged`) and commits them
/// with `manifest` and `success` following the protocol above; returns the
/// partition's URI.
pub fn publish(
    s3: &S3,
    lock: &Lock,
    destination: &Destination,
    staged: &Path,
    tables: &[String],
    manifest: &str,
    success: &str,
) -> Result<String> {
    let bucket = destination.bucket;
    let base = destination.base();
    let uri = format!("s3://{bucket}/{base}");

    // 2. Open one upload per table, record them, send the parts.
    let mut open: Vec<(String, String)> = Vec::new();
    let staged_uploads = (|| {
        for name in tables {
            let key = format!("{base}{name}");
            let id = s3.start_upload(bucket, &key)?;
            open.push((key, id));
        }
        if let Some(lease) = lock.lease() {
            lease.record_uploads(open.clone())?;
        }
        let mut parts = Vec::new();
        for ((key, id), name) in open.iter().zip(tables) {
            crate::log::debug("publish", &format!("uploading `s3://{bucket}/{key}`"));
            parts.push(s3.upload_parts(bucket, key, id, &staged.join(name))?);
        }
        lock.confirm()?;
        Ok(parts)
    })();
    let parts = match staged_uploads {
        Ok(parts) => parts,
        Err(e) => {
            abort_all(s3, bucket, &open, lock);
            return Err(lost_or(lock, e));
        }
    };

    // 3. Complete every upload (all at once), then the manifest, then `_SUCCESS`.
    let completions = open
        .iter()
        .zip(parts)
        .map(|((key, id), parts)| (key.clone(), id.clone(), parts))
        .collect();
    let results = s3.complete_uploads(bucket, completions);
    if results.iter().any(Result::is_err) {
        let failed: Vec<(String, String)> = open
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.is_err())
            .map(|(u, _)| u.clone())
            .collect();
        abort_all(s3, bucket, &failed, lock);
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            return Err(lost_or(lock, e));
        }
    }
    if let Some(lease) = lock.lease() {
        lease.record_uploads(Vec::new())?;
    }
    // Fenced: each confirms the lease, then writes on the condition of the
    // ETag this run found, so that a write delayed past a takeover fails.
    lock.put(
        s3,
        bucket,
        &format!("{base}{}", manifest::FILE),
        manifest.as_bytes().to_vec(),
    )?;
    lock.put(
        s3,
        bucket,
        &format!("{base}{SUCCESS}"),
        success.as_bytes().to_vec(),
    )?;

    // 4. Only now: what earlier runs left that this one did not write.
    for stale in s3.list(bucket, &base)? {
        let name = stale.key.strip_prefix(&base).unwrap_or(&stale.key);
        let ours = name == manifest::FILE || name == SUCCESS || tables.iter().any(|t| t == name);
        if !ours {
            crate::log::info(
                "publish",
                &format!("removing `{uri}{name}` left by an earlier run"),
            );
            lock.delete(s3, bucket, &stale.key)?;
        }
    }
    Ok(uri)
}

/// The error of a failed upload, unless the lease was lost meanwhile: the
/// run that took it over aborted this run's uploads, and losing the lease
/// (exit 5) is what happened.
fn lost_or(lock: &Lock, error: Error) -> Error {
    match lock.confirm() {
        Err(lost @ Error::Locked(_)) => lost,
        _ => error,
    }
}

/// Aborts uploads after a failure (best effort: the store may be the
/// failure) and clears them from the lease.
fn abort_all(s3: &S3, bucket: &str, open: &[(String, String)], lock: &Lock) {
    for (key, id) in open {
        if let Err(e) = s3.abort_upload(bucket, key, id) {
            crate::log::warn("publish", &format!("{e}"));
        }
    }
    if let Some(lease) = lock.lease() {
        let _ = lease.record_uploads(Vec::new());
    }
}

/// A private local directory for staging an S3 partition, removed on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// A fresh directory under the temporary directory, mode 0700, with a
    /// name nobody made first (another is tried if one exists).
    pub fn create(run_id: &str) -> Result<ScratchDir> {
        let base = std::env::temp_dir();
        for attempt in 0..100 {
            let dir = base.join(format!(
                "cohort-metrics-{run_id}-{}-{attempt}",
                std::process::id()
            ));
            match super::local::private_dir(&dir) {
                Ok(()) => return Ok(ScratchDir(dir)),
                Err(_) if dir.symlink_metadata().is_ok() => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::io_failed(format!(
            "cannot create a private staging directory under `{}`: 100 names were taken",
            base.display()
        )))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
