//! Publishing the `as_of=YYYY-MM-DD/` partition (SPEC §7): the only code that
//! knows how a partition is staged, described by its manifest and committed,
//! on local disk ([`local`]) or on S3 ([`s3`]).
//!
//! [`Partition`] owns the protocol: [`Partition::stage`] opens a private
//! staging directory, [`Partition::write_tables`] fills it,
//! [`Partition::commit`] writes the manifest and makes the partition visible
//! in one step (a local directory swap, or `_SUCCESS` written last on S3).
//! Dropped before `commit`, it removes what it staged; the previous partition
//! stays as it was.

pub mod local;
pub mod manifest;
pub mod s3;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::DataFrame;

use self::local::{partition_name, Staging};
use self::manifest::Manifest;
use self::s3::ScratchDir;
use crate::error::{Error, Result};
use crate::output::tables::TABLES;
use crate::storage::s3::S3;
use crate::storage::Location;

/// The marker of a complete partition: written last.
pub const SUCCESS: &str = "_SUCCESS";

/// A partition being staged for one run.
pub struct Partition {
    target: Location,
    as_of: NaiveDate,
    staging: Staging,
    /// On S3, the private local directory the partition is staged in first.
    scratch: Option<ScratchDir>,
}

impl Partition {
    /// Opens the staging directory of `as_of`'s partition under `target`
    /// (next to the partition on local disk; a private local directory for S3).
    pub fn stage(target: &Location, as_of: NaiveDate, run_id: &str) -> Result<Partition> {
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
            staging,
            scratch,
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

    /// Writes `_manifest.json` and publishes the partition; returns where it
    /// now is (a local path or an `s3://` URI).
    pub fn commit(self, manifest: &Manifest, s3: Option<&Arc<S3>>) -> Result<String> {
        // Paths and names may carry interpolated secrets: one redaction.
        let text = crate::redact::redact(
            &serde_json::to_string_pretty(manifest)
                .map_err(|e| Error::Other(format!("manifest: {e}")))?,
        );
        self.staging.write_text(manifest::FILE, &(text + "\n"))?;
        match &self.target {
            Location::Local(_) => {
                self.staging.write_text(SUCCESS, "")?;
                Ok(self.staging.commit()?.display().to_string())
            }
            Location::S3 { bucket, key } => {
                let s3 =
                    s3.ok_or_else(|| Error::Other("S3 client missing for an s3:// output".into()))?;
                let mut files: Vec<String> =
                    TABLES.iter().map(|t| format!("{t}.parquet")).collect();
                files.push(manifest::FILE.into());
                let uri = s3::publish(
                    s3,
                    bucket,
                    key,
                    &partition_name(self.as_of),
                    self.staging.dir(),
                    &files,
                )?;
                drop(self.staging);
                drop(self.scratch);
                Ok(uri)
            }
        }
    }
}
