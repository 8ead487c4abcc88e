//! The Spark engine's staging directory (docs/OPERATING.md#spark): the
//! run's own `run=RUN_ID/`, removed when the run ends, and the clean-up of
//! what killed runs left.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::log;
use crate::storage::Location;

/// Staged runs are directories `run=RUN_ID/` under the staging directory.
pub(super) const RUN_PREFIX: &str = "run=";
/// A staged directory left this long unchanged belongs to a killed run.
pub(super) const ORPHAN_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A staging directory, local or on S3.
pub(super) struct StagingDir {
    pub(super) location: Location,
    pub(super) s3: Option<Arc<crate::storage::s3::S3>>,
}

impl StagingDir {
    pub(super) fn shown(&self) -> String {
        self.location.to_string()
    }

    fn remove(&self) -> Result<()> {
        match (&self.location, &self.s3) {
            (Location::Local(dir), _) => match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io_failed(format!("removing {}: {e}", dir.display())))
                }
                _ => Ok(()),
            },
            (Location::S3 { bucket, key }, Some(s3)) => {
                for object in s3.list(bucket, key)? {
                    s3.delete(bucket, &object.key)?;
                }
                Ok(())
            }
            (Location::S3 { .. }, None) => Ok(()),
        }
    }
}

/// Removes the `run=*/` directories under the staging directory that killed
/// runs left: those whose newest file is older than [`ORPHAN_AGE`]. A
/// directory of a run still going (on this or another machine) is younger
/// and is left alone; no lock is needed.
pub(super) fn remove_orphans(
    staging: &Location,
    s3: Option<&Arc<crate::storage::s3::S3>>,
) -> Result<()> {
    let now = std::time::SystemTime::now();
    let old = |newest: Option<std::time::SystemTime>| {
        newest.is_some_and(|t| now.duration_since(t).is_ok_and(|age| age > ORPHAN_AGE))
    };
    let mut removed = Vec::new();
    match (staging, s3) {
        (Location::Local(dir), _) => {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => {
                    return Err(Error::io_failed(format!(
                        "activity.spark.staging {}: {e}",
                        dir.display()
                    )))
                }
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name.starts_with(RUN_PREFIX) && old(newest_local(&entry.path())) {
                    std::fs::remove_dir_all(entry.path()).map_err(|e| {
                        Error::io_failed(format!("removing {}: {e}", entry.path().display()))
                    })?;
                    removed.push(name);
                }
            }
        }
        (Location::S3 { bucket, key }, Some(s3)) => {
            let mut by_dir: BTreeMap<String, Vec<crate::storage::s3::ObjectInfo>> = BTreeMap::new();
            for object in s3.list(bucket, key)? {
                let rest = object.key.strip_prefix(key.as_str()).unwrap_or("");
                if let Some((dir, _)) = rest
                    .split_once('/')
                    .filter(|(d, _)| d.starts_with(RUN_PREFIX))
                {
                    by_dir.entry(dir.to_string()).or_default().push(object);
                }
            }
            for (dir, objects) in by_dir {
                if old(objects.iter().filter_map(|o| o.modified).max()) {
                    for object in &objects {
                        s3.delete(bucket, &object.key)?;
                    }
                    removed.push(dir);
                }
            }
        }
        (Location::S3 { .. }, None) => {
            return Err(Error::other("no S3 client for the staging directory"))
        }
    }
    if !removed.is_empty() {
        log::warn(
            "spark",
            &format!(
                "removed what killed runs left under {} (unchanged for a day): {}",
                staging,
                removed.join(", ")
            ),
        );
    }
    Ok(())
}

/// The newest modification time of a directory's files (and its own).
fn newest_local(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    let own = std::fs::metadata(dir).and_then(|m| m.modified()).ok();
    let files = std::fs::read_dir(dir).ok()?.flatten().filter_map(|e| {
        let meta = e.metadata().ok()?;
        if meta.is_dir() {
            newest_local(&e.path())
        } else {
            meta.modified().ok()
        }
    });
    files.chain(own).max()
}

/// The run's directory goes when the run ends, whatever the outcome.
impl Drop for StagingDir {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            log::warn(
                "spark",
                &format!("could not remove the staged rollup: {e} (the next run removes it)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn orphans_are_the_run_directories_unchanged_for_a_day_only() {
        let dir = tempfile::tempdir().unwrap();
        let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
        for (run, age) in [("run=old", Some(two_days_ago)), ("run=live", None)] {
            std::fs::create_dir_all(dir.path().join(run).join("x")).unwrap();
            let file = dir.path().join(run).join("x/part.parquet");
            std::fs::write(&file, b"x").unwrap();
            if let Some(age) = age {
                for path in [
                    file.clone(),
                    dir.path().join(run).join("x"),
                    dir.path().join(run),
                ] {
                    std::fs::File::open(&path)
                        .unwrap()
                        .set_modified(age)
                        .unwrap();
                }
            }
        }
        std::fs::create_dir_all(dir.path().join("keep")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        remove_orphans(&Location::Local(dir.path().to_path_buf()), None).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        // A run still staging (its files are new) keeps its directory.
        assert_eq!(left, ["keep", "notes.txt", "run=live"]);
        // A staging directory that does not exist yet has no orphans.
        remove_orphans(&Location::Local(dir.path().join("missing")), None).unwrap();
    }
}
