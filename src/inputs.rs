//! The loaded inputs of a run: every configured source scanned (schema only),
//! metric requirements checked against the columns found, and fact tables
//! restricted to known accounts (SPEC §9: orphan rows are dropped).

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::config::{Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::source::file_checks::find_ragged_line;
use crate::source::{build_source, open_source, LoadedSource};
use crate::storage::Location;

/// Every configured source, scanned.
pub struct Inputs {
    pub sources: BTreeMap<SourceName, LoadedSource>,
    /// `account_id` of `accounts`, cached: every fact table is restricted to it.
    account_ids: Option<LazyFrame>,
}

impl Inputs {
    /// Scans every source of the pipeline (reads schemas, not data) and checks
    /// that each metric finds the sources and columns it needs.
    pub fn scan(pipeline: &Pipeline) -> Result<Inputs> {
        let opened = pipeline
            .sources
            .iter()
            .map(|(name, source)| Ok((*name, open_source(source)?)))
            .collect::<Result<Vec<_>>>()?;
        let id_type = if opened.iter().all(|(_, o)| o.integer_ids()) {
            DataType::Int64
        } else {
            DataType::String
        };
        let mut sources = BTreeMap::new();
        for (name, opened) in opened {
            let extra: &[String] = if name == SourceName::Accounts {
                &pipeline.segment_by
            } else {
                &[]
            };
            sources.insert(name, build_source(opened, extra, &id_type)?);
        }
        let account_ids = sources
            .get(&SourceName::Accounts)
            .map(|accounts| accounts.frame.clone().select([col("account_id")]).cache());
        let inputs = Inputs {
            sources,
            account_ids,
        };
        inputs.check_requirements(pipeline)?;
        Ok(inputs)
    }

    /// SPEC §4: "a metric that needs a missing source or column is a
    /// configuration error naming both". Every problem is reported at once.
    fn check_requirements(&self, pipeline: &Pipeline) -> Result<()> {
        let mut problems = Vec::new();
        for metric in &pipeline.metrics {
            for (source, column) in metric.metric().requires() {
                match self.sources.get(&source) {
                    None => {
                        let problem = format!("metric `{}` needs source `{source}`, which the pipeline does not define", metric.id());
                        if !problems.contains(&problem) {
                            problems.push(problem);
                        }
                    }
                    Some(loaded) if !loaded.has_column(column) => problems.push(format!(
                        "metric `{}` needs column `{column}` of source `{source}` ({}), which is missing",
                        metric.id(),
                        loaded.files_shown()
                    )),
                    Some(_) => {}
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        let list = problems
            .iter()
            .map(|p| format!("  - {p}"))
            .collect::<Vec<_>>()
            .join("\n");
        Err(Error::config(format!(
            "`{}`: the inputs do not fit the metrics:\n{list}",
            pipeline.file_path.display()
        )))
    }

    /// Turns an engine error raised while reading into a precise one when a
    /// CSV file of the inputs has a malformed line (SPEC §9: "a malformed CSV
    /// line ... gives its own clear message"). Only runs on the error path.
    pub fn diagnose(&self, err: Error) -> Error {
        if !matches!(err, Error::Other(_) | Error::Io(_)) {
            return err;
        }
        self.check_csv_lines().err().unwrap_or(err)
    }

    /// Every CSV line has as many fields as the header (quotes honoured);
    /// the CSV reader would otherwise drop or pad fields silently. Reads each
    /// CSV file once, line by line.
    pub fn check_csv_lines(&self) -> Result<()> {
        for (name, loaded) in &self.sources {
            if loaded.format != crate::config::FileFormat::Csv {
                continue;
            }
            let options = loaded.csv.clone();
            for file in &loaded.files {
                let delimiter = options
                    .delimiter
                    .as_bytes()
                    .first()
                    .copied()
                    .unwrap_or(b',');
                let quote = options.quote.as_bytes().first().copied().unwrap_or(b'"');
                let ragged = match file {
                    Location::Local(path) => std::fs::File::open(path).ok().and_then(|f| {
                        find_ragged_line(std::io::BufReader::new(f), delimiter, quote)
                    }),
                    Location::S3 { bucket, key } => match &loaded.s3 {
                        Some(s3) => {
                            let bytes = s3.get(bucket, key)?;
                            find_ragged_line(bytes.as_slice(), delimiter, quote)
                        }
                        None => None,
                    },
                };
                if let Some(bad) = ragged {
                    return Err(Error::Data(format!(
                        "source `{name}` (`{file}`), line {}: malformed CSV line: {}",
                        bad.line, bad.problem
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, name: SourceName) -> Option<&LoadedSource> {
        self.sources.get(&name)
    }

    /// The account ids of `accounts`.
    pub fn account_ids(&self) -> Result<LazyFrame> {
        self.account_ids
            .clone()
            .ok_or_else(|| Error::config("source `accounts` is required"))
    }

    /// A source's typed frame. Fact tables keep only rows whose account is in
    /// `accounts`; `accounts` gets a null `churn_date` when it has none.
    pub fn frame(&self, name: SourceName) -> Result<LazyFrame> {
        let loaded = self.loaded(name)?;
        if name == SourceName::Accounts {
            let frame = loaded.frame.clone();
            return Ok(if loaded.has_column("churn_date") {
                frame
            } else {
                frame.with_column(lit(NULL).cast(DataType::Date).alias("churn_date"))
            });
        }
        Ok(loaded.frame.clone().semi_join(
            self.account_ids()?,
            col("account_id"),
            col("account_id"),
        ))
    }

    /// Fact rows whose account is not in `accounts`.
    pub fn orphans(&self, name: SourceName) -> Result<LazyFrame> {
        let loaded = self.loaded(name)?;
        Ok(loaded.frame.clone().anti_join(
            self.account_ids()?,
            col("account_id"),
            col("account_id"),
        ))
    }

    fn loaded(&self, name: SourceName) -> Result<&LoadedSource> {
        self.sources.get(&name).ok_or_else(|| {
            Error::config(format!(
                "source `{name}` is needed but not defined in the pipeline"
            ))
        })
    }
}
