//! `report.html`: one self-contained page per run that an education lead
//! reads in two minutes (the headline with intervals, the survival curves,
//! the caveats, the definitions), drawn only from the partition's tables and
//! manifest: a run writes it beside the tables, and `cohort-metrics report`
//! renders the same bytes again from a published partition.

mod charts;
pub mod data;
pub mod format;
mod heatmap;
mod page;
pub mod svg;

use std::collections::BTreeMap;

use polars::prelude::*;

pub use data::ReportData;
pub use page::{headline, Verdict};

use crate::error::Result;
use crate::output::partition::manifest::Manifest;

/// The file name of the report in a partition.
pub const FILE: &str = "report.html";

/// The tables the report reads.
pub const TABLES: [&str; 4] = [
    "lift",
    "survival_curve",
    "retention_curve",
    "account_health",
];

/// The page of `data`.
pub fn render(data: &ReportData) -> String {
    page::page(data).into_string()
}

/// The page of a run's tables (by name) and manifest.
pub fn render_tables(tables: &BTreeMap<String, DataFrame>, manifest: &Manifest) -> Result<String> {
    Ok(render(&ReportData::new(tables, manifest)?))
}

/// `cohort-metrics report PARTITION`: reads the manifest and the tables of a
/// published partition (local or `s3://`; it must have `_SUCCESS`) and
/// renders its page.
pub fn render_partition(partition: &str, endpoint: Option<&str>) -> Result<String> {
    let (location, s3) = crate::run::published_partition(partition, endpoint)?;
    let (manifest, tables) =
        crate::output::partition::verify::read_published(&location, s3.as_ref(), &TABLES)?;
    render_tables(&tables, &manifest)
}
