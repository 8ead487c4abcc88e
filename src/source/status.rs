//! Completion, not enrolment (docs/INPUTS.md#training--one-row-per-enrolment-or-completion-course--learner):
//! an LMS enrolments export has a row per enrolment with a status
//! (Subscribed, In Progress, Completed). With `completed_values`, a row
//! whose `status` is not one of them has no completion, whatever its
//! `completed_at` holds.

use polars::prelude::*;

use crate::config::{ResolvedSource, SourceName};
use crate::error::{Error, Result};

/// The file column read as `training.status`: the one `columns` maps, a
/// column named `status`, or else the file's only column whose name holds
/// "status" (any case), so that the checks see an unmapped `Enrollment
/// Status` too.
pub(super) fn status_in_file(source: &ResolvedSource, schema: &Schema) -> Option<String> {
    if source.name != SourceName::Training {
        return None;
    }
    if let Some(mapped) = source.config.columns.get("status") {
        return Some(mapped.clone());
    }
    if schema.contains("status") {
        return Some("status".to_string());
    }
    // A column mapped to another canonical column (`completed_at: Status
    // Date`) is not the status.
    let mapped: Vec<&String> = source.config.columns.values().collect();
    let mut like = schema.iter_names().filter(|n| {
        n.to_lowercase().contains("status") && !mapped.iter().any(|m| m.as_str() == n.as_str())
    });
    match (like.next(), like.next()) {
        (Some(one), None) => Some(one.to_string()),
        _ => None,
    }
}

/// A status as compared: trimmed, lower case.
pub fn normalized(status: Expr) -> Expr {
    status
        .cast(DataType::String)
        .str()
        .strip_chars(lit(NULL))
        .str()
        .to_lowercase()
}

/// `completed_at` kept only on rows whose status is one of `values`
/// (any case, spaces around ignored): replaces the typed `completed_at`
/// expression in `typed`. Without a `status` column, `completed_values` is
/// an error naming the file's columns.
pub(super) fn gate_completions(
    source: &ResolvedSource,
    typed: &mut [Expr],
    columns: &[String],
    what: &str,
    schema: &Schema,
) -> Result<()> {
    let values = &source.config.completed_values;
    if values.is_empty() {
        return Ok(());
    }
    if !columns.iter().any(|c| c == "status") {
        return Err(Error::config(format!(
            "`sources.training.completed_values` needs a `status` column, which {what} does not have: map it in \
             `columns` (for example `status: Enrollment Status`); its columns are: {}",
            super::columns::list_columns(schema)
        )));
    }
    let Some(position) = columns.iter().position(|c| c == "completed_at") else {
        return Ok(());
    };
    typed[position] = when(completed(values))
        .then(typed[position].clone())
        .otherwise(lit(NULL).cast(DataType::Date))
        .alias("completed_at");
    Ok(())
}

/// True on rows whose raw `status` is one of `values` (any case, spaces
/// around ignored); false on an empty status.
pub fn completed(values: &[String]) -> Expr {
    let list = Series::new(
        "completed_values".into(),
        values
            .iter()
            .map(|v| v.trim().to_lowercase())
            .collect::<Vec<_>>(),
    );
    normalized(col("status"))
        .is_in(lit(list).implode(false), false)
        .fill_null(lit(false))
}

/// Whether a status value reads as a completion (for the warning of a
/// source without `completed_values`): it holds "complet", "pass",
/// "finish", "done" or "certif", and not "incomplet" or "not".
pub fn reads_as_completed(status: &str) -> bool {
    let s = status.trim().to_lowercase();
    let negated = ["incomplet", "uncomplet", "not ", "not_", "not-"]
        .iter()
        .any(|w| s.contains(w));
    !negated
        && ["complet", "pass", "finish", "done", "certif"]
            .iter()
            .any(|w| s.contains(w))
}

#[cfg(test)]
mod tests {
    #[test]
    fn completion_words() {
        for done in [
            "Completed",
            "completed",
            "Passed",
            "Finished",
            "Done",
            "Certified",
        ] {
            assert!(super::reads_as_completed(done), "{done}");
        }
        for not in [
            "Subscribed",
            "In Progress",
            "Enrolled",
            "Not started",
            "Failed",
            "Incomplete",
            "Not completed",
        ] {
            assert!(!super::reads_as_completed(not), "{not}");
        }
    }
}
