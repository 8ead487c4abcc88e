//! Reading a source: its files listed, its schema read (Parquet footers,
//! CSV headers), its columns renamed from `columns` and typed, into a
//! [`LoadedSource`] (docs/INPUTS.md, "How a source is read").

use polars::prelude::*;
use polars_buffer::Buffer;

use super::columns::{
    check_shapes, declared_number, list_columns, missing_churn_date, missing_column, type_column,
    Written,
};
use super::dates::DayFormat;
use super::files::{list_files, SourceFiles};
use super::loaded::{typed_column, with_typed_columns, LoadedSource};
use super::tables::{columns_for, ColumnKind};
use crate::config::{CsvOptions, FileFormat, ResolvedSource, SourceName};
use crate::error::{Error, Result};
use crate::storage::Location;

/// A source whose files are listed and whose schema is read, not yet typed.
pub struct OpenedSource<'a> {
    source: &'a ResolvedSource,
    files: Vec<Location>,
    format: FileFormat,
    scanned: LazyFrame,
    schema: SchemaRef,
    what: String,
}

/// What the id columns of a source allow (see [`build_source`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdValues {
    /// Integer columns whose values all fit in Int64 (typed Parquet).
    Integers,
    /// CSV text: integers only if every value is an integer's own decimal
    /// form, which only reading the values can tell.
    TextToCheck,
    /// Text columns of a typed file: compared as written.
    Text,
}

impl OpenedSource<'_> {
    /// What the id columns present in the files allow.
    pub fn id_values(&self) -> IdValues {
        if self.format == FileFormat::Csv {
            return IdValues::TextToCheck;
        }
        let integers = self.id_columns().all(|(_, dtype)| {
            // Only types every value of which fits in Int64 exactly.
            matches!(
                dtype,
                DataType::Int8
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::UInt8
                    | DataType::UInt16
                    | DataType::UInt32
            )
        });
        if integers {
            IdValues::Integers
        } else {
            IdValues::Text
        }
    }

    /// A one-row query that is true when every non-null value of every id
    /// column is the decimal form an Int64 prints (`7`, `-7`; not `007`,
    /// `+7`, ` 7`, `7.0` or an integer beyond Int64): exactly the text for
    /// which comparing integers is comparing what was written, and for
    /// which writing the integer back gives the input bytes.
    pub fn ids_are_canonical_integers(&self) -> LazyFrame {
        let checks: Vec<Expr> = self
            .id_columns()
            .map(|(name, _)| {
                let c = col(name.as_str());
                c.clone()
                    .is_null()
                    .or(c.clone().cast(DataType::Int64).cast(DataType::String).eq(c))
                    .fill_null(lit(false))
                    .all(true)
                    .alias(name.as_str())
            })
            .collect();
        let all = checks
            .into_iter()
            .reduce(Expr::and)
            .unwrap_or_else(|| lit(true));
        self.scanned.clone().select([all.alias("canonical")])
    }

    /// The id columns present in the files: name in the file, type.
    fn id_columns(&self) -> impl Iterator<Item = (String, &DataType)> + '_ {
        columns_for(self.source)
            .iter()
            .filter(|spec| spec.kind == ColumnKind::Id)
            .filter_map(|spec| {
                let name = file_name_of(self.source, spec.name);
                self.schema.get(&name).map(|dtype| (name, dtype))
            })
    }
}

/// The name in the file of a canonical column (the source's `columns` map).
pub fn file_name_of(source: &ResolvedSource, canonical: &str) -> String {
    source
        .config
        .columns
        .get(canonical)
        .cloned()
        .unwrap_or_else(|| canonical.to_string())
}

/// Lists a source's files and reads their schema; no data is read.
pub fn open_source(source: &ResolvedSource) -> Result<OpenedSource<'_>> {
    let SourceFiles {
        files,
        format,
        is_dir,
    } = list_files(source)?;
    super::file_checks::check_not_empty(source.name, &files)?;
    match format {
        FileFormat::Parquet => super::file_checks::check_parquet_files(source, &files)?,
        // Before any read by the CSV reader, which would drop or pad fields
        // of a ragged line silently.
        FileFormat::Csv => super::file_checks::check_csv_lines(source, &files)?,
        FileFormat::Ndjson => super::ndjson::check_ndjson_files(source, &files)?,
    }
    let scanned = scan_files(source, &files, format, is_dir)?;
    let what = format!("source `{}` ({})", source.name, shown_files(&files));
    let schema = scanned.clone().collect_schema().map_err(|e| match e {
        PolarsError::NoData(_) => {
            Error::data(format!("{what}: the file has no header line (no columns)"))
        }
        other => Error::engine(&what, other),
    })?;
    let (scanned, schema) = match format {
        FileFormat::Ndjson => super::ndjson::flatten(scanned, &schema),
        _ => (scanned, schema),
    };
    let scanned = super::row_filter::filter_rows(source, scanned, &schema, &what)?;
    Ok(OpenedSource {
        source,
        files,
        format,
        scanned,
        schema,
        what,
    })
}

