//! Publishing a partition to S3 (SPEC §7). An S3 prefix cannot be swapped
//! atomically, so readers gate on `_SUCCESS` instead:
//!
//! 1. the tables are staged on local disk first (so nothing is uploaded
//!    unless every table was computed and written);
//! 2. `_SUCCESS` of the partition is deleted: from here on readers see "not
//!    ready" instead of a partition that mixes two runs;
//! 3. every table is uploaded (multipart above 8 MiB, aborted on failure),
//!    then `_manifest.json`;
//! 4. objects of an earlier run that this run did not produce are deleted;
//! 5. `_SUCCESS` is written last.
//!
//! A run that fails or is killed before step 2 leaves the previous partition
//! and its `_SUCCESS` as they were; one that fails or is killed later leaves
//! no `_SUCCESS`, and the next successful run completes the partition.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::storage::s3::S3;

use super::SUCCESS;

/// Uploads `files` (names inside `staged`, in order) to
/// `s3://bucket/prefix/partition/` following the protocol above; returns the
/// partition's URI.
pub fn publish(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    partition: &str,
    staged: &Path,
    files: &[String],
) -> Result<String> {
    let base = if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{partition}/")
    } else {
        format!("{prefix}/{partition}/")
    };
    let uri = format!("s3://{bucket}/{base}");
    s3.delete(bucket, &format!("{base}{SUCCESS}"))?;
    for name in files {
        crate::log::debug("publish", &format!("uploading `{uri}{name}`"));
        s3.put_file(bucket, &format!("{base}{name}"), &staged.join(name))?;
    }
    for stale in s3.list(bucket, &base)? {
        let name = &stale.key[base.len()..];
        if !files.iter().any(|f| f == name) {
            crate::log::info(
                "publish",
                &format!("removing `{uri}{name}` left by an earlier run"),
            );
            s3.delete(bucket, &stale.key)?;
        }
    }
    s3.put_bytes(bucket, &format!("{base}{SUCCESS}"), Vec::new())?;
    Ok(uri)
}

/// A private local directory for staging an S3 partition, removed on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn create(run_id: &str) -> Result<ScratchDir> {
        let dir = std::env::temp_dir().join(format!("cohort-metrics-{run_id}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("cannot create `{}`", dir.display()), e))?;
        Ok(ScratchDir(dir))
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
