//! Completion, not enrolment (docs/INPUTS.md#the-checks): without
//! `completed_values`, a `training` source that reads enrolments as
//! completions is a warning naming the column: `completed_at` equal to
//! `enrolled_at` on every row, or rows with a `completed_at` whose status
//! does not read as completed (Subscribed, In Progress).

use polars::prelude::*;

use super::Plausibility;
use crate::quality::report::{count_at, count_of};
use crate::quality::text_of;
use crate::source::status::reads_as_completed;
use crate::source::LoadedSource;

/// Below this many rows with both dates, equal dates may be chance
/// (same-day courses); from it on, equal on every row means one column.
const MIN_ROWS: u64 = 10;

/// The plans (none when `completed_values` is set): rows with both dates
/// and rows where they are equal; rows and rows with a `completed_at` per
/// status.
pub(super) fn plans(training: &LoadedSource, frame: &LazyFrame, gated: bool) -> Vec<LazyFrame> {
    if gated {
        return Vec::new();
    }
    let mut plans = Vec::new();
    if training.has_column("enrolled_at") {
        let both = col("enrolled_at")
            .is_not_null()
            .and(col("completed_at").is_not_null());
        plans.push(
            frame.clone().select([
                both.clone().cast(DataType::UInt64).sum().alias("both"),
                both.and(col("enrolled_at").eq(col("completed_at")))
                    .cast(DataType::UInt64)
                    .sum()
                    .alias("equal"),
            ]),
        );
    }
    if training.has_column("status") {
        plans.push(
            frame
                .clone()
                .group_by([col("status").cast(DataType::String)])
                .agg([
                    len().cast(DataType::UInt64).alias("rows"),
                    col("completed_at")
                        .is_not_null()
                        .cast(DataType::UInt64)
                        .sum()
                        .alias("completed"),
                ])
                .sort(
                    ["rows"],
                    SortMultipleOptions::default().with_order_descending(true),
                ),
        );
    }
    plans
}

/// The warnings, from the results of [`plans`] in order.
pub(super) fn check(
    training: &LoadedSource,
    results: &mut impl Iterator<Item = DataFrame>,
    found: &mut Plausibility,
) {
    let files = training.files_shown();
    if training.has_column("enrolled_at") {
        let df = results.next().unwrap_or_default();
        let (both, equal) = (count_of(&df, "both"), count_of(&df, "equal"));
        if both >= MIN_ROWS && equal == both {
            found.warnings.push(format!(
                "source `training` ({files}): `completed_at` equals `enrolled_at` on every one of its {both} rows \
                 with both: an enrolments export read as completions? Map the completion date as `completed_at`, \
                 or the status column with `completed_values` on `sources.training`"
            ));
        }
    }
    if training.has_column("status") {
        let df = results.next().unwrap_or_default();
        let rows = |i: usize, column: &str| count_at(&df, column, i);
        let statuses: Vec<(String, u64, u64)> = (0..df.height())
            .map(|i| {
                let status = text_of(&df, "status", i).unwrap_or_else(|| "(empty)".into());
                (status, rows(i, "rows"), rows(i, "completed"))
            })
            .collect();
        let counted: Vec<&(String, u64, u64)> = statuses
            .iter()
            .filter(|(s, _, completed)| *completed > 0 && !reads_as_completed(s))
            .collect();
        if counted.is_empty() {
            return;
        }
        let total: u64 = counted.iter().map(|c| c.2).sum();
        let shown: Vec<String> = counted
            .iter()
            .take(super::IDS_SHOWN)
            .map(|(s, _, n)| format!("`{s}` ({n} rows)"))
            .collect();
        let done: Vec<String> = statuses
            .iter()
            .filter(|(s, _, _)| reads_as_completed(s))
            .map(|(s, _, _)| s.clone())
            .collect();
        let fix = if done.is_empty() {
            "list the status values that mean completed in `completed_values` on `sources.training`"
                .to_string()
        } else {
            format!(
                "set `completed_values: [{}]` on `sources.training`",
                done.join(", ")
            )
        };
        found.warnings.push(format!(
            "source `training` ({files}): {total} row(s) with a `completed_at` have a status that does not read as \
             completed ({}), and each counts as a completion: enrolments read as completions? {fix}",
            shown.join(", ")
        ));
    }
}
