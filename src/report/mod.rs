//! `report.html`: one self-contained page per run that an education lead
//! reads in two minutes (the headline with intervals, the survival curves,
//! the caveats, the definitions), drawn only from the partition's tables and
//! manifest: a run writes it beside the tables, and `cohort-metrics report`
//! renders the same bytes again from a published partition.

mod balance;
mod bottom_line;
mod charts;
pub mod data;
mod forest;
pub mod format;
mod headline;
mod heatmap;
mod lead;
mod movements;
mod page;
mod programme;
mod read;
mod segments;
mod style;
pub mod svg;
mod trend;

use std::collections::BTreeMap;

use polars::prelude::*;

pub use data::ReportData;
pub use headline::{headline, Verdict};

use crate::error::Result;
use crate::output::partition::manifest::Manifest;

/// The file name of the report in a partition.
pub const FILE: &str = "report.html";

/// The tables the report reads.
pub const TABLES: [&str; 9] = [
    "lift",
    "impact",
    "metrics",
    "account_cohorts",
    "survival_curve",
    "retention_curve",
    "revenue_movements",
    "account_health",
    "balance",
];

/// The page of `data`.
pub fn render(data: &ReportData) -> String {
    // One redaction before the page exists anywhere (docs/OPERATING.md#secrets):
    // a run and `cohort-metrics report` give the same bytes.
    crate::redact::redact(&page::page(data).into_string())
}

/// The headline as a few lines of text for the end of `run` on a terminal:
/// each key metric's cohorts, then the estimate its tile leads with (the
/// adjusted one when the run adjusts; docs/OUTPUTS.md#reporthtml) with its
/// interval and p, and with `adjust` the naive difference after it.
pub fn terminal_table(data: &ReportData) -> String {
    let adjusted = data.adjust.is_some();
    let rows: Vec<Vec<String>> = headline(data)
        .into_iter()
        .map(|l| {
            let unit = format::unit_of(&l.metric, l.dimension.as_deref());
            let lead = lead::Lead::of(l);
            let mut row = vec![
                match l.dimension.as_deref() {
                    Some(d) => format!("{} {d}", l.metric),
                    None => l.metric.clone(),
                },
                format::value(unit, l.trained_value),
                format::value(unit, l.untrained_value),
                format::estimate(unit, lead.first.diff, lead.first.ci),
                format::p_value(lead.first.p),
            ];
            if adjusted {
                row.push(match &lead.second {
                    Some(naive) => format::estimate(unit, naive.diff, naive.ci),
                    None => format!(
                        "not adjusted: {}",
                        lead.not_adjusted.as_deref().unwrap_or("no estimate")
                    ),
                });
            }
            row
        })
        .collect();
    let mut header: Vec<String> = [
        "metric",
        "trained",
        "untrained",
        "difference (95 % CI)",
        "p",
    ]
    .map(String::from)
    .to_vec();
    if adjusted {
        header[3] = "adjusted (95 % CI)".into();
        header.push("before adjustment".into());
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    std::iter::once(&header)
        .chain(&rows)
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    let pad = " ".repeat(w - c.chars().count());
                    // Names and intervals read from the left, numbers from the right.
                    if i == 0 || i == 3 || i == 5 {
                        format!("{c}{pad}")
                    } else {
                        format!("{pad}{c}")
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_string() + "\n"
        })
        .collect()
}

/// The page of a run's tables (by name) and manifest, with the earlier
/// nights of its output.
pub fn render_tables(
    tables: &BTreeMap<String, DataFrame>,
    manifest: &Manifest,
    history: Vec<crate::output::history::Night>,
) -> Result<String> {
    let mut data = ReportData::new(tables, manifest)?;
    data.history = history;
    Ok(render(&data))
}

/// The earlier published nights of the output root `root` before `as_of`
/// (at most [`trend::NIGHTS`]), with the rows the trend draws.
pub fn history(
    root: &crate::storage::Location,
    s3: Option<&std::sync::Arc<crate::storage::s3::S3>>,
    as_of: chrono::NaiveDate,
) -> Result<Vec<crate::output::history::Night>> {
    crate::output::history::nights(root, s3, as_of, trend::NIGHTS, &trend::kept)
}

