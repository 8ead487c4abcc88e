//! Which files a source path stands for: a file, a directory (every data file
//! below it, sorted) or a glob; on local disk or on S3, where a "directory"
//! is a key prefix.

use std::path::{Path, PathBuf};

use crate::config::{format_from_extension, format_from_name};
use crate::config::{FileFormat, ResolvedSource};
use crate::error::{Error, Result};
use crate::storage::s3::{ObjectInfo, S3};
use crate::storage::Location;

/// The files behind a source and their format.
#[derive(Debug, Clone)]
pub struct SourceFiles {
    pub files: Vec<Location>,
    pub format: FileFormat,
    /// Whether the source path is a directory or prefix (not a file or glob).
    pub is_dir: bool,
}

/// Lists the files of a source in a stable (sorted) order.
pub fn list_files(source: &ResolvedSource) -> Result<SourceFiles> {
    match &source.location {
        Location::Local(path) => list_local(source, path),
        Location::S3 { bucket, key } => {
            let s3 = source
                .s3
                .as_ref()
                .ok_or_else(|| Error::other("S3 client missing for an s3:// source"))?;
            list_s3(source, s3, bucket, key)
        }
    }
}

fn list_local(source: &ResolvedSource, location: &Path) -> Result<SourceFiles> {
    let shown = location.display().to_string();
    let mut is_dir = false;
    let mut files = if source.is_glob {
        let pattern = location.to_string_lossy().to_string();
        let paths = glob::glob(&pattern).map_err(|e| {
            Error::config(format!(
                "`sources.{}.path`: invalid glob `{pattern}`: {e}",
                source.name
            ))
        })?;
        let mut files = Vec::new();
        for entry in paths {
            let path = entry.map_err(|e| {
                Error::io_failed(format!(
                    "source `{}`: cannot read `{}`: {e}",
                    source.name, shown
                ))
            })?;
            if path.is_file() {
                files.push(path);
            }
        }
        files
    } else {
        let metadata = std::fs::metadata(location).map_err(|e| {
            Error::io_failed(format!(
                "source `{}`: cannot read `{shown}`: {}",
                source.name,
                describe_io(&e)
            ))
        })?;
        if metadata.is_dir() {
            is_dir = true;
            let mut files = Vec::new();
            walk(location, &mut files).map_err(|e| {
                Error::io(
                    format!("source `{}`: cannot list `{shown}`", source.name),
                    e,
                )
            })?;
            files.retain(|f| {
                format_from_extension(f).is_some()
                    && source
                        .format
                        .is_none_or(|fmt| format_from_extension(f) == Some(fmt))
            });
            files
        } else {
            vec![location.to_path_buf()]
        }
    };
    files.sort();
    let first_format = files.first().and_then(|f| format_from_extension(f));
    finish(
        source,
        &shown,
        files.into_iter().map(Location::Local).collect(),
        first_format,
        is_dir,
    )
}

/// Lists an S3 source: a glob is matched against the keys under its literal
/// prefix (`*` does not cross `/`); a key ending in `/` is a prefix; any
/// other key is an object if one exists, else a prefix if anything is under
/// it. Names starting with `.` or `_` below a prefix are skipped, as on disk.
fn list_s3(source: &ResolvedSource, s3: &S3, bucket: &str, key: &str) -> Result<SourceFiles> {
    let shown = source.location.to_string();
    let data_file = |rel: &str| {
        !rel.split('/')
            .any(|part| part.starts_with('.') || part.starts_with('_'))
            && format_from_name(rel).is_some()
            && source
                .format
                .is_none_or(|fmt| format_from_name(rel) == Some(fmt))
    };
    let mut is_dir = false;
    let objects: Vec<ObjectInfo> = if source.is_glob {
        let literal = &key[..key.find(['*', '?', '[']).unwrap_or(key.len())];
        let prefix = &literal[..literal.rfind('/').map(|i| i + 1).unwrap_or(0)];
        let pattern = glob::Pattern::new(key).map_err(|e| {
            Error::config(format!(
                "`sources.{}.path`: invalid glob `{shown}`: {e}",
                source.name
            ))
        })?;
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        s3.list(bucket, prefix)?
            .into_iter()
            .filter(|o| pattern.matches_with(&o.key, options))
            .collect()
    } else if let Some(size) = (!key.is_empty() && !key.ends_with('/'))
        .then(|| s3.head(bucket, key))
        .transpose()?
        .flatten()
    {
        vec![ObjectInfo {
            key: key.to_string(),
            size,
            e_tag: None,
            modified: None,
        }]
    } else {
        let prefix = if key.is_empty() || key.ends_with('/') {
            key.to_string()
        } else {
            format!("{key}/")
        };
        is_dir = true;
        let all = s3.list(bucket, &prefix)?;
        if all.is_empty() {
            return Err(Error::io_failed(format!(
                "source `{}`: no such object or prefix `{shown}` (bucket `{bucket}`, key `{key}`)",
                source.name
            )));
        }
        all.into_iter()
            .filter(|o| data_file(&o.key[prefix.len()..]))
            .collect()
    };
    for object in &objects {
        crate::storage::check_s3_key(&object.key).map_err(|problem| {
            Error::config(format!(
                "source `{}`: cannot read `s3://{bucket}/{}`: {problem}",
                source.name, object.key
            ))
        })?;
    }
    if let Some(empty) = objects.iter().find(|o| o.size == 0) {
        return Err(Error::data(format!(
            "source `{}`: `s3://{bucket}/{}` is empty (not even a header line)",
            source.name, empty.key
        )));
    }
    let first_format = objects.first().and_then(|o| format_from_name(&o.key));
    let files = objects
        .into_iter()
        .map(|o| Location::S3 {
            bucket: bucket.to_string(),
            key: o.key,
        })
        .collect();
    finish(source, &shown, files, first_format, is_dir)
}

fn finish(
    source: &ResolvedSource,
    shown: &str,
    files: Vec<Location>,
    first_format: Option<FileFormat>,
    is_dir: bool,
) -> Result<SourceFiles> {
    if files.is_empty() {
        return Err(Error::io_failed(format!(
            "source `{}`: no data files found at `{shown}`",
            source.name
        )));
    }
    let format = match source.format.or(first_format) {
        Some(format) => format,
        None => {
            return Err(Error::config_hint(
                format!(
                    "source `{}`: cannot tell the format of `{}` from its name",
                    source.name, files[0]
                ),
                format!(
                    "add `format: parquet`, `format: csv` or `format: ndjson` to `sources.{}`",
                    source.name
                ),
            ))
        }
    };
    Ok(SourceFiles {
        files,
        format,
        is_dir,
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn describe_io(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}