/// Builds the normalized lazy frame of an opened source. `extra` names
/// non-canonical columns to keep as they are, each with the pipeline key
/// that asks for it (the `segment_by` and `adjust.covariates` columns of
/// `accounts`). Ids become `id_type`: String (always correct: docs/INPUTS.md "ids
/// are compared as strings"), or Int64 when every id column of every
/// source is an integer column or CSV text whose every value is an
/// integer's own decimal form (see
/// [`OpenedSource::ids_are_canonical_integers`]): there comparing the
/// integers is the same as comparing the strings and much faster, and the
/// output writes the same bytes back.
pub fn build_source(
    opened: OpenedSource<'_>,
    extra: &[(String, &'static str)],
    id_type: &DataType,
) -> Result<LoadedSource> {
    let OpenedSource {
        source,
        files,
        format,
        scanned,
        schema,
        what,
    } = opened;

    check_shapes(source)?;
    // Every column named in `columns` must exist.
    for (canonical, in_file) in &source.config.columns {
        if !schema.contains(in_file) {
            return Err(missing_column(&what, in_file, &schema, Some(canonical)));
        }
    }
    let file_name_of = |canonical: &str| file_name_of(source, canonical);

    let mut raw_exprs = Vec::new();
    let mut typed_exprs = Vec::new();
    let mut columns = Vec::new();
    let mut parse_checks = Vec::new();
    let mut account_via = None;
    let mut raw_days = Vec::new();
    let spec_of_source = columns_for(source);
    let status = super::status::status_in_file(source, &schema);
    for spec in spec_of_source {
        let in_file = match (&status, spec.name) {
            (Some(status), "status") => status.clone(),
            _ => file_name_of(spec.name),
        };
        let Some(dtype) = schema.get(&in_file) else {
            // A fact source keyed by user (an LMS export by email) takes its
            // accounts from `users` (`Inputs::scan`).
            // `columns.account_name` given: the company name is the key,
            // even when the file also has a user id.
            let via_users = spec.name == "account_id"
                && !matches!(source.name, SourceName::Accounts | SourceName::Users)
                && spec_of_source.iter().any(|c| c.name == "user_id")
                && schema.contains(&file_name_of("user_id"))
                && !source.config.columns.contains_key("account_name");
            if via_users {
                account_via = Some(super::AccountKey::User);
                continue;
            }
            // A fact source that names the company (a help desk export)
            // takes its accounts from the `name` of `accounts`.
            let by_name = file_name_of("account_name");
            let via_names = spec.name == "account_id"
                && !matches!(source.name, SourceName::Accounts | SourceName::Users)
                && schema.contains(&by_name);
            if via_names {
                account_via = Some(super::AccountKey::Name);
                raw_exprs.push(col(by_name.as_str()).alias("account_name"));
                typed_exprs.push(
                    col("account_name")
                        .cast(DataType::String)
                        .alias("account_name"),
                );
                columns.push("account_name".to_string());
                continue;
            }
            if spec.required {
                return Err(missing_column(&what, &in_file, &schema, None));
            }
            if source.name == SourceName::Accounts
                && spec.name == "churn_date"
                && source.config.churn.is_none()
            {
                return Err(missing_churn_date(&what, &in_file, &schema));
            }
            continue;
        };
        raw_exprs.push(col(in_file.as_str()).alias(spec.name));
        let written = Written {
            day: match source.config.types.get(spec.name) {
                Some(text) => DayFormat::parse(text).ok_or_else(|| {
                    Error::config(format!(
                        "`sources.{}.types.{}`: `{text}` is not `epoch_s`, `epoch_ms` or a strftime format such as \"%m/%d/%Y\"",
                        source.name, spec.name
                    ))
                })?,
                None => DayFormat::Iso,
            },
            scale: source.config.scale.get(spec.name).copied(),
        };
        if spec.kind == ColumnKind::Day {
            raw_days.push((spec.name, dtype.clone(), written.day.clone()));
        }
        let (typed, check) = type_column(spec, dtype, &what, id_type, &written)?;
        typed_exprs.push(typed.alias(spec.name));
        if let Some(check) = check {
            parse_checks.push(check);
        }
        columns.push(spec.name.to_string());
    }
    for (name, key) in extra {
        let in_file = file_name_of(name);
        if !schema.contains(&in_file) {
            return Err(Error::config(format!(
                "`{key}` names `{name}`, which {what} does not have; its columns are: {}",
                list_columns(&schema)
            )));
        }
        if !columns.contains(name) {
            raw_exprs.push(col(in_file.as_str()).alias(name.as_str()));
            let (typed, check) = declared_number(source, name);
            typed_exprs.push(typed.alias(name.as_str()));
            parse_checks.extend(check);
            columns.push(name.clone());
        }
    }
    let raw = scanned.select(raw_exprs);
    // CSV parsing (dates above all) is the costly part of a CSV scan: parse
    // each CSV source once per query and share it between all its uses.
    let raw = if format == FileFormat::Csv {
        raw.cache()
    } else {
        raw
    };
    let checked = with_typed_columns(raw.clone(), &typed_exprs, &columns);
    let in_checked = typed_exprs.clone();
    // After `checked`: a date on a row that is not completed still parses.
    super::status::gate_completions(source, &mut typed_exprs, &columns, &what, &schema)?;
    let typed_over_checked = columns
        .iter()
        .zip(typed_exprs.iter().zip(in_checked))
        .map(|(name, (typed, checked))| {
            let over_checked = match *typed == checked {
                true => col(typed_column(name)),
                false => typed.clone(),
            };
            (name.clone(), over_checked)
        })
        .collect();
    let frame = raw.clone().select(typed_exprs.clone());
    Ok(LoadedSource {
        currency: None,
        typed: typed_exprs,
        typed_over_checked,
        spilled: false,
        accounts_by: None,
        raw_days,
        checked,
        csv: source.config.csv.clone().unwrap_or_default(),
        name: source.name,
        s3: source.s3.clone(),
        files,
        format,
        raw,
        frame,
        columns,
        parse_checks,
        account_via,
        derived: Vec::new(),
        spec: spec_of_source,
        written_by_store: source.written_by_store,
    })
}

fn scan_files(
    source: &ResolvedSource,
    files: &[Location],
    format: FileFormat,
    is_dir: bool,
) -> Result<LazyFrame> {
    let what = format!("source `{}`", source.name);
    let paths: Vec<PlRefPath> = if source.config.hive_partitioning && is_dir {
        // The directory itself, so that polars reads the partition columns
        // from the `key=value` path segments.
        let dir = match &source.location {
            Location::S3 { bucket, key } if !key.is_empty() && !key.ends_with('/') => {
                Location::S3 {
                    bucket: bucket.clone(),
                    key: format!("{key}/"),
                }
            }
            other => other.clone(),
        };
        vec![dir.polars_path()]
    } else {
        files.iter().map(Location::polars_path).collect()
    };
    let cloud = source.s3.as_ref().map(|s3| s3.cloud_options().clone());
    let paths = Buffer::from_iter(paths);
    match format {
        FileFormat::Parquet => {
            let hive = source.config.hive_partitioning;
            let mut args = ScanArgsParquet {
                // Files are listed by us; only a Hive directory is expanded
                // by polars.
                glob: hive,
                cloud_options: cloud,
                ..ScanArgsParquet::default()
            };
            if hive {
                args.hive_options.enabled = Some(true);
            }
            LazyFrame::scan_parquet_files(paths, args).map_err(|e| Error::engine(&what, e))
        }
        FileFormat::Csv => {
            let options = source.config.csv.clone().unwrap_or_default();
            csv_reader(paths, &options)
                .with_cloud_options(cloud)
                .finish()
                .map_err(|e| Error::engine(&what, e))
        }
        FileFormat::Ndjson => super::ndjson::scan_ndjson(source, paths, cloud),
    }
}

fn csv_reader(paths: Buffer<PlRefPath>, options: &CsvOptions) -> LazyCsvReader {
    let null_values = if options.null_values.is_empty() {
        None
    } else {
        Some(NullValues::AllColumns(
            options
                .null_values
                .iter()
                .map(|s| PlSmallStr::from(s.as_str()))
                .collect(),
        ))
    };
    LazyCsvReader::new_paths(paths)
        .with_glob(false)
        .with_has_header(options.header)
        .with_separator(options.delimiter_byte())
        .with_quote_char(Some(options.quote_byte()))
        .with_null_values(null_values)
        .with_skip_rows_after_header(if options.header {
            options.skip_rows_after_header
        } else {
            0
        })
        .with_try_parse_dates(false)
        // Every column as the text that was written: no type is guessed from
        // the first rows (a guessed integer loses `007`'s zeros, and a text
        // value after the guessing window would fail the read). Ids stay
        // text unless every value proves integer (`Inputs::scan`), numbers
        // and dates are parsed per column with a check that names bad rows.
        .with_infer_schema_length(Some(0))
}

fn shown_files(files: &[Location]) -> String {
    match files {
        [one] => format!("`{one}`"),
        many => format!("`{}` and {} more files", many[0], many.len() - 1),
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    #[test]
    fn renamed_columns_csv_options_and_time_zones() {
        // accounts with other column names, `;` as delimiter and "NA" as null.
        // NPS responses with offsets: 2025-12-31T23:30:00-02:00 is 2026-01-01T01:30Z → on A, excluded;
        // 2025-11-01T01:00:00+02:00 is 2025-10-31T23:00Z → before S, excluded; 2025-11-01T00:30:00+00:30 is
        // 2025-11-01T00:00Z → on S, included; a datetime without zone is UTC.
        let fixture = Fixture::tiny();
        fixture.file(
            "accounts_renamed.csv",
            "id;joined;left;plan\n1;2025-01-01;NA;a\n2;2025-01-01;2025-11-01;a\n3;2025-01-01;2026-01-01;b\n",
        );
        fixture.file(
            "nps_tz.csv",
            "account_id,responded_at,score\n1,2025-12-31T23:30:00-02:00,10\n2,2025-11-01T01:00:00+02:00,10\n\
             3,2025-11-01T00:30:00+00:30,0\n1,2025-12-31 23:59:59,9\n",
        );
        // Three of the eight accounts: most fact rows are orphans, on purpose.
        let text = std::fs::read_to_string(
            fixture.pipeline("[nps, logo_retention]", "quality: { max_orphan_share: 1 }"),
        )
            .unwrap()
            .replace(
                "accounts: { path: accounts.csv }",
                "accounts: { path: accounts_renamed.csv, columns: { account_id: id, signup_date: joined, churn_date: left }, \
                 csv: { delimiter: \";\", null_values: [NA] } }",
            )
            .replace("nps_responses: { path: nps.csv }", "nps_responses: { path: nps_tz.csv }");
        let c = fixture.compute_path(fixture.file("renamed.yaml", &text));
        // pop(S) = {1, 2, 3}; 2 churns on S → retained {1, 3} = 2/3.
        assert_close(value(&c, "logo_retention", "all"), 2.0 / 3.0);
        // Kept: 3 → 0 (detractor), 1 → 9 (promoter): NPS = 100 × (1 − 1)/2 = 0.
        let nps = row(&c, "nps", "all", None, None);
        assert_eq!((nps.numerator, nps.denominator), (Some(0.0), Some(2.0)));
    }

    #[test]
    fn directories_and_globs_read_every_file() {
        // The revenue table split over two files in a directory; `_`/`.` files are skipped.
        let fixture = Fixture::tiny();
        let dir = fixture.dir.path().join("revenue_parts");
        std::fs::create_dir(&dir).unwrap();
        let (head, tail) = REVENUE.split_at(REVENUE.find("4,2025-10-01").unwrap());
        std::fs::write(dir.join("part-0.csv"), head).unwrap();
        std::fs::write(
            dir.join("part-1.csv"),
            format!("account_id,month,mrr\n{tail}"),
        )
        .unwrap();
        std::fs::write(
            dir.join("_ignored.csv"),
            "account_id,month,mrr\n1,2025-10-01,1000000\n",
        )
        .unwrap();
        for path in ["revenue_parts", "revenue_parts/part-*.csv"] {
            let text = std::fs::read_to_string(fixture.pipeline("[net_revenue_retention]", ""))
                .unwrap()
                .replace(
                    "revenue: { path: revenue.csv }",
                    &format!("revenue: {{ path: \"{path}\" }}"),
                );
            let c = fixture.compute_path(fixture.file("parts.yaml", &text));
            // Same as the single file: NRR = 165/380.
            assert_close(value(&c, "net_revenue_retention", "all"), 165.0 / 380.0);
            assert_eq!(c.files[&crate::config::SourceName::Revenue].1.len(), 2);
        }
    }
}
