//! Each CSV source parsed once (docs/ARCHITECTURE.md, "Each CSV source
//! parsed once"): the data rules' pass over a CSV source's rows also
//! writes its typed rows to a Parquet file in the run's temporary
//! directory, and every later read of the source (plausibility, the account
//! frame, the metrics) reads that file instead of parsing the text again.
//! Keeping the rows is an optimization only: when the file cannot be
//! written, the source is read from its CSV files as before.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::LoadedSource;
use crate::config::{FileFormat, SourceName};
use crate::frame::{Rider, Slots};

/// The run's directory for the kept rows, in the system's temporary
/// directory (`TMPDIR`; docs/OPERATING.md#temporary-files), removed with
/// everything in it when dropped. It holds a `flock` on its `.lock` file
/// while the run lives, so that a later run can tell the directory of a
/// killed run from a running one's and remove it.
pub struct SpillDir {
    path: PathBuf,
    _lock: std::fs::File,
}

/// The prefix of the runs' directories in the temporary directory.
const DIR_PREFIX: &str = "cohort-metrics-rows-";
const LOCK: &str = ".lock";

impl SpillDir {
    /// A new directory named after the run, readable by its user only
    /// (the rows are customer data; the temporary directory is shared):
    /// made anew, never a directory or link that exists. The directories
    /// that killed runs left are removed first. None (logged at debug
    /// level) when it cannot be made: the sources are then parsed where
    /// read.
    pub fn create(run_id: &str) -> Option<SpillDir> {
        use std::os::unix::fs::DirBuilderExt;
        let temp = std::env::temp_dir();
        remove_left_behind(&temp);
        let path = temp.join(format!("{DIR_PREFIX}{run_id}"));
        let made = std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .and_then(|()| {
                // Ours from here on: removed when it cannot be locked.
                let locked = (|| -> std::io::Result<std::fs::File> {
                    let lock = std::fs::File::create(path.join(LOCK))?;
                    match crate::storage::lock::try_flock(&lock)? {
                        true => Ok(lock),
                        false => Err(std::io::Error::other("its lock is held")),
                    }
                })();
                if locked.is_err() {
                    let _ = std::fs::remove_dir_all(&path);
                }
                locked.map(|lock| SpillDir {
                    path: path.clone(),
                    _lock: lock,
                })
            });
        match made {
            Ok(dir) => Some(dir),
            Err(e) => {
                let shown = path.display();
                crate::log::debug("check", &format!("no temporary directory {shown}: {e}"));
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes the runs' directories in `temp` whose `.lock` no process holds:
/// what runs ended by a signal left (docs/OPERATING.md#signals).
fn remove_left_behind(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry.file_name().to_string_lossy().starts_with(DIR_PREFIX);
        let Some(lock) = ours
            .then(|| std::fs::File::open(path.join(LOCK)).ok())
            .flatten()
        else {
            continue;
        };
        if crate::storage::lock::try_flock(&lock).unwrap_or(false) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// The prefix of the typed columns among the pass's columns.
const PREFIX: &str = "__typed_row:";

/// How the writing went, shared by the rider and the checks.
#[derive(Default)]
struct Writing {
    writer: Option<polars::io::parquet::write::BatchedWriter<std::fs::File>>,
    rows: u64,
    failed: Option<String>,
    finished: bool,
}

/// The [`Rider`] that writes a source's typed rows as the pass reads them.
struct Writer {
    path: PathBuf,
    /// (canonical name, expression over the pass's rows).
    columns: Vec<(String, Expr)>,
    state: Arc<Mutex<Writing>>,
}

/// What the checks keep of a source's spill: after the pass, the file.
pub struct Spilled {
    pub source: SourceName,
    path: PathBuf,
    state: Arc<Mutex<Writing>>,
}

impl Spilled {
    /// The file of the source's typed rows once written whole: None when
    /// the source had no rows, the reason when it could not be written.
    fn file(&self) -> std::result::Result<Option<&Path>, String> {
        let state = self
            .state
            .lock()
            .map_err(|_| "a thread failed while writing it".to_string())?;
        match &state.failed {
            Some(reason) => Err(reason.clone()),
            None => Ok((state.finished && state.rows > 0).then_some(self.path.as_path())),
        }
    }
}

impl Writing {
    /// Writes `batch`'s typed columns, renamed; the first failure stops it.
    fn write(&mut self, path: &Path, batch: &DataFrame, columns: &[(String, Expr)]) {
        if self.failed.is_some() || batch.height() == 0 {
            return;
        }
        let written = (|| -> PolarsResult<()> {
            let mut typed =
                batch.select(columns.iter().map(|(name, _)| format!("{PREFIX}{name}")))?;
            let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
            typed.set_column_names(&names)?;
            if self.writer.is_none() {
                let file = std::fs::File::create(path)?;
                self.writer = Some(
                    ParquetWriter::new(file)
                        .with_compression(ParquetCompression::Lz4Raw)
                        .batched(typed.schema())?,
                );
            }
            if let Some(writer) = &mut self.writer {
                writer.write_batch(&typed)?;
            }
            Ok(())
        })();
        match written {
            Ok(()) => self.rows += batch.height() as u64,
            Err(e) => {
                self.failed = Some(e.to_string());
                self.writer = None;
            }
        }
    }
}

impl Rider for Writer {
    fn columns(&self, _: &Slots) -> Vec<Expr> {
        self.columns
            .iter()
            .map(|(name, typed)| typed.clone().alias(format!("{PREFIX}{name}")))
            .collect()
    }

    fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| polars_err!(ComputeError: "keeping the parsed rows failed"))?;
        state.write(&self.path, batch, &self.columns);
        Ok(())
    }

    fn ordered(&self) -> bool {
        true
    }

    fn done(&mut self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if let Some(writer) = state.writer.take() {
            if let Err(e) = writer.finish() {
                state.failed = Some(e.to_string());
            }
        }
        state.finished = true;
    }
}

impl LoadedSource {
    /// A rider for the data rules' pass over this source's rows that keeps
    /// them, typed, in `dir`, and the handle to its file; None when the
    /// source is not a CSV source whose typed frame is its rows typed one
    /// by one (events are read by the activity fold; a source that takes
    /// its accounts through another source, or revenue from invoices, is
    /// more than its rows).
    pub fn spill(&self, dir: &Path) -> Option<(Box<dyn Rider>, Spilled)> {
        let plain = self.format == FileFormat::Csv
            && self.name != SourceName::Events
            && self.accounts_by.is_none()
            && self.derived.is_empty()
            && !self.spilled;
        if !plain {
            return None;
        }
        let path = dir.join(format!("{}.parquet", self.name));
        let state = Arc::new(Mutex::new(Writing::default()));
        let writer = Writer {
            path: path.clone(),
            columns: self.typed_over_checked.clone(),
            state: state.clone(),
        };
        let spilled = Spilled {
            source: self.name,
            path,
            state,
        };
        Some((Box::new(writer), spilled))
    }

    /// Reads the source's typed rows from the file of `spilled`
    /// ([`LoadedSource::spill`]) from now on (true). The source stays as
    /// it is (false) when the file holds no rows, could not be written (a
    /// warning: the CSV files are parsed again) or has another schema than
    /// the typed frame (logged at debug level, as the source read from it).
    pub fn read_spilled(&mut self, spilled: &Spilled) -> bool {
        let read = match spilled.file() {
            Ok(Some(file)) => self.scan_kept(file),
            Ok(None) => return false,
            Err(reason) => {
                let shown = spilled.path.display();
                crate::log::warn(
                    "check",
                    &format!(
                        "could not keep the parsed rows of `{}` in {shown} ({reason}): they are \
                         parsed again from the CSV files",
                        self.name
                    ),
                );
                return false;
            }
        };
        let outcome = match &read {
            Ok(true) => format!("read from {}", spilled.path.display()),
            Ok(false) => "not read from its kept rows: another schema".to_string(),
            Err(e) => format!("not read from its kept rows: {e}"),
        };
        crate::log::debug("check", &format!("`{}` {outcome}", self.name));
        matches!(read, Ok(true))
    }

    /// Scans `file` as the source's typed frame; false when its schema is
    /// not the typed frame's.
    fn scan_kept(&mut self, file: &Path) -> PolarsResult<bool> {
        let args = ScanArgsParquet {
            glob: false,
            ..Default::default()
        };
        let path = PlRefPath::new(file.to_string_lossy().as_ref());
        let mut kept = LazyFrame::scan_parquet(path, args)?;
        if kept.collect_schema()? != self.frame.clone().collect_schema()? {
            return Ok(false);
        }
        self.frame = kept;
        self.spilled = true;
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
