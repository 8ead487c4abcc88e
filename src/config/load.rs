//! Reading the pipeline file: interpolation, strict parsing with line and
//! column, and `--set KEY=VALUE` overrides.

use std::path::Path;

use serde::de::DeserializeOwned;

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
pub fn load_pipeline_file<M: DeserializeOwned>(
    path: &Path,
    options: &LoadOptions,
) -> Result<(PipelineFile<M>, String)> {
    let shown = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(format!("cannot read pipeline file `{shown}`"), e))?
        .len();
    if size > MAX_PIPELINE_BYTES {
        return Err(Error::config(format!(
            "`{shown}` is {size} bytes: a pipeline file is at most {MAX_PIPELINE_BYTES} bytes (1 MiB); is this the \
             pipeline file?"
        )));
    }
    let raw = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read pipeline file `{shown}`"), e))?;
    check_nesting(&raw, &shown)?;
    let public = public_variables(&raw);
    let text = interpolate(&raw, &|name: &str| secret_aware_env(name, &public))
        .map_err(|e| prefix(&shown, e))?;
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

/// The largest pipeline file read (a real one is a few kilobytes; a large
/// one costs the YAML parser seconds and gigabytes).
const MAX_PIPELINE_BYTES: u64 = 1024 * 1024;
/// The deepest nesting of `[`/`{` or of indentation levels accepted.
const MAX_NESTING: usize = 64;

/// Refuses text nested deeper than [`MAX_NESTING`] before it is parsed:
/// flow collections (`[`, `{` outside quotes and comments) or indentation
/// (counted in steps of two spaces).
fn check_nesting(text: &str, shown: &str) -> Result<()> {
    let mut depth = 0usize;
    for (number, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if depth > MAX_NESTING || indent / 2 > MAX_NESTING {
            return Err(Error::config(format!(
                "`{shown}`, line {}: nested deeper than {MAX_NESTING} levels; a pipeline file needs a few",
                number + 1
            )));
        }
    }
    Ok(())
}

/// A variable of the environment; its value is registered with the
/// redaction, so that it is masked wherever it lands, unless its name is
/// public (docs/OPERATING.md#secrets).
fn secret_aware_env(name: &str, public: &[String]) -> Option<String> {
    let value = std::env::var(name).ok()?;
    if !crate::redact::is_public_name(name, public) {
        crate::redact::register(&value);
    }
    Some(value)
}

/// The names the pipeline lists in `public_variables`, read from its text
/// before interpolation (none when that text is not YAML yet).
fn public_variables(raw: &str) -> Vec<String> {
    let Ok(Value::Mapping(map)) = serde_norway::from_str::<Value>(raw) else {
        return Vec::new();
    };
    map.get("public_variables")
        .and_then(Value::as_sequence)
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses pipeline text strictly: unknown keys, unknown metric ids and wrong
/// types are errors that name the line and column.
pub fn parse_pipeline_text<M: DeserializeOwned>(
    text: &str,
    shown: &str,
) -> Result<PipelineFile<M>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricConfig;

    type File = PipelineFile<MetricConfig>;

    fn parse_pipeline_text(text: &str, shown: &str) -> Result<File> {
        super::parse_pipeline_text(text, shown)
    }

    const PIPELINE: &str = "name: t
sources:
  accounts: { path: a.csv }
period: { as_of: 2026-01-01 }
metrics:
  - logo_retention
  - retention_curve: { max_months: 6 }
  - csat:
output: { path: out }
";

    #[test]
    fn parses_ids_and_ids_with_parameters() {
        let file = parse_pipeline_text(PIPELINE, "p.yaml").unwrap();
        let ids: Vec<&str> = file.metrics.iter().map(|m| m.id()).collect();
        assert_eq!(ids, ["logo_retention", "retention_curve", "csat"]);
        match &file.metrics[1] {
            MetricConfig::RetentionCurve(p) => assert_eq!(p.max_months, 6),
            other => panic!("{other:?}"),
        }
        match &file.metrics[2] {
            MetricConfig::Csat(p) => assert_eq!((p.satisfied_min, p.scale_max), (4, 5)),
            other => panic!("{other:?}"),
        }
        assert_eq!(file.period.months, 12);
        assert_eq!(file.cohort.window_days, 90);
    }

    #[test]
    fn errors_name_line_and_column() {
        let bad_param = PIPELINE.replace("max_months: 6", "max_month: 6");
        let err = parse_pipeline_text(&bad_param, "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("`p.yaml`:7:"), "{err}");
        assert!(err.contains("unknown field `max_month`"), "{err}");
        let wrong_type = PIPELINE.replace("max_months: 6", "max_months: six");
        let err = parse_pipeline_text(&wrong_type, "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":7:") && err.contains("invalid type"), "{err}");
        let bad_date = PIPELINE.replace("2026-01-01", "2026-13-01");
        let err = parse_pipeline_text(&bad_date, "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":4:") && err.contains("invalid date `2026-13-01`"),
            "{err}"
        );
        let unknown_source = PIPELINE.replace("accounts: {", "acounts: {");
        let err = parse_pipeline_text(&unknown_source, "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":3:") && err.contains("acounts"), "{err}");
        let two_keys = PIPELINE.replace(
            "- retention_curve: { max_months: 6 }",
            "- { retention_curve: {}, nps: {} }",
        );
        let err = parse_pipeline_text(&two_keys, "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("second key `nps`"), "{err}");
    }

    #[test]
    fn set_overrides_scalars_by_path() {
        let mut value: Value = serde_norway::from_str(PIPELINE).unwrap();
        apply_set(&mut value, "period.months=3").unwrap();
        apply_set(&mut value, "cohort.window_days=30").unwrap();
        apply_set(&mut value, "metrics.1.retention_curve.max_months=12").unwrap();
        let file: File = serde_norway::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.period.months, 3);
        assert_eq!(file.cohort.window_days, 30);
        match &file.metrics[1] {
            MetricConfig::RetentionCurve(p) => assert_eq!(p.max_months, 12),
            other => panic!("{other:?}"),
        }
        // An unknown parameter is caught when the result is read.
        let mut unknown: Value = serde_norway::from_str(PIPELINE).unwrap();
        apply_set(&mut unknown, "metrics.0.logo_retention.x=1").unwrap();
        assert!(serde_norway::from_value::<File>(unknown)
            .unwrap_err()
            .to_string()
            .contains("unknown field `x`"));
        // A bare id becomes `{id: {}}` when one of its parameters is set.
        let mut value: Value = serde_norway::from_str(PIPELINE).unwrap();
        apply_set(&mut value, "metrics.2.csat.satisfied_min=3").unwrap();
        let file: File = serde_norway::from_value(value).unwrap();
        match &file.metrics[2] {
            MetricConfig::Csat(p) => assert_eq!(p.satisfied_min, 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn set_rejects_bad_paths() {
        let mut value: Value = serde_norway::from_str(PIPELINE).unwrap();
        assert!(apply_set(&mut value, "period.months").is_err());
        assert!(apply_set(&mut value, "metrics.9.x=1")
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        assert!(apply_set(&mut value, "name.x=1")
            .unwrap_err()
            .to_string()
            .contains("inside a scalar"));
        assert!(apply_set(&mut value, "period..months=1").is_err());
    }
}
