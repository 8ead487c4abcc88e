//! `${VAR}` and `${VAR:-default}` in the pipeline text come from the
//! environment (docs/OPERATING.md). `$$` writes a literal `$`. Substitution happens on
//! the text before parsing, line by line, so parse errors still point at the
//! right line; a value that holds a newline is rejected for that reason.

use crate::error::{Error, Result};

/// Replaces every `${…}` in `text` using `lookup` (normally `std::env::var`).
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        out.push_str(&interpolate_line(line, line_no + 1, lookup)?);
    }
    Ok(out)
}

fn interpolate_line(
    line: &str,
    line_no: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body_and_rest) = after.strip_prefix('{') {
            let Some(end) = body_and_rest.find('}') else {
                return Err(Error::config(format!(
                    "line {line_no}: unterminated `${{` in `{}`",
                    line.trim_end()
                )));
            };
            let body = &body_and_rest[..end];
            out.push_str(&resolve_variable(body, line_no, lookup)?);
            rest = &body_and_rest[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve_variable(
    body: &str,
    line_no: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    let (name, default) = match body.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (body, None),
    };
    let valid_name = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid_name {
        return Err(Error::config(format!(
            "line {line_no}: invalid variable name `{name}` in `${{{body}}}`"
        )));
    }
    let value = match (lookup(name), default) {
        (Some(value), _) => value,
        (None, Some(default)) => default.to_string(),
        (None, None) => {
            return Err(Error::config_hint(
                format!("line {line_no}: environment variable `{name}` is not set"),
                format!("set it, or give a default: `${{{name}:-value}}`"),
            ))
        }
    };
    if value.contains('\n') || value.contains('\r') {
        return Err(Error::config(format!(
            "line {line_no}: the value of `{name}` contains a line break"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "BUCKET" => Some("lake".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_variables_and_defaults() {
        let text =
            "a: s3://${BUCKET}/x\nb: ${MISSING:-fallback}\nc: '${EMPTY:-d}'\nd: $$HOME and $5\n";
        let out = interpolate(text, &env).unwrap();
        assert_eq!(out, "a: s3://lake/x\nb: fallback\nc: ''\nd: $HOME and $5\n");
    }

    #[test]
    fn unset_variable_names_line_and_variable() {
        let err = interpolate("a: 1\nb: ${NOPE}\n", &env).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(err.to_string().contains("`NOPE`"), "{err}");
    }

    #[test]
    fn rejects_bad_names_and_unterminated() {
        assert!(interpolate("a: ${1X}\n", &env).is_err());
        assert!(interpolate("a: ${X\n", &env).is_err());
    }
}
