//! Each night against the last (docs/OPERATING.md#each-night-against-the-last):
//! every source's rows, accounts and date range, and the primary metrics'
//! differences, compared with the previous published partition of the same
//! output root. A source that loses more than `quality.max_row_drop_share`
//! of its rows or accounts, an export whose last date went back, or a
//! primary difference that moved more than the two intervals allow is a
//! warning (`quality.drift: error`: exit 3). The comparison is written into
//! the manifest.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::config::{DriftPolicy, Pipeline};
use crate::error::{Error, Result};
use crate::quality::QualityReport;
use crate::stats::{LiftRow, Z};
use crate::storage::s3::S3;
use crate::storage::Location;

/// The manifest's `drift` entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DriftEntry {
    /// The partition compared with (None: the first run of this output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run_id: Option<String>,
    pub sources: Vec<SourceDrift>,
    pub metrics: Vec<MetricDrift>,
    /// What was found, as warned.
    pub findings: Vec<String>,
    /// Why nothing was compared, when the previous partition could not be
    /// read (a warning; never an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
}

/// One source, now and in the previous partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceDrift {
    pub source: String,
    pub rows: u64,
    pub previous_rows: Option<u64>,
    pub accounts: Option<u64>,
    pub previous_accounts: Option<u64>,
    pub last_date: Option<String>,
    pub previous_last_date: Option<String>,
}

/// One primary metric's overall difference, now and in the previous partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricDrift {
    pub metric: String,
    pub difference: Option<f64>,
    pub previous_difference: Option<f64>,
    /// (now − previous) / √(se² + se_previous²), the standard errors read
    /// from each 95 % interval.
    pub z: Option<f64>,
}

/// What the comparison found: the manifest entry, and the findings as
/// warnings (or the error of `quality.drift: error`).
pub fn compare(
    pipeline: &Pipeline,
    report: &QualityReport,
    lift: &[LiftRow],
) -> Result<DriftEntry> {
    let mut entry = DriftEntry {
        sources: report
            .rows_read
            .iter()
            .map(|(name, rows)| SourceDrift {
                source: name.to_string(),
                rows: *rows,
                previous_rows: None,
                accounts: report.accounts.get(name).copied(),
                previous_accounts: None,
                last_date: report.date_ranges.get(name).and_then(|r| r.2.clone()),
                previous_last_date: None,
            })
            .collect(),
        ..Default::default()
    };
    let Some((location, as_of)) = previous(
        &pipeline.output_dir,
        pipeline.s3.as_ref(),
        pipeline.period.as_of,
    )?
    else {
        crate::log::info(
            "drift",
            "no earlier partition in the output: nothing to compare this run with (a first run)",
        );
        return Ok(entry);
    };
    // A previous partition that cannot be read (or whose lift table is of
    // an older layout) is said, and never stops a run: otherwise no later
    // run could publish past it.
    let read = crate::output::partition::verify::read_published(
        &location,
        pipeline.s3.as_ref(),
        &["lift"],
    )
    .and_then(|(manifest, tables)| {
        let lift = match tables.get("lift") {
            Some(df) => crate::output::tables::read_lift(df)?,
            None => Vec::new(),
        };
        Ok((manifest, lift))
    });
    let (manifest, previous_lift) = match read {
        Ok(found) => found,
        Err(e) => {
            let note = format!(
                "the previous partition `{location}` cannot be read ({e}): this run is not compared with it"
            );
            crate::log::warn("drift", &note);
            entry.unread = Some(note);
            return Ok(entry);
        }
    };
    entry.previous = Some(location.to_string());
    entry.previous_run_id = Some(manifest.run_id.clone());
    let share = pipeline.quality.max_row_drop_share;
    for source in &mut entry.sources {
        let Some(before) = manifest.inputs.iter().find(|i| i.source == source.source) else {
            continue;
        };
        source.previous_rows = Some(before.rows_read);
        source.previous_accounts = before.accounts;
        source.previous_last_date = before.last_date.clone();
        let lost = |now: u64, then: u64| {
            then > 0 && (then.saturating_sub(now)) as f64 / then as f64 > share
        };
        if lost(source.rows, before.rows_read) {
            entry.findings.push(format!(
                "source `{}` has {} rows, {} on {as_of}: it lost {:.0} % of its rows (quality.max_row_drop_share {:.0} %)",
                source.source,
                source.rows,
                before.rows_read,
                (before.rows_read - source.rows) as f64 * 100.0 / before.rows_read as f64,
                share * 100.0
            ));
        }
        if let (Some(now), Some(then)) = (source.accounts, before.accounts) {
            if lost(now, then) {
                entry.findings.push(format!(
                    "source `{}` has rows of {now} accounts, {then} on {as_of}: it lost {:.0} % of its accounts \
                     (quality.max_row_drop_share {:.0} %)",
                    source.source,
                    (then - now) as f64 * 100.0 / then as f64,
                    share * 100.0
                ));
            }
        }
        if let (Some(now), Some(then)) = (&source.last_date, &before.last_date) {
            if now < then {
                entry.findings.push(format!(
                    "source `{}` ends {now}, before its end on {as_of} ({then}): an older export?",
                    source.source
                ));
            }
        }
    }
    for row in lift.iter().filter(|r| is_primary(r)) {
        let before = previous_lift
            .iter()
            .find(|p| is_primary(p) && p.metric == row.metric && p.dimension == row.dimension);
        let se = |r: &LiftRow| match (r.diff_ci_low, r.diff_ci_high) {
            (Some(l), Some(h)) if h > l => Some((h - l) / (2.0 * Z)),
            _ => None,
        };
        let z = before.and_then(|b| {
            let (now, then) = (row.abs_diff?, b.abs_diff?);
            let spread = (se(row)?.powi(2) + se(b)?.powi(2)).sqrt();
            (spread > 0.0).then(|| (now - then) / spread)
        });
        let name = match &row.dimension {
            Some(d) => format!("{} ({d})", row.metric),
            None => row.metric.clone(),
        };
        if let (Some(z), Some(b)) = (z, before) {
            if z.abs() > Z {
                entry.findings.push(format!(
                    "primary metric `{name}`: the difference moved from {:.4} on {as_of} to {:.4}, more than both \
                     intervals allow (z = {z:.2}): check what changed in the inputs",
                    b.abs_diff.unwrap_or_default(),
                    row.abs_diff.unwrap_or_default()
                ));
            }
        }
        entry.metrics.push(MetricDrift {
            metric: name,
            difference: row.abs_diff,
            previous_difference: before.and_then(|b| b.abs_diff),
            z,
        });
    }
    for finding in &entry.findings {
        crate::log::warn("drift", finding);
    }
    if pipeline.quality.drift == DriftPolicy::Error && !entry.findings.is_empty() {
        return Err(Error::data_hint(
            format!(
                "this run differs from the previous partition (`{location}`) more than quality allows:\n  - {}",
                entry.findings.join("\n  - ")
            ),
            "check the exports named above; `--set quality.drift=warn` publishes with warnings instead",
        ));
    }
    Ok(entry)
}

fn is_primary(row: &LiftRow) -> bool {
    row.family == Some(crate::stats::Family::Primary) && row.segment.is_none()
}

/// The latest published partition of the output root with a date before
/// `as_of`, and that date.
fn previous(
    root: &Location,
    s3: Option<&Arc<S3>>,
    as_of: NaiveDate,
) -> Result<Option<(Location, NaiveDate)>> {
    Ok(super::history::published_before(root, s3, as_of)?.pop())
}
