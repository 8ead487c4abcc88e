//! Courses: every entry of `cohort.courses` must match a `course_id` of
//! `training`; the error lists the ids seen, closest first.

use polars::prelude::*;

use super::IDS_SHOWN;
use crate::config::SourceName;
use crate::error::{Error, Result};
use crate::inputs::Inputs;

/// (course_id, rows) from the group-by, most rows first.
pub(super) fn course_rows(df: &DataFrame) -> Vec<(String, u64)> {
    let (Ok(ids), Ok(rows)) = (df.column("course_id"), df.column("rows")) else {
        return Vec::new();
    };
    let (Ok(ids), Ok(rows)) = (ids.str(), rows.u64()) else {
        return Vec::new();
    };
    let mut seen: Vec<(String, u64)> = ids
        .iter()
        .zip(rows.iter())
        .filter_map(|(id, n)| Some((id?.to_string(), n.unwrap_or(0))))
        .collect();
    seen.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    seen
}

/// Every entry of `cohort.courses` must match a course id of `training`.
pub(super) fn check_courses(
    inputs: &Inputs,
    configured: &[(String, u64)],
    seen: &[(String, u64)],
) -> Result<()> {
    let unmatched: Vec<&String> = configured
        .iter()
        .filter(|(_, rows)| *rows == 0)
        .map(|(c, _)| c)
        .collect();
    if unmatched.is_empty() {
        return Ok(());
    }
    let files = inputs
        .get(SourceName::Training)
        .map(|t| t.files_shown())
        .unwrap_or_default();
    let mut message = format!(
        "`cohort.courses` names {} course(s) that match no `course_id` of source `training` ({files}); \
         course ids match exactly, case included:",
        unmatched.len()
    );
    for course in &unmatched {
        let mut ranked: Vec<&(String, u64)> = seen.iter().collect();
        ranked.sort_by_key(|(id, rows)| (distance(course, id), std::cmp::Reverse(*rows)));
        let closest = ranked
            .iter()
            .take(IDS_SHOWN)
            .map(|(id, rows)| format!("`{id}` ({rows} rows)"))
            .collect::<Vec<_>>()
            .join(", ");
        message.push_str(&format!(
            "\n  - `{course}`: the ids seen, closest first: {}",
            if closest.is_empty() {
                "none (no completed row has a course id)".into()
            } else {
                closest
            }
        ));
    }
    Err(Error::data_hint(
        message,
        format!(
            "copy the ids as written in the training export ({} distinct ids seen)",
            seen.len()
        ),
    ))
}

/// Edit distance between two ids, ignoring case (for "closest first"):
/// Levenshtein over characters.
fn distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::distance;

    #[test]
    fn edit_distance_ignores_case() {
        assert_eq!(distance("Admin Fundamentals", "admin fundamentals"), 0);
        assert_eq!(distance("Admin Fundamentalz", "Admin Fundamentals"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }
}