/// Renders `report.html` from the run's tables and manifest (as
/// `cohort-metrics report` reads them back) into the staged partition, and
/// lists it among the manifest's outputs; returns the headline as text for
/// the terminal.
pub fn write_into(
    partition: &crate::output::partition::Partition,
    outputs: &BTreeMap<&'static str, polars::prelude::DataFrame>,
    manifest: &mut crate::output::partition::manifest::Manifest,
    history: Vec<crate::output::history::Night>,
) -> Result<String> {
    let tables = TABLES
        .iter()
        .filter_map(|t| Some((t.to_string(), outputs.get(t)?.clone())))
        .collect();
    let mut data = ReportData::new(&tables, manifest)?;
    data.history = history;
    let page = render(&data);
    partition.write_text(FILE, &page)?;
    manifest
        .outputs
        .push(crate::output::partition::manifest::OutputEntry {
            table: "report".to_string(),
            file: FILE.to_string(),
            rows: 0,
            bytes: 0,
            sha256: String::new(),
        });
    Ok(terminal_table(&data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::LiftRow;

    #[test]
    fn the_terminal_table_aligns_the_headline() {
        let lift = |metric: &str, dimension: Option<&str>, t: f64, u: f64, ci, p| {
            let mut row = crate::testkit::lift_row(
                metric,
                (t, u),
                ci,
                p,
                crate::stats::Direction::LowerIsBetter,
                (263.0, 434.0),
            );
            row.dimension = dimension.map(String::from);
            row
        };
        // A month's row (the first month of a per-month metric) is not the headline.
        let first_month = LiftRow {
            period_end: crate::testkit::day("2025-12-01"),
            ..lift("churn_rate", None, 0.01, 0.02, (-0.02, 0.0), 0.3)
        };
        let data = ReportData {
            period: ("2025-11-01".into(), "2026-11-01".into()),
            lift: vec![
                first_month,
                lift("nps", None, 26.7, -32.6, (45.7, 72.8), 1e-9),
                lift("churn_rate", None, 0.110, 0.260, (-0.206, -0.094), 0.00002),
                lift("churn_rate", Some("plan=x"), 0.1, 0.2, (-0.3, 0.1), 0.5),
            ],
            ..ReportData::default()
        };
        assert_eq!(
            terminal_table(&data),
            "metric      trained  untrained  difference (95 % CI)                   p\n\
             churn_rate   11.0 %     26.0 %  −15.0 pts (−20.6 to −9.4 pts)   < 0.0001\n\
             nps            26.7      −32.6  +59.3 pts (+45.7 to +72.8 pts)  < 0.0001\n"
        );
    }

    #[test]
    fn with_adjust_the_terminal_leads_with_the_adjusted_estimate() {
        let mut churn = crate::testkit::adjusted_churn_lift_row();
        churn.adjusted.p_value = Some(0.0004);
        let mut nps = crate::testkit::lift_row(
            "nps",
            (26.7, -32.6),
            (45.7, 72.8),
            1e-9,
            crate::stats::Direction::HigherIsBetter,
            (263.0, 434.0),
        );
        nps.adjusted.method = Some("stratify".into());
        nps.adjusted.note = Some("no stratum holds both cohorts".into());
        let data = ReportData {
            period: ("2025-11-01".into(), "2026-11-01".into()),
            lift: vec![nps, churn],
            adjust: Some(Default::default()),
            ..ReportData::default()
        };
        assert_eq!(
            terminal_table(&data),
            "metric      trained  untrained  adjusted (95 % CI)                     p  before adjustment\n\
             churn_rate   11.0 %     26.0 %  −11.3 pts (−16.7 to −6.0 pts)     0.0004  −15.0 pts (−20.6 to −9.4 pts)\n\
             nps            26.7      −32.6  +59.3 pts (+45.7 to +72.8 pts)  < 0.0001  not adjusted: no stratum holds both cohorts\n"
        );
    }
}

/// Writes the page rendered from `partition` to `out` without touching any
/// other file (docs/OPERATING.md#report): a target in
/// a partition (in `partition`, or under any `as_of=` directory) is
/// refused; the page goes to a new temporary file beside `out`, renamed
/// into place, so that a link at `out` is replaced, never written through.
pub fn write_page(out: &std::path::Path, partition: &str, page: &str) -> Result<()> {
    use std::io::Write;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let refuse = |why: &str| {
        Err(crate::error::Error::config(format!(
            "report: --out `{}` is {why}; a published partition is never changed: write the page elsewhere",
            out.display()
        )))
    };
    let real_dir = dir.canonicalize().map_err(|e| {
        crate::error::Error::io(format!("cannot write into `{}`", dir.display()), e)
    })?;
    if !partition.starts_with("s3://") {
        if let Ok(p) = std::path::Path::new(partition).canonicalize() {
            if real_dir.starts_with(&p) {
                return refuse(&format!("inside the partition `{partition}`"));
            }
        }
    }
    let named = |c: std::path::Component| c.as_os_str().to_string_lossy().starts_with("as_of=");
    if real_dir.components().any(named) || out.components().any(named) {
        return refuse("in a partition directory (`as_of=…`)");
    }
    let name = out
        .file_name()
        .map_or("report.html".into(), |n| n.to_string_lossy().to_string());
    let tmp = real_dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(page.as_bytes())?;
            file.sync_all()
        })
        .and_then(|_| std::fs::rename(&tmp, out));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        crate::error::Error::io(format!("cannot write `{}`", out.display()), e)
    })
}

/// `cohort-metrics report PARTITION`: checks a published partition as
/// `verify` does (local or `s3://`; `_SUCCESS`, checksums, every table of
/// its run), reads its manifest and tables and renders its page.
pub fn render_partition(partition: &str, endpoint: Option<&str>) -> Result<String> {
    let (location, s3) = crate::output::partition::verify::published(partition, endpoint)?;
    // The reader contract, as `verify` checks it: every file of `_SUCCESS`'s
    // run (a partition that mixes two runs is exit 3, never rendered).
    crate::output::partition::verify::verify(&location, s3.as_ref())?;
    let (manifest, tables) =
        crate::output::partition::verify::read_published(&location, s3.as_ref(), &TABLES)?;
    // The trend: the nights published beside it.
    let as_of = chrono::NaiveDate::parse_from_str(&manifest.as_of, "%Y-%m-%d").map_err(|e| {
        crate::error::Error::other(format!("the manifest's as_of `{}`: {e}", manifest.as_of))
    })?;
    let nights = match location.parent() {
        Some(root) => history(&root, s3.as_ref(), as_of)?,
        None => Vec::new(),
    };
    render_tables(&tables, &manifest, nights)
}
