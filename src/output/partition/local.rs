//! Atomic publish of a partition on local disk (docs/OUTPUTS.md): every file is
//! written into a hidden staging directory next to the partition, then the
//! staging directory is swapped in with one `renameat2(RENAME_EXCHANGE)` (or a
//! rename when there is no previous partition). A reader never sees a
//! partition that mixes two runs; a failed or killed run leaves the previous
//! partition as it was, and its leftover staging directory is removed by the
//! next run.
//!
//! Where the file system has no atomic exchange (NFS), the previous partition
//! is first moved aside to `.as_of=DATE.previous-<run_id>`, then the new one
//! in. A run killed between those two renames leaves no partition but the
//! aside copy: the next run moves it back before anything else, and removes
//! aside copies that a finished swap left behind.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

/// The partition directory name for `as_of`.
pub fn partition_name(as_of: chrono::NaiveDate) -> String {
    format!("as_of={}", as_of.format("%Y-%m-%d"))
}

/// Creates a new directory only this user can enter (mode 0700); one that
/// exists already (made by someone else first, or a link) is an error.
pub fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(format!("cannot create `{}`", dir.display()), e))
}

/// A staging directory being filled; dropped without `commit`, it is removed.
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates `<output>/.as_of=DATE.staging-<run_id>/` after removing
    /// leftovers of earlier killed runs for the same partition.
    pub fn create(output_dir: &Path, as_of: chrono::NaiveDate, run_id: &str) -> Result<Staging> {
        let partition = partition_name(as_of);
        std::fs::create_dir_all(output_dir).map_err(|e| {
            Error::io(
                format!("cannot create output directory `{}`", output_dir.display()),
                e,
            )
        })?;
        remove_leftovers(output_dir, &partition)?;
        let dir = output_dir.join(format!(".{partition}.staging-{run_id}"));
        private_dir(&dir)?;
        Ok(Staging {
            dir,
            target: output_dir.join(partition),
            committed: false,
        })
    }

    /// The staging directory being filled.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `TABLE.parquet` (zstd) into the staging directory.
    pub fn write_table(&self, table: &str, df: &mut DataFrame) -> Result<()> {
        let path = self.dir.join(format!("{table}.parquet"));
        let file = File::create(&path)
            .map_err(|e| Error::io(format!("cannot create `{}`", path.display()), e))?;
        ParquetWriter::new(&file)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::full())
            .finish(df)
            .map_err(|e| Error::io_failed(format!("cannot write `{}`: {e}", path.display())))?;
        file.sync_all()
            .map_err(|e| Error::io(format!("cannot flush `{}`", path.display()), e))
    }

    /// Writes a small text file (manifest, marker) into the staging directory.
    pub fn write_text(&self, name: &str, text: &str) -> Result<()> {
        let path = self.dir.join(name);
        let mut file = File::create(&path)
            .map_err(|e| Error::io(format!("cannot create `{}`", path.display()), e))?;
        file.write_all(text.as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::io(format!("cannot write `{}`", path.display()), e))
    }

    /// Swaps the staging directory in as the partition and removes the old one.
    pub fn commit(mut self) -> Result<PathBuf> {
        // The files are synced as they are written; their directory entries
        // must be durable before the swap makes them the partition.
        sync_dir(&self.dir)?;
        if self.target.exists() {
            exchange(&self.dir, &self.target)?;
            // The staging path now holds the previous partition.
            std::fs::remove_dir_all(&self.dir).map_err(|e| {
                Error::io(
                    format!(
                        "cannot remove the previous partition at `{}`",
                        self.dir.display()
                    ),
                    e,
                )
            })?;
        } else {
            std::fs::rename(&self.dir, &self.target).map_err(|e| {
                Error::io(
                    format!(
                        "cannot move `{}` to `{}`",
                        self.dir.display(),
                        self.target.display()
                    ),
                    e,
                )
            })?;
        }
        if let Some(parent) = self.target.parent() {
            sync_dir(parent)?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Makes a directory's entries durable (fsync of the directory itself).
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("cannot sync directory `{}`", dir.display()), e))
}

