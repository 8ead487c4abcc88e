//! Column buffers of the generated tables and writing them as Parquet or CSV.
//! Events are flushed to part files per month in chunks, so that memory stays
//! flat however many events are generated and each file covers one month.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

/// How a table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

/// One column being filled.
pub enum Buffer {
    Int(Vec<i64>),
    OptInt(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<&'static str>),
    /// Days since 1970-01-01.
    Day(Vec<Option<i32>>),
    /// Microseconds since 1970-01-01 UTC.
    Instant(Vec<Option<i64>>),
}

impl Buffer {
    fn len(&self) -> usize {
        match self {
            Buffer::Int(v) => v.len(),
            Buffer::OptInt(v) => v.len(),
            Buffer::Float(v) => v.len(),
            Buffer::Text(v) => v.len(),
            Buffer::Day(v) => v.len(),
            Buffer::Instant(v) => v.len(),
        }
    }

    fn take(&mut self, name: &str) -> Result<Column> {
        let err = |e: PolarsError| Error::other(format!("generating column `{name}`: {e}"));
        let name: PlSmallStr = name.into();
        Ok(match self {
            Buffer::Int(v) => Column::new(name, std::mem::take(v)),
            Buffer::OptInt(v) => Column::new(name, std::mem::take(v)),
            Buffer::Float(v) => Column::new(name, std::mem::take(v)),
            Buffer::Text(v) => Column::new(name, std::mem::take(v)),
            Buffer::Day(v) => Column::new(name, std::mem::take(v))
                .cast(&DataType::Date)
                .map_err(err)?,
            Buffer::Instant(v) => Column::new(name, std::mem::take(v))
                .cast(&DataType::Datetime(
                    TimeUnit::Microseconds,
                    Some(TimeZone::UTC),
                ))
                .map_err(err)?,
        })
    }
}

/// A table being generated: named column buffers.
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<(&'static str, Buffer)>,
    pub rows_written: u64,
}

impl Table {
    pub fn new(name: &'static str, columns: Vec<(&'static str, Buffer)>) -> Self {
        Table {
            name,
            columns,
            rows_written: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.columns.first().map(|(_, b)| b.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer of column `name` (the generator's own schema: a missing name is a bug).
    pub fn col(&mut self, name: &str) -> &mut Buffer {
        let index = self.columns.iter().position(|(n, _)| *n == name);
        match index {
            Some(i) => &mut self.columns[i].1,
            None => panic!("generator table `{}` has no column `{name}`", self.name),
        }
    }

    fn frame(&mut self) -> Result<DataFrame> {
        let columns = self
            .columns
            .iter_mut()
            .map(|(n, b)| b.take(n))
            .collect::<Result<Vec<_>>>()?;
        DataFrame::new_infer_height(columns)
            .map_err(|e| Error::other(format!("generating `{}`: {e}", self.name)))
    }

    /// Writes everything buffered as `DIR/NAME.EXT`.
    pub fn write_file(&mut self, dir: &Path, format: Format) -> Result<PathBuf> {
        let path = dir.join(format!("{}.{}", self.name, format.extension()));
        let mut df = self.frame()?;
        self.rows_written += df.height() as u64;
        write_frame(&mut df, &path, format)?;
        Ok(path)
    }

    /// The microseconds of an `Instant` column, as buffered.
    pub fn instants(&mut self, name: &str) -> Vec<Option<i64>> {
        match self.col(name) {
            Buffer::Instant(values) => values.clone(),
            _ => panic!(
                "generator table `{}`: `{name}` is not an instant",
                self.name
            ),
        }
    }

    /// Takes everything buffered as a frame (for [`TimeParts`]).
    pub fn take_frame(&mut self) -> Result<DataFrame> {
        self.frame()
    }
}

/// Rows written as part files `DIR/NAME/part-KEY-NNNNN.EXT`, one series per
/// key (a month), each flushed when it holds `chunk` rows: every file then
/// covers one key's rows only, as exports partitioned by time do.
pub struct TimeParts {
    name: &'static str,
    format: Format,
    chunk: usize,
    pending: std::collections::BTreeMap<String, (Vec<DataFrame>, usize, u32)>,
    pub rows_written: u64,
}

impl TimeParts {
    pub fn new(name: &'static str, format: Format, chunk: usize) -> Self {
        TimeParts {
            name,
            format,
            chunk,
            pending: Default::default(),
            rows_written: 0,
        }
    }

    /// Adds the rows of `frame` under `keys` (one key per row); writes the
    /// keys whose rows reach the chunk size.
    pub fn add(&mut self, dir: &Path, frame: &DataFrame, keys: &[String]) -> Result<()> {
        let mut rows: std::collections::BTreeMap<&str, Vec<IdxSize>> = Default::default();
        for (i, key) in keys.iter().enumerate() {
            rows.entry(key.as_str()).or_default().push(i as IdxSize);
        }
        for (key, indices) in rows {
            let taken = frame
                .take(&IdxCa::from_vec("idx".into(), indices))
                .map_err(|e| Error::other(format!("generating `{}`: {e}", self.name)))?;
            let entry = self.pending.entry(key.to_string()).or_default();
            entry.1 += taken.height();
            entry.0.push(taken);
            if entry.1 >= self.chunk {
                let key = key.to_string();
                self.flush(dir, &key)?;
            }
        }
        Ok(())
    }

    /// Writes every key's pending rows (at least one file in all).
    pub fn finish(&mut self, dir: &Path, empty: DataFrame) -> Result<()> {
        let keys: Vec<String> = self.pending.keys().cloned().collect();
        for key in keys {
            self.flush(dir, &key)?;
        }
        if self.rows_written == 0 {
            self.pending.insert("empty".into(), (vec![empty], 0, 0));
            self.flush(dir, "empty")?;
        }
        Ok(())
    }

    fn flush(&mut self, dir: &Path, key: &str) -> Result<()> {
        let Some((frames, rows, part)) = self.pending.get_mut(key) else {
            return Ok(());
        };
        if frames.is_empty() {
            return Ok(());
        }
        let folder = dir.join(self.name);
        std::fs::create_dir_all(&folder)
            .map_err(|e| Error::io(format!("cannot create `{}`", folder.display()), e))?;
        let path = folder.join(format!(
            "part-{key}-{:05}.{}",
            part,
            self.format.extension()
        ));
        *part += 1;
        let name = self.name;
        let mut parts = std::mem::take(frames).into_iter();
        let mut df = parts.next().unwrap_or_default();
        for next in parts {
            df.vstack_mut_owned(next)
                .map_err(|e| Error::other(format!("generating `{name}`: {e}")))?;
        }
        *rows = 0;
        self.rows_written += df.height() as u64;
        write_frame(&mut df, &path, self.format)
    }
}

fn write_frame(df: &mut DataFrame, path: &Path, format: Format) -> Result<()> {
    let file = File::create(path)
        .map_err(|e| Error::io(format!("cannot create `{}`", path.display()), e))?;
    let result = match format {
        Format::Parquet => ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ()),
        Format::Csv => CsvWriter::new(file).include_header(true).finish(df),
    };
    result.map_err(|e| Error::io_failed(format!("cannot write `{}`: {e}", path.display())))
}
