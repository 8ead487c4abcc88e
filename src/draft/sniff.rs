//! What `init` sees of an export (docs/INPUTS.md#a-first-pipeline-from-your-exports):
//! its columns, the first values of each as text, the CSV delimiter and
//! whether a second header row follows the header. Only the first rows are
//! read.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_buffer::Buffer;

use crate::config::{format_from_name, FileFormat};
use crate::error::{Error, Result};

/// How many rows are read for the guesses.
const SAMPLE_ROWS: usize = 200;

/// One export: a file, or a directory of files of one format.
#[derive(Debug, Clone)]
pub struct Sniffed {
    /// Relative to the exports directory (a directory ends in `/`).
    pub path: String,
    pub format: FileFormat,
    /// Column names (NDJSON nested fields as dotted paths) and their type.
    pub columns: Vec<(String, DataType)>,
    /// The first non-empty values of each column, as text.
    pub samples: BTreeMap<String, Vec<String>>,
    /// CSV only: the delimiter, when not `,`.
    pub delimiter: Option<char>,
    /// CSV only: the line after the header is a second header row.
    pub second_header: bool,
    /// The files read (one for a file).
    pub files: Vec<PathBuf>,
}

impl Sniffed {
    /// The column of this name, any case.
    pub fn column(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .map(|(c, _)| c.as_str())
            .find(|c| c.eq_ignore_ascii_case(name))
    }

    /// The first column whose name contains `part`, any case.
    pub fn column_containing(&self, part: &str) -> Option<&str> {
        let part = part.to_lowercase();
        self.columns
            .iter()
            .map(|(c, _)| c.as_str())
            .find(|c| c.to_lowercase().contains(&part))
    }

    pub fn samples_of(&self, column: &str) -> &[String] {
        self.samples.get(column).map_or(&[], Vec::as_slice)
    }

    pub fn dtype(&self, column: &str) -> Option<&DataType> {
        self.columns
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, d)| d)
    }

    /// The lazy scan of every file, as the run reads it (CSV as text).
    pub fn scan(&self) -> Result<LazyFrame> {
        scan(&self.files, self.format, self.delimiter, self.second_header)
    }
}

/// What is in `dir`: one entry per data file or directory of data files,
/// sorted; and the names that are neither, each with what was seen.
pub fn sniff_dir(dir: &Path) -> Result<(Vec<Sniffed>, Vec<(String, String)>)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            Error::io(
                format!("cannot read the exports directory `{}`", dir.display()),
                e,
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            !name.starts_with('.') && !name.starts_with('_')
        })
        .collect();
    names.sort();
    let (mut found, mut other) = (Vec::new(), Vec::new());
    for path in names {
        let shown = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let files = if path.is_dir() {
            data_files(&path)
        } else {
            vec![path.clone()]
        };
        let formats: Vec<Option<FileFormat>> = files.iter().map(|f| format_of(f)).collect();
        let format = match formats.first() {
            Some(Some(first)) if formats.iter().all(|f| *f == Some(*first)) => *first,
            _ => {
                let seen = if path.is_dir() {
                    format!(
                        "a directory of {} file(s) of no single data format",
                        files.len()
                    )
                } else {
                    "not a data file (Parquet, CSV or NDJSON, by its name)".to_string()
                };
                other.push((shown, seen));
                continue;
            }
        };
        let shown = if path.is_dir() {
            format!("{shown}/")
        } else {
            shown
        };
        match read(&shown, format, files) {
            Ok(sniffed) => found.push(sniffed),
            Err(e) => other.push((shown, format!("could not be read: {e}"))),
        }
    }
    Ok((found, other))
}

fn format_of(path: &Path) -> Option<FileFormat> {
    format_from_name(&path.file_name()?.to_string_lossy())
}

fn data_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if path.is_dir() {
            out.extend(data_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn read(shown: &str, format: FileFormat, files: Vec<PathBuf>) -> Result<Sniffed> {
    let (mut delimiter, mut second_header) = (None, false);
    if format == FileFormat::Csv {
        let lines = first_lines(&files[0], 2)?;
        let header = lines.first().cloned().unwrap_or_default();
        let guessed = [',', ';', '\t', '|']
            .into_iter()
            .max_by_key(|d| header.matches(*d).count())
            .unwrap_or(',');
        let d = if header.matches(guessed).count() == 0 {
            ','
        } else {
            guessed
        };
        delimiter = (d != ',').then_some(d);
        second_header = lines.get(1).is_some_and(|line| {
            line.split(d).map(|f| f.trim().trim_matches('"')).any(|f| {
                f.eq_ignore_ascii_case("Response") || f.eq_ignore_ascii_case("Open-Ended Response")
            })
        });
    }
    let frame = scan(&files, format, delimiter, second_header)?;
    let what = format!("`{shown}`");
    let head = frame
        .slice(0, SAMPLE_ROWS as IdxSize)
        .collect()
        .map_err(|e| Error::engine(&what, e))?;
    let mut columns = Vec::new();
    let mut samples = BTreeMap::new();
    for column in head.columns() {
        let name = column.name().to_string();
        columns.push((name.clone(), column.dtype().clone()));
        // Lists and objects have no text form: no samples.
        let values: Vec<String> = match column.cast(&DataType::String) {
            Ok(text) => match text.str() {
                Ok(text) => (0..text.len())
                    .filter_map(|i| text.get(i))
                    .filter(|v| !v.trim().is_empty())
                    .map(str::to_string)
                    .collect(),
                Err(_) => Vec::new(),
            },
            Err(_) => Vec::new(),
        };
        samples.insert(name, values);
    }
    Ok(Sniffed {
        path: shown.to_string(),
        format,
        columns,
        samples,
        delimiter,
        second_header,
        files,
    })
}

/// The first `n` lines of a text file (un-gzipped).
fn first_lines(path: &Path, n: usize) -> Result<Vec<String>> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot open `{}`", path.display()), e))?;
    let reader: Box<dyn Read> = if path.to_string_lossy().to_lowercase().ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok(BufReader::new(reader)
        .lines()
        .take(n)
        .map_while(std::result::Result::ok)
        .map(|l| l.trim_start_matches('\u{feff}').to_string())
        .collect())
}

fn scan(
    files: &[PathBuf],
    format: FileFormat,
    delimiter: Option<char>,
    second_header: bool,
) -> Result<LazyFrame> {
    let paths = Buffer::from_iter(
        files
            .iter()
            .map(|f| PlRefPath::new(f.to_string_lossy().as_ref())),
    );
    let what = "the exports";
    match format {
        FileFormat::Parquet => LazyFrame::scan_parquet_files(paths, ScanArgsParquet::default())
            .map_err(|e| Error::engine(what, e)),
        FileFormat::Csv => LazyCsvReader::new_paths(paths)
            .with_separator(delimiter.unwrap_or(',') as u8)
            .with_skip_rows_after_header(usize::from(second_header))
            .with_infer_schema_length(Some(0))
            .finish()
            .map_err(|e| Error::engine(what, e)),
        FileFormat::Ndjson => {
            let frame = LazyJsonLineReader::new_paths(paths)
                .with_infer_schema_length(NonZeroUsize::new(SAMPLE_ROWS))
                .finish()
                .map_err(|e| Error::engine(what, e))?;
            let schema = frame
                .clone()
                .collect_schema()
                .map_err(|e| Error::engine(what, e))?;
            Ok(crate::source::flatten_nested(frame, &schema).0)
        }
    }
}
