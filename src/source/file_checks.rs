//! File-level faults, each with its own message (docs/INPUTS.md#the-checks): unreadable or
//! truncated Parquet files, Parquet files of one source whose columns differ
//! in type, empty files, and CSV lines with the wrong number of fields.

use std::fs::File;

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
                let has =
                    |list: &[(String, String)], name: &str| list.iter().any(|(n, _)| n == name);
                let missing: Vec<&str> = first_types
                    .iter()
                    .filter(|(n, _)| !has(&types, n))
                    .map(|(n, _)| n.as_str())
                    .collect();
                let extra: Vec<&str> = types
                    .iter()
                    .filter(|(n, _)| !has(first_types, n))
                    .map(|(n, _)| n.as_str())
                    .collect();
                if let Some((name, (holder, lacking))) = missing
                    .first()
                    .map(|n| (*n, (*first_path, path)))
                    .or_else(|| extra.first().map(|n| (*n, (path, *first_path))))
                {
                    return Err(Error::data(format!(
                        "source `{source}`: column `{name}` is in `{holder}` but not in `{lacking}`; every file of a \
                         source must have the same columns (an export whose layout changed between files?)"
                    )));
                }
                for (name, dtype) in &types {
                    if let Some((_, other)) = first_types.iter().find(|(n, _)| n == name) {
                        if other != dtype {
                            return Err(Error::data(format!(
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
        Error::io_failed(crate::redact::redact(&format!(
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
            return Err(Error::data(format!(
                "source `{source}`: `{}` is empty (not even a header line)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The longest CSV record accepted, in bytes. Longer usually means a file
/// that is not line-oriented CSV (no `\n` at all, a binary file, an
/// unclosed quote); the CSV reader would hold such a record whole in memory.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// The first malformed record of a CSV file: its line number and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedLine {
    pub line: usize,
    pub problem: String,
}

/// Checks CSV record structure while the bytes stream through, holding no
/// line: every record has as many fields as the header, no quoted field is
/// left open, no text follows a closing quote (`"a"b`), and no record is
/// longer than [`MAX_RECORD_BYTES`]. Quotes are honoured, including line
/// breaks inside quoted fields and doubled quotes.
pub struct LineCheck {
    delimiter: u8,
    quote: u8,
    expected: Option<usize>,
    in_quotes: bool,
    just_closed: bool,
    fields: usize,
    /// Physical line number of the current byte (1-based).
    line: usize,
    record_start: usize,
    record_bytes: u64,
    /// The current physical line holds only spaces and `\r` so far.
    blank: bool,
    found: Option<MalformedLine>,
}

impl LineCheck {
    pub fn new(delimiter: u8, quote: u8) -> LineCheck {
        LineCheck {
            delimiter,
            quote,
            expected: None,
            in_quotes: false,
            just_closed: false,
            fields: 1,
            line: 1,
            record_start: 1,
            record_bytes: 0,
            blank: true,
            found: None,
        }
    }

    /// Feeds the next bytes; false once a malformed record was found (the
    /// rest of the file need not be read).
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        for &byte in bytes {
            if self.found.is_some() {
                return false;
            }
            self.record_bytes += 1;
            if self.record_bytes > MAX_RECORD_BYTES {
                self.fail(format!(
                    "a record longer than {} MiB (is the file CSV with `\\n` line ends?)",
                    MAX_RECORD_BYTES / (1024 * 1024)
                ));
                return false;
            }
            if byte == b'\n' {
                self.end_line();
                continue;
            }
            if byte != b'\r' && byte != b' ' {
                self.blank = false;
            }
            if self.just_closed && byte != self.quote && byte != self.delimiter && byte != b'\r' {
                self.fail("text follows the closing quote of a field".into());
                return false;
            }
            self.just_closed = false;
            if byte == self.quote {
                self.just_closed = self.in_quotes;
                self.in_quotes = !self.in_quotes;
            } else if byte == self.delimiter && !self.in_quotes {
                self.fields += 1;
            }
        }
        self.found.is_none()
    }

    /// The first malformed record, once every byte was fed.
    pub fn finish(mut self) -> Option<MalformedLine> {
        if self.found.is_none() && !(self.blank && !self.in_quotes && self.fields == 1) {
            // A last line without `\n`.
            self.end_line();
        }
        if self.found.is_none() && self.in_quotes {
            let line = self.record_start;
            self.found = Some(MalformedLine {
                line,
                problem: "a quoted field is never closed".into(),
            });
        }
        self.found
    }

    fn end_line(&mut self) {
        self.just_closed = false;
        if !self.in_quotes {
            let blank = self.blank && self.fields == 1;
            match self.expected {
                None => self.expected = Some(self.fields),
                Some(n) if n != self.fields && !blank => {
                    let fields = self.fields;
                    self.fail(format!("{fields} field(s) where the header has {n}"));
                    return;
                }
                _ => {}
            }
            self.fields = 1;
            self.record_start = self.line + 1;
            self.record_bytes = 0;
        }
        self.line += 1;
        self.blank = true;
    }

    fn fail(&mut self, problem: String) {
        self.found = Some(MalformedLine {
            line: self.record_start,
            problem,
        });
    }
}

/// Checks the record structure of every CSV file of a source, reading each
/// file in chunks (ranged requests on S3, un-gzipped on the way): memory
/// stays bounded whatever the file. docs/INPUTS.md#the-checks: "a malformed CSV line ... gives its own clear message".
pub fn check_csv_lines(source: &ResolvedSource, files: &[Location]) -> Result<()> {
    let options = source.config.csv.clone().unwrap_or_default();
    let (delimiter, quote) = (options.delimiter_byte(), options.quote_byte());
    for file in files {
        let mut check = LineCheck::new(delimiter, quote);
        super::text_files::stream_text(source, file, &mut |bytes| check.feed(bytes))?;
        if let Some(bad) = check.finish() {
            return Err(Error::data(format!(
                "source `{}` (`{file}`), line {}: malformed CSV line: {}",
                source.name, bad.line, bad.problem
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check over `text` fed in chunks of every size from 1 byte up:
    /// the answer must not depend on where the chunks end.
    fn check(text: &str) -> Option<(usize, String)> {
        let whole = {
            let mut c = LineCheck::new(b',', b'"');
            c.feed(text.as_bytes());
            c.finish()
        };
        for size in 1..=text.len().max(1) {
            let mut c = LineCheck::new(b',', b'"');
            for chunk in text.as_bytes().chunks(size) {
                if !c.feed(chunk) {
                    break;
                }
            }
            assert_eq!(c.finish(), whole, "chunks of {size} bytes");
        }
        whole.map(|m| (m.line, m.problem))
    }

    #[test]
    fn finds_the_first_ragged_line() {
        assert_eq!(
            check("a,b,c\n1,\"x,y\",3\n4,\"multi\nline\",6\n7,8\n"),
            Some((5, "2 field(s) where the header has 3".to_string()))
        );
        // Blank lines are skipped; the last line may lack its `\n`.
        assert_eq!(check("a,b\n1,2\n\n3,4\n"), None);
        assert_eq!(check("a,b\n1,2\n \r\n3,4"), None);
        assert_eq!(
            check("a,b\n1,2\n3"),
            Some((3, "1 field(s) where the header has 2".to_string()))
        );
        assert_eq!(
            check("a,b\n1,\"open\n"),
            Some((2, "a quoted field is never closed".to_string()))
        );
        // A doubled quote inside a quoted field is an escaped quote.
        assert_eq!(check("a,b\n1,\"say \"\"hi\"\"\"\r\n"), None);
        // The quote closes on line 3 and text follows it: three fields, but
        // not a well-formed CSV record.
        assert_eq!(
            check("a,b,c\n1,\"x,0\n1,\"y,0\n"),
            Some((2, "text follows the closing quote of a field".to_string()))
        );
    }

    #[test]
    fn a_record_longer_than_the_cap_is_an_error_without_holding_it() {
        let mut c = LineCheck::new(b',', b'"');
        assert!(c.feed(b"a,b\n1,2\n"));
        // A file with no line break: fed 1 MiB at a time, never held.
        let chunk = vec![b'x'; 1024 * 1024];
        let mut fed = 0u64;
        while c.feed(&chunk) {
            fed += chunk.len() as u64;
            assert!(fed <= MAX_RECORD_BYTES, "the check must stop at the cap");
        }
        let found = c.finish().unwrap();
        assert_eq!(found.line, 3);
        assert!(
            found.problem.contains("longer than 16 MiB"),
            "{}",
            found.problem
        );
        // Exactly at the cap is accepted.
        let mut c = LineCheck::new(b',', b'"');
        assert!(c.feed(b"a\n"));
        let record = vec![b'y'; MAX_RECORD_BYTES as usize];
        assert!(c.feed(&record));
        assert_eq!(c.finish(), None);
    }

    /// The first record (by the line it starts on) whose field count differs
    /// from the header's, as the `csv` crate's own state machine reads the
    /// text. csv-core is lenient by design (a quote that is never closed, or
    /// text after a closing quote, are read without complaint), so it is the
    /// reference for well-formed quoting only, not the check itself.
    fn csv_core_first_ragged(text: &[u8]) -> Option<usize> {
        let mut reader = csv_core::Reader::new();
        let (mut output, mut ends) = (vec![0u8; text.len() + 1], vec![0usize; 1024]);
        let (mut consumed, mut header) = (0usize, None);
        // The line a record starts on: after the previous record and any
        // line breaks (blank lines are skipped).
        let line_at = |offset: usize| {
            let start = offset
                + text[offset..]
                    .iter()
                    .take_while(|b| **b == b'\r' || **b == b'\n')
                    .count();
            1 + text[..start].iter().filter(|b| **b == b'\n').count()
        };
        let mut start = line_at(0);
        loop {
            let (result, read, _, fields) =
                reader.read_record(&text[consumed..], &mut output, &mut ends);
            consumed += read;
            match result {
                csv_core::ReadRecordResult::Record => {
                    match header {
                        None => header = Some(fields),
                        Some(n) if n != fields => return Some(start),
                        Some(_) => {}
                    }
                    start = line_at(consumed);
                }
                // An empty input next ends the last record.
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::End => return None,
                other => panic!("{other:?}"),
            }
        }
    }

    /// One field as a CSV writer quotes it: quoted (quotes doubled) when it
    /// holds a delimiter, a quote or a line break, or is empty.
    fn field_text(value: &str) -> String {
        // Quoted also when blank: a line of spaces alone is a blank line.
        if value.trim().is_empty() || value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value.to_string()
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_csv_core_on_well_quoted_files(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a ,\"\n]{0,4}", 1..4),
                1..8,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let text: String = rows
                .iter()
                .map(|row| row.iter().map(|f| field_text(f)).collect::<Vec<_>>().join(",") + end)
                .collect();
            let ours = check(&text);
            let reference = csv_core_first_ragged(text.as_bytes());
            proptest::prop_assert_eq!(ours.as_ref().map(|(line, _)| *line), reference, "{:?}", text);
            if let Some((_, problem)) = ours {
                proptest::prop_assert!(problem.contains("field(s) where the header has"), "{}", problem);
            }
        }
    }
}
