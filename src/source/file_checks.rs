//! File-level faults, each with its own message (SPEC §9): unreadable or
//! truncated Parquet files, Parquet files of one source whose columns differ
//! in type, empty files, and CSV lines with the wrong number of fields.

use std::fs::File;
use std::io::BufRead;

use polars::prelude::*;

use crate::config::{ResolvedSource, SourceName};
use crate::error::{Error, Result};
use crate::storage::Location;

/// Reads every Parquet file's footer (metadata only): a truncated or corrupt
/// file is an I/O error naming it; a column whose type differs between files
/// is a data error naming both files.
pub fn check_parquet_files(resolved: &ResolvedSource, files: &[Location]) -> Result<()> {
    let source = resolved.name;
    // (file, column → type as text) of the first file.
    let mut first: Option<(&Location, Vec<(String, String)>)> = None;
    for path in files {
        let types = parquet_column_types(resolved, path)?;
        match &first {
            None => first = Some((path, types)),
            Some((first_path, first_types)) => {
                for (name, dtype) in &types {
                    if let Some((_, other)) = first_types.iter().find(|(n, _)| n == name) {
                        if other != dtype {
                            return Err(Error::Data(format!(
                                "source `{source}`: column `{name}` is {other} in `{first_path}` but {dtype} in `{path}`; every file of a source must give a column the same type"
                            )));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Column name → type (as text) from a Parquet file's footer (only the
/// footer is read: on S3 a few ranged requests).
fn parquet_column_types(
    resolved: &ResolvedSource,
    location: &Location,
) -> Result<Vec<(String, String)>> {
    let source = resolved.name;
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::Io(crate::storage::redact(&format!(
            "source `{source}`: `{location}` is not a readable Parquet file (truncated or corrupt?): {e}"
        )))
    };
    match location {
        Location::Local(path) => {
            let file = File::open(path).map_err(|e| {
                Error::io(
                    format!("source `{source}`: cannot open `{}`", path.display()),
                    e,
                )
            })?;
            let schema = ParquetReader::new(file)
                .schema()
                .map_err(|e| unreadable(&e))?;
            Ok(schema
                .iter()
                .map(|(name, field)| (name.to_string(), format!("{:?}", field.dtype)))
                .collect())
        }
        Location::S3 { .. } => {
            let args = ScanArgsParquet {
                cloud_options: resolved.s3.as_ref().map(|s| s.cloud_options().clone()),
                glob: false,
                ..Default::default()
            };
            let path = location.polars_path();
            let schema = LazyFrame::scan_parquet(path, args)
                .and_then(|mut lf| lf.collect_schema())
                .map_err(|e| unreadable(&e))?;
            Ok(schema
                .iter()
                .map(|(name, dtype)| (name.to_string(), format!("{dtype:?}")))
                .collect())
        }
    }
}

/// An empty file (no bytes) is reported by name. (On S3 the listing's sizes
/// are checked while listing.)
pub fn check_not_empty(source: SourceName, files: &[Location]) -> Result<()> {
    for path in files.iter().filter_map(Location::as_local) {
        if std::fs::metadata(path)
            .map(|m| m.len() == 0)
            .unwrap_or(false)
        {
            return Err(Error::Data(format!(
                "source `{source}`: `{}` is empty (not even a header line)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The first malformed record of a CSV file: its line number and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedLine {
    pub line: usize,
    pub problem: String,
}

/// The first record of a CSV file whose field count differs from the
/// header's, whose quoted field is never closed, or that has text right
/// after a closing quote (`"a"b`). Quotes are honoured, including line
/// breaks inside quoted fields and doubled quotes.
pub fn find_ragged_line(reader: impl BufRead, delimiter: u8, quote: u8) -> Option<MalformedLine> {
    let mut expected = None;
    let mut in_quotes = false;
    let mut fields = 1;
    let mut record_start = 1;
    for (index, line) in reader.split(b'\n').enumerate() {
        let line = line.ok()?;
        let line_no = index + 1;
        if !in_quotes {
            record_start = line_no;
            fields = 1;
        }
        let mut just_closed = false;
        for &byte in &line {
            if just_closed && byte != quote && byte != delimiter && byte != b'\r' {
                return Some(MalformedLine {
                    line: record_start,
                    problem: "text follows the closing quote of a field".into(),
                });
            }
            just_closed = false;
            if byte == quote {
                just_closed = in_quotes;
                in_quotes = !in_quotes;
            } else if byte == delimiter && !in_quotes {
                fields += 1;
            }
        }
        if in_quotes {
            continue;
        }
        let empty = line.iter().all(|b| *b == b'\r' || *b == b' ');
        match expected {
            None => expected = Some(fields),
            Some(n) if n != fields && !empty => {
                return Some(MalformedLine {
                    line: record_start,
                    problem: format!("{fields} field(s) where the header has {n}"),
                })
            }
            _ => {}
        }
    }
    in_quotes.then(|| MalformedLine {
        line: record_start,
        problem: "a quoted field is never closed".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &std::path::Path) -> std::io::BufReader<File> {
        std::io::BufReader::new(File::open(path).unwrap())
    }

    #[test]
    fn finds_the_first_ragged_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "a,b,c\n1,\"x,y\",3\n4,\"multi\nline\",6\n7,8\n").unwrap();
        let found = |path: &std::path::Path| {
            find_ragged_line(open(path), b',', b'"').map(|m| (m.line, m.problem))
        };
        assert_eq!(
            found(&path),
            Some((5, "2 field(s) where the header has 3".to_string()))
        );
        std::fs::write(&path, "a,b\n1,2\n\n3,4\n").unwrap();
        assert_eq!(found(&path), None);
        std::fs::write(&path, "a,b\n1,\"open\n").unwrap();
        assert_eq!(
            found(&path),
            Some((2, "a quoted field is never closed".to_string()))
        );
        // A doubled quote inside a quoted field is an escaped quote.
        std::fs::write(&path, "a,b\n1,\"say \"\"hi\"\"\"\r\n").unwrap();
        assert_eq!(found(&path), None);
        // The quote closes on line 3 and text follows it: three fields, but
        // not a well-formed CSV record.
        std::fs::write(&path, "a,b,c\n1,\"x,0\n1,\"y,0\n").unwrap();
        assert_eq!(
            found(&path),
            Some((2, "text follows the closing quote of a field".to_string()))
        );
    }
}
