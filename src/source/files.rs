//! Which files a source path stands for: a file, a directory (every data file
//! below it, sorted) or a glob.

use std::path::{Path, PathBuf};

use crate::config::format_from_extension;
use crate::config::{FileFormat, ResolvedSource};
use crate::error::{Error, Result};

/// The files behind a source and their format.
#[derive(Debug, Clone)]
pub struct SourceFiles {
    pub files: Vec<PathBuf>,
    pub format: FileFormat,
}

/// Lists the files of a source in a stable (sorted) order.
pub fn list_files(source: &ResolvedSource) -> Result<SourceFiles> {
    let shown = source.location.display().to_string();
    let mut files = if source.is_glob {
        let pattern = source.location.to_string_lossy().to_string();
        let paths = glob::glob(&pattern).map_err(|e| {
            Error::config(format!(
                "`sources.{}.path`: invalid glob `{pattern}`: {e}",
                source.name
            ))
        })?;
        let mut files = Vec::new();
        for entry in paths {
            let path = entry.map_err(|e| {
                Error::Io(format!(
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
        let metadata = std::fs::metadata(&source.location).map_err(|e| {
            Error::Io(format!(
                "source `{}`: cannot read `{shown}`: {}",
                source.name,
                describe_io(&e)
            ))
        })?;
        if metadata.is_dir() {
            let mut files = Vec::new();
            walk(&source.location, &mut files).map_err(|e| {
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
            vec![source.location.clone()]
        }
    };
    files.sort();
    if files.is_empty() {
        return Err(Error::Io(format!(
            "source `{}`: no data files found at `{shown}`",
            source.name
        )));
    }
    let format = match source.format.or_else(|| format_from_extension(&files[0])) {
        Some(format) => format,
        None => {
            return Err(Error::config_hint(
                format!(
                    "source `{}`: cannot tell the format of `{}` from its name",
                    source.name,
                    files[0].display()
                ),
                format!(
                    "add `format: parquet` or `format: csv` to `sources.{}`",
                    source.name
                ),
            ))
        }
    };
    Ok(SourceFiles { files, format })
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
