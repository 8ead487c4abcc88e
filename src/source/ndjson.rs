//! NDJSON sources (docs/INPUTS.md, "NDJSON"): one JSON object per line,
//! plain or gzip'd. Nested objects become dotted column names
//! (`groups.company`), so `columns` can name a nested field the way the
//! export shows it.

use std::num::NonZeroUsize;

use polars::io::cloud::CloudOptions;
use polars::prelude::*;
use polars_buffer::Buffer;

use super::text_files::stream_text;
use crate::config::ResolvedSource;
use crate::error::{Error, Result};
use crate::storage::Location;

/// How many lines the column types are inferred from. A key first seen
/// later is not a column; a value of another type later fails the read
/// with the reader's message.
const INFER_LINES: usize = 10_000;

/// The lazy scan of a source's NDJSON files.
pub(super) fn scan_ndjson(
    source: &ResolvedSource,
    paths: Buffer<PlRefPath>,
    cloud: Option<CloudOptions>,
) -> Result<LazyFrame> {
    if source.config.hive_partitioning {
        return Err(Error::config(format!(
            "`sources.{}.hive_partitioning` is for Parquet and CSV directories, not NDJSON",
            source.name
        )));
    }
    LazyJsonLineReader::new_paths(paths)
        .with_infer_schema_length(NonZeroUsize::new(INFER_LINES))
        .with_cloud_options(cloud)
        .finish()
        .map_err(|e| Error::engine(&format!("source `{}`", source.name), e))
}

/// Every field of every nested object as a column of its own, named by its
/// dotted path (`groups.company`); a top-level key that already has that
/// name keeps it.
pub fn flatten(scanned: LazyFrame, schema: &Schema) -> (LazyFrame, SchemaRef) {
    if !schema
        .iter_values()
        .any(|d| matches!(d, DataType::Struct(_)))
    {
        return (scanned, Arc::new(schema.clone()));
    }
    let mut columns: Vec<(String, Expr, DataType)> = Vec::new();
    for (name, dtype) in schema.iter() {
        leaves(name.as_str(), col(name.as_str()), dtype, &mut columns);
    }
    let mut seen = std::collections::HashSet::new();
    let mut exprs = Vec::new();
    let mut flat = Schema::with_capacity(columns.len());
    // Top-level keys first, so that a literal `a.b` key wins over `a`'s `b`.
    columns.sort_by_key(|(name, _, _)| !schema.contains(name));
    for (name, expr, dtype) in columns {
        if seen.insert(name.clone()) {
            exprs.push(expr.alias(name.as_str()));
            flat.insert(name.into(), dtype);
        }
    }
    (scanned.select(exprs), Arc::new(flat))
}

fn leaves(name: &str, expr: Expr, dtype: &DataType, out: &mut Vec<(String, Expr, DataType)>) {
    match dtype {
        DataType::Struct(fields) if !fields.is_empty() => {
            for field in fields {
                let path = format!("{name}.{}", field.name());
                let inner = expr.clone().struct_().field_by_name(field.name());
                leaves(&path, inner, field.dtype(), out);
            }
        }
        _ => out.push((name.to_string(), expr, dtype.clone())),
    }
}

/// Every NDJSON file starts with a JSON object: a JSON array (`[` … `]`, what
/// many APIs return) or a CSV file named `.json` gets its own message
/// instead of a parser error (docs/INPUTS.md#the-checks).
pub fn check_ndjson_files(source: &ResolvedSource, files: &[Location]) -> Result<()> {
    for file in files {
        let mut first = None;
        stream_text(source, file, &mut |bytes| {
            first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
            first.is_none()
        })?;
        let problem = match first {
            Some(b'{') => continue,
            None => "holds no JSON object (empty after decompression)".to_string(),
            Some(0xEF) => "starts with a UTF-8 byte order mark, which the NDJSON reader does not \
                           take: save it without one"
                .to_string(),
            Some(b'[') => "is one JSON array, not newline-delimited JSON (one object per line); \
                           convert it with `jq -c '.[]'`"
                .to_string(),
            Some(other) => format!(
                "does not start with a JSON object (`{{`) but with `{}`: is it NDJSON?",
                char::from(other).escape_default()
            ),
        };
        return Err(Error::data(format!(
            "source `{}`: `{file}` {problem}",
            source.name
        )));
    }
    Ok(())
}
