//! Column buffers of the generated tables and writing them as Parquet or CSV.
//! Events are flushed to numbered part files in chunks so that memory stays
//! flat however many events are generated.

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
        let err = |e: PolarsError| Error::Other(format!("generating column `{name}`: {e}"));
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
    parts: u32,
}

impl Table {
    pub fn new(name: &'static str, columns: Vec<(&'static str, Buffer)>) -> Self {
        Table {
            name,
            columns,
            rows_written: 0,
            parts: 0,
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
            .map_err(|e| Error::Other(format!("generating `{}`: {e}", self.name)))
    }

    /// Writes everything buffered as `DIR/NAME.EXT`.
    pub fn write_file(&mut self, dir: &Path, format: Format) -> Result<PathBuf> {
        let path = dir.join(format!("{}.{}", self.name, format.extension()));
        let mut df = self.frame()?;
        self.rows_written += df.height() as u64;
        write_frame(&mut df, &path, format)?;
        Ok(path)
    }

    /// Writes everything buffered as the next part `DIR/NAME/part-NNNNN.EXT`.
    pub fn write_part(&mut self, dir: &Path, format: Format) -> Result<()> {
        let folder = dir.join(self.name);
        std::fs::create_dir_all(&folder)
            .map_err(|e| Error::io(format!("cannot create `{}`", folder.display()), e))?;
        let path = folder.join(format!("part-{:05}.{}", self.parts, format.extension()));
        self.parts += 1;
        let mut df = self.frame()?;
        self.rows_written += df.height() as u64;
        write_frame(&mut df, &path, format)
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
    result.map_err(|e| Error::Io(format!("cannot write `{}`: {e}", path.display())))
}
