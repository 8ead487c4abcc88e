//! Reading the pipeline file: interpolation, strict parsing with line and
//! column, and `--set KEY=VALUE` overrides.

use std::path::Path;

use serde_norway::{Mapping, Value};

use super::interpolate::interpolate;
use super::types::PipelineFile;
use crate::error::{Error, Result};

/// Options that change what is read from the pipeline file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--set a.b.c=value` overrides, applied in order.
    pub sets: Vec<String>,
}

/// Reads, interpolates and parses a pipeline file. Returns the parsed file and
/// its raw text (for the manifest's sha256).
pub fn load_pipeline_file(path: &Path, options: &LoadOptions) -> Result<(PipelineFile, String)> {
    let raw = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read pipeline file `{}`", path.display()), e))?;
    let shown = path.display().to_string();
    let text =
        interpolate(&raw, &|name| std::env::var(name).ok()).map_err(|e| prefix(&shown, e))?;
    let parsed = parse_pipeline_text(&text, &shown)?;
    if options.sets.is_empty() {
        return Ok((parsed, raw));
    }
    let mut value: Value = serde_norway::from_str(&text).map_err(|e| yaml_error(&shown, &e))?;
    for assignment in &options.sets {
        apply_set(&mut value, assignment)?;
    }
    let overridden = serde_norway::from_value(value).map_err(|e| {
        Error::config(format!(
            "`{shown}` after applying --set {}: {e}",
            options.sets.join(", ")
        ))
    })?;
    Ok((overridden, raw))
}

/// Parses pipeline text strictly: unknown keys, unknown metric ids and wrong
/// types are errors that name the line and column.
pub fn parse_pipeline_text(text: &str, shown: &str) -> Result<PipelineFile> {
    serde_norway::from_str(text).map_err(|e| yaml_error(shown, &e))
}

fn yaml_error(shown: &str, err: &serde_norway::Error) -> Error {
    let message = err.to_string();
    match err.location() {
        Some(loc) => {
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            Error::config(format!(
                "`{shown}`:{}:{}: {message}",
                loc.line(),
                loc.column()
            ))
        }
        None => Error::config(format!("`{shown}`: {message}")),
    }
}

fn prefix(shown: &str, err: Error) -> Error {
    match err {
        Error::Config { message, hint } => Error::Config {
            message: format!("`{shown}`: {message}"),
            hint,
        },
        other => other,
    }
}

/// Applies one `KEY=VALUE` override. KEY is a dotted path of mapping keys and
/// list indices; VALUE is read as a YAML scalar (`3`, `true`, `2026-01-01`).
/// A metric given as a bare id (`- nps`) is turned into `{nps: {}}` when a
/// parameter of it is set.
pub fn apply_set(root: &mut Value, assignment: &str) -> Result<()> {
    let Some((key, raw_value)) = assignment.split_once('=') else {
        return Err(Error::config(format!(
            "--set `{assignment}`: expected KEY=VALUE"
        )));
    };
    let segments: Vec<&str> = key.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(Error::config(format!(
            "--set `{assignment}`: empty path segment in `{key}`"
        )));
    }
    let value: Value = if raw_value.is_empty() {
        Value::String(String::new())
    } else {
        serde_norway::from_str(raw_value).unwrap_or_else(|_| Value::String(raw_value.to_string()))
    };
    if matches!(value, Value::Mapping(_) | Value::Sequence(_)) {
        return Err(Error::config(format!(
            "--set `{assignment}`: only scalar values can be set"
        )));
    }
    let mut node = root;
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        node = step(node, segment, last, assignment)?;
    }
    *node = value;
    Ok(())
}

fn step<'a>(
    node: &'a mut Value,
    segment: &str,
    last: bool,
    assignment: &str,
) -> Result<&'a mut Value> {
    if let Value::String(id) = node {
        if !last && id == segment {
            let mut map = Mapping::new();
            map.insert(Value::String(id.clone()), Value::Mapping(Mapping::new()));
            *node = Value::Mapping(map);
        }
    }
    match node {
        Value::Mapping(map) => {
            let key = Value::String(segment.to_string());
            if !map.contains_key(&key) {
                map.insert(
                    key.clone(),
                    if last {
                        Value::Null
                    } else {
                        Value::Mapping(Mapping::new())
                    },
                );
            }
            map.get_mut(&key).ok_or_else(|| {
                Error::config(format!("--set `{assignment}`: cannot set `{segment}`"))
            })
        }
        Value::Sequence(items) => {
            let len = items.len();
            let index: usize = segment.parse().map_err(|_| {
                Error::config(format!(
                    "--set `{assignment}`: `{segment}` indexes a list; use a number below {len}"
                ))
            })?;
            items.get_mut(index).ok_or_else(|| {
                Error::config(format!("--set `{assignment}`: index {index} is out of range (the list has {len} items)"))
            })
        }
        Value::Null => {
            *node = Value::Mapping(Mapping::new());
            step(node, segment, last, assignment)
        }
        _ => Err(Error::config(format!(
            "--set `{assignment}`: `{segment}` is inside a scalar value"
        ))),
    }
}
