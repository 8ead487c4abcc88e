//! The relation a dialect's rollup reads: the events source's files as
//! the engine's own reader takes them (DuckDB's `read_*`, a Spark view).

use super::{text, Dialect};
use crate::config::FileFormat;
use crate::error::{Error, Result};
use crate::source::LoadedSource;
use crate::storage::Location;

/// A location as a statement run elsewhere names it: local paths absolute.
fn absolute(location: &Location) -> String {
    match location {
        Location::Local(path) => std::path::absolute(path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string(),
        s3 => s3.to_string(),
    }
}

/// What to read: the statements that set it up, and the relation.
/// `text_ids`: the CSV's id columns, to be read as text (the run's ids are
/// text; DuckDB would otherwise infer integers and drop leading zeros).
pub(super) fn relation(
    dialect: Dialect,
    source: &crate::config::ResolvedSource,
    events: &LoadedSource,
    text_ids: &[String],
) -> Result<(Vec<String>, String)> {
    let format = events.format;
    let extension = match format {
        FileFormat::Parquet => "parquet",
        FileFormat::Csv => "csv",
        FileFormat::Ndjson => "json",
    };
    // Absolute: the statement runs elsewhere, from another directory.
    let location = absolute(&source.location);
    let is_dir = !source.is_glob
        && (location.ends_with('/')
            || matches!(&source.location, Location::Local(p) if p.is_dir()));
    let csv = &events.csv;
    match dialect {
        Dialect::Trino | Dialect::Bigquery | Dialect::Snowflake => Err(Error::config(format!(
            "dialect {} reads tables, not files: give `--table NAME`, the engine's table over the events \
             (its columns named as `sources.events.columns` maps them, `event_time` held as in {})",
            dialect.name(),
            events.files_shown()
        ))),
        Dialect::Duckdb => {
            // A directory of text files: the files this job lists (every
            // extension of the format, gzip'd or not, `_`/`.` names
            // skipped), as DuckDB's list of files; a glob would miss some
            // or take others.
            let listed = is_dir && format != FileFormat::Parquet && !source.config.hive_partitioning;
            let from = if listed {
                let files: Vec<String> = events
                    .files
                    .iter()
                    .map(|f| text(&absolute(f)))
                    .collect();
                format!("[{}]", files.join(", "))
            } else if is_dir {
                text(&format!("{}/**/*.{extension}", location.trim_end_matches('/')))
            } else {
                text(&location)
            };
            let hive = if source.config.hive_partitioning {
                ", hive_partitioning = true"
            } else {
                ""
            };
            Ok((
                Vec::new(),
                match format {
                    FileFormat::Parquet => format!("read_parquet({from}{hive})"),
                    FileFormat::Ndjson => {
                        format!("read_json({from}, format = 'newline_delimited')")
                    }
                    FileFormat::Csv => {
                        let nulls = if csv.null_values.is_empty() {
                            String::new()
                        } else {
                            let list: Vec<String> =
                                csv.null_values.iter().map(|v| text(v)).collect();
                            format!(", nullstr = [{}]", list.join(", "))
                        };
                        let types = if text_ids.is_empty() {
                            String::new()
                        } else {
                            let list: Vec<String> = text_ids
                                .iter()
                                .map(|c| format!("{}: 'VARCHAR'", text(c)))
                                .collect();
                            format!(", types = {{{}}}", list.join(", "))
                        };
                        format!(
                            "read_csv({from}, header = {}, delim = {}, quote = {}{nulls}{types}{hive})",
                            csv.header,
                            text(&csv.delimiter),
                            text(&csv.quote)
                        )
                    }
                },
            ))
        }
        Dialect::Spark => {
            if format == FileFormat::Csv && csv.null_values.len() > 1 {
                return Err(Error::config(format!(
                    "`sources.events.csv.null_values` ({} values) cannot be expressed in dialect spark, \
                     whose CSV reader takes one `nullValue`",
                    csv.null_values.len()
                )));
            }
            let mut options = vec![format!("path {}", text(&location))];
            if format == FileFormat::Csv {
                options.push(format!("header {}", text(&csv.header.to_string())));
                options.push(format!("sep {}", text(&csv.delimiter)));
                options.push(format!("quote {}", text(&csv.quote)));
                if let Some(null) = csv.null_values.first() {
                    options.push(format!("nullValue {}", text(null)));
                }
            }
            if is_dir {
                options.push("recursiveFileLookup 'true'".to_string());
            }
            Ok((
                vec![format!(
                    "CREATE OR REPLACE TEMPORARY VIEW cohort_metrics_events\nUSING {extension}\nOPTIONS ({})",
                    options.join(", ")
                )],
                "cohort_metrics_events".to_string(),
            ))
        }
    }
}