/// Removes what killed runs left for `partition`: staging directories, and
/// aside copies of a previous partition. An aside copy with no partition
/// beside it is the previous partition of a fallback swap killed halfway: it
/// is moved back instead.
fn remove_leftovers(output_dir: &Path, partition: &str) -> Result<()> {
    let staging = format!(".{partition}.staging-");
    let aside = format!(".{partition}.previous-");
    let target = output_dir.join(partition);
    let entries = std::fs::read_dir(output_dir).map_err(|e| {
        Error::io(
            format!("cannot list output directory `{}`", output_dir.display()),
            e,
        )
    })?;
    let mut leftovers: Vec<(PathBuf, bool)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().to_string();
            let is_aside = name.starts_with(&aside);
            (is_aside || name.starts_with(&staging)).then(|| (entry.path(), is_aside))
        })
        .collect();
    leftovers.sort();
    for (path, is_aside) in leftovers {
        if is_aside && !target.exists() {
            crate::log::warn(
                "publish",
                &format!(
                    "restoring the previous partition from `{}` (a run was stopped while swapping it)",
                    path.display()
                ),
            );
            std::fs::rename(&path, &target)
                .map_err(|e| Error::io(format!("cannot move `{}` back", path.display()), e))?;
            continue;
        }
        crate::log::info(
            "publish",
            &format!("removing leftover `{}`", path.display()),
        );
        std::fs::remove_dir_all(&path)
            .map_err(|e| Error::io(format!("cannot remove `{}`", path.display()), e))?;
    }
    Ok(())
}

/// Atomically exchanges two directories (Linux `renameat2`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let to_c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| Error::io_failed(format!("path `{}` contains a NUL byte", p.display())))
    };
    let (ca, cb) = (to_c(a)?, to_c(b)?);
    // SAFETY: both pointers are valid NUL-terminated paths for the duration of the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
        return exchange_by_renames(a, b);
    }
    Err(Error::io(
        format!("cannot swap `{}` into `{}`", a.display(), b.display()),
        err,
    ))
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> Result<()> {
    exchange_by_renames(a, b)
}

/// Fallback for file systems without an atomic exchange: move the old
/// partition aside under a name of this run, then the new one in. Readers
/// may briefly see no partition (never a mixed one); see the module doc for
/// how a kill in between is repaired.
fn exchange_by_renames(staging: &Path, target: &Path) -> Result<()> {
    let aside = aside_path(staging);
    std::fs::rename(target, &aside)
        .map_err(|e| Error::io(format!("cannot move `{}` aside", target.display()), e))?;
    std::fs::rename(staging, target)
        .map_err(|e| Error::io(format!("cannot move `{}` in", staging.display()), e))?;
    std::fs::rename(&aside, staging)
        .map_err(|e| Error::io(format!("cannot move `{}` back", aside.display()), e))
}

/// `.as_of=DATE.previous-<run_id>` beside the staging directory
/// `.as_of=DATE.staging-<run_id>` of the same run.
fn aside_path(staging: &Path) -> PathBuf {
    let name = staging
        .file_name()
        .map(|n| n.to_string_lossy().replacen(".staging-", ".previous-", 1))
        .unwrap_or_else(|| ".previous".to_string());
    staging.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition_with(dir: &Path, name: &str, marker: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("marker"), marker).unwrap();
        path
    }

    fn marker(path: &Path) -> String {
        std::fs::read_to_string(path.join("marker")).unwrap()
    }

    #[test]
    fn fallback_swap_uses_an_aside_name_of_its_own_run() {
        let dir = tempfile::tempdir().unwrap();
        let target = partition_with(dir.path(), "as_of=2026-01-01", "old");
        let staging = partition_with(dir.path(), ".as_of=2026-01-01.staging-run2", "new");
        // A leftover of another run's fallback swap does not block this one.
        partition_with(dir.path(), ".as_of=2026-01-01.previous-run1", "older");
        exchange_by_renames(&staging, &target).unwrap();
        assert_eq!(marker(&target), "new");
        assert_eq!(marker(&staging), "old");
        assert_eq!(
            aside_path(&staging),
            dir.path().join(".as_of=2026-01-01.previous-run2")
        );
        assert!(!aside_path(&staging).exists());
    }

    #[test]
    fn next_run_restores_a_partition_left_aside_by_a_killed_swap() {
        // Killed between "move the old partition aside" and "move the new one in":
        // no partition, the aside copy and the dead run's staging directory.
        let dir = tempfile::tempdir().unwrap();
        partition_with(dir.path(), ".as_of=2026-01-01.previous-run1", "old");
        partition_with(dir.path(), ".as_of=2026-01-01.staging-run1", "new");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let staging = Staging::create(dir.path(), date, "run2").unwrap();
        assert_eq!(marker(&dir.path().join("as_of=2026-01-01")), "old");
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [".as_of=2026-01-01.staging-run2", "as_of=2026-01-01"]
        );
        drop(staging);

        // With the partition in place, an aside copy is a leftover and goes.
        partition_with(dir.path(), ".as_of=2026-01-01.previous-run3", "stale");
        let _staging = Staging::create(dir.path(), date, "run4").unwrap();
        assert!(!dir.path().join(".as_of=2026-01-01.previous-run3").exists());
        assert_eq!(marker(&dir.path().join("as_of=2026-01-01")), "old");
    }
}
