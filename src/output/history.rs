//! The partitions published before a date in one output root: the previous
//! night for drift (docs/OPERATING.md#each-night-against-the-last) and the
//! nights of the report's trend (docs/OUTPUTS.md#reporthtml). A partition
//! counts only with its `_SUCCESS`, and is read through the reader contract.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::stats::LiftRow;
use crate::storage::s3::S3;
use crate::storage::Location;

/// The published partitions (`as_of=DATE/` with `_SUCCESS`) of the output
/// root with a date before `as_of`, oldest first.
pub fn published_before(
    root: &Location,
    s3: Option<&Arc<S3>>,
    as_of: NaiveDate,
) -> Result<Vec<(Location, NaiveDate)>> {
    let success = super::partition::SUCCESS;
    let date_of =
        |name: &str| NaiveDate::parse_from_str(name.strip_prefix("as_of=")?, "%Y-%m-%d").ok();
    let mut dates: Vec<NaiveDate> = match root {
        Location::Local(dir) => match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join(success).is_file())
                .filter_map(|e| date_of(&e.file_name().to_string_lossy()))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(format!("listing `{}`", dir.display()), e)),
        },
        Location::S3 { bucket, key } => {
            let Some(s3) = s3 else {
                return Ok(Vec::new());
            };
            // The store lists folders: the root, then its `as_of=…/_SUCCESS` keys.
            let root = prefix_of(key);
            s3.list(bucket, &root)?
                .into_iter()
                .filter_map(|o| {
                    let rest = o.key.strip_prefix(&root)?;
                    let (partition, file) = rest.split_once('/')?;
                    (file == success).then(|| date_of(partition)).flatten()
                })
                .collect()
        }
    };
    dates.retain(|d| *d < as_of);
    dates.sort();
    dates.dedup();
    Ok(dates
        .into_iter()
        .map(|d| (root.join(&format!("as_of={d}")), d))
        .collect())
}

/// An S3 key as a prefix: empty, or ending with `/`.
fn prefix_of(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') {
        key.to_string()
    } else {
        format!("{key}/")
    }
}

/// One earlier night: its as-of date and the lift rows the trend draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Night {
    pub as_of: NaiveDate,
    pub lift: Vec<LiftRow>,
}

/// The last `keep` published nights before `as_of`, oldest first, with
/// their lift rows that `wanted` keeps. A partition whose manifest is not
/// of its `_SUCCESS`'s run, or whose lift cannot be read (an older layout),
/// is left out with a warning: a trend never stops a run.
pub fn nights(
    root: &Location,
    s3: Option<&Arc<S3>>,
    as_of: NaiveDate,
    keep: usize,
    wanted: &dyn Fn(&LiftRow) -> bool,
) -> Result<Vec<Night>> {
    let partitions = published_before(root, s3, as_of)?;
    let start = partitions.len().saturating_sub(keep);
    let mut out = Vec::new();
    for (location, date) in &partitions[start..] {
        let read = super::partition::verify::read_published(location, s3, &["lift"]).and_then(
            |(_, tables)| {
                let empty = polars::prelude::DataFrame::empty();
                super::tables::read_lift(tables.get("lift").unwrap_or(&empty))
            },
        );
        match read {
            Ok(lift) => out.push(Night {
                as_of: *date,
                lift: lift.into_iter().filter(|l| wanted(l)).collect(),
            }),
            Err(e) => {
                crate::log::warn("report", &format!("the trend leaves out `{location}`: {e}"))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_published_partitions_before_the_date_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for (name, published) in [
            ("as_of=2026-09-01", true),
            ("as_of=2026-07-01", true),
            ("as_of=2026-08-01", false),
            ("as_of=2026-11-01", true),
            (".as_of=2026-10-01.staging-r", true),
            ("notes", true),
        ] {
            let partition = dir.path().join(name);
            std::fs::create_dir(&partition).unwrap();
            if published {
                std::fs::write(partition.join(super::super::partition::SUCCESS), "{}").unwrap();
            }
        }
        let root = Location::Local(dir.path().to_path_buf());
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let found: Vec<String> = published_before(&root, None, as_of)
            .unwrap()
            .into_iter()
            .map(|(_, d)| d.to_string())
            .collect();
        assert_eq!(found, ["2026-07-01", "2026-09-01"]);
        let missing = Location::Local(dir.path().join("nothing"));
        assert!(published_before(&missing, None, as_of).unwrap().is_empty());
        assert_eq!(
            Location::Local(dir.path().join("as_of=2026-11-01")).parent(),
            Some(root)
        );
    }
}
