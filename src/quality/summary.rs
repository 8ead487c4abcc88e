//! The coverage summary `validate` ends with: per source its rows, date
//! range, age at as_of (docs/INPUTS.md#freshness) and dropped rows; the last
//! month's MRR; the cohort sizes; the courses matched.

use super::plausibility::Plausibility;
use super::QualityReport;
use crate::config::Pipeline;

/// The summary as text (stdout of `validate`).
pub fn coverage(
    report: &QualityReport,
    plausibility: &Plausibility,
    pipeline: &Pipeline,
) -> String {
    let mut out = String::from("coverage:\n");
    let width = report
        .rows_read
        .keys()
        .map(|n| n.to_string().len())
        .max()
        .unwrap_or(6);
    for (name, rows) in &report.rows_read {
        let age = plausibility
            .ages
            .iter()
            .find(|a| a.source == *name)
            .map(|a| format!(" ({})", a.describe()))
            .unwrap_or_default();
        let range = match report.date_ranges.get(name) {
            Some((column, Some(first), Some(last))) => format!("{column} {first} … {last}{age}"),
            Some((column, _, _)) => format!("{column}: no dates{age}"),
            None => String::new(),
        };
        let drops = report.drops.get(name).copied().unwrap_or_default();
        let dropped = if drops.total() > 0 {
            format!(
                "; dropped {} ({:.1} %): {}",
                drops.total(),
                drops.total() as f64 * 100.0 / (*rows).max(1) as f64,
                drops.reason()
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {:<width$}  {rows:>10} rows  {range}{dropped}\n",
            name.to_string()
        ));
    }
    let p = plausibility;
    if let Some(mrr) = &p.mrr {
        out.push_str(&format!("  revenue: {mrr}\n"));
    }
    out.push_str(&format!(
        "  cohorts at the period start {}: {}\n  cohorts at as_of {}: {}\n",
        pipeline.period.start, p.at_start, pipeline.period.as_of, p.at_as_of
    ));
    match (&pipeline.cohort.courses, p.courses.is_empty()) {
        (Some(_), false) => out.push_str(&format!(
            "  courses matched: {}\n",
            p.courses
                .iter()
                .map(|(c, n)| format!("`{c}` ({n} rows)"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (None, _) => out.push_str("  courses: every course qualifies (no `cohort.courses`)\n"),
        _ => {}
    }
    out
}
