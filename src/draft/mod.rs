//! `cohort-metrics init EXPORTS_DIR` (docs/INPUTS.md#a-first-pipeline-from-your-exports):
//! a first pipeline file drafted from a folder of exports. Each export's
//! header and first rows are read, its shape recognized (a vendor export of
//! the recipes, or a source's canonical columns), and the source proposed
//! with its column mapping, date formats, scales, filters and a comment on
//! every guess. The command then validates the draft (`main.rs`).

mod guess;
mod render;
mod shapes;
mod sniff;

use std::path::{Path, PathBuf};

use crate::config::SourceName;
use crate::error::{Error, Result};
use crate::metrics::MetricConfig;
use crate::source::tables::ColumnKind;
use render::{Draft, SourceDraft};

/// What `init` is asked to do.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub exports: PathBuf,
    pub output: PathBuf,
    pub force: bool,
}

/// What `init` wrote.
#[derive(Debug, Clone)]
pub struct Drafted {
    pub path: PathBuf,
    /// Source, export, shape recognized.
    pub sources: Vec<(SourceName, String, String)>,
    /// Exports not drafted, with what was seen.
    pub skipped: Vec<(String, String)>,
    /// Guesses to check and what is left to do (also comments in the draft).
    pub warnings: Vec<String>,
}

/// Drafts the pipeline file of `options.exports` into `options.output`.
pub fn init(options: &InitOptions) -> Result<Drafted> {
    if options.output.exists() && !options.force {
        return Err(Error::config(format!(
            "`{}` exists: give another `--output`, or `--force` to replace it",
            options.output.display()
        )));
    }
    if !options.exports.is_dir() {
        return Err(Error::io_failed(format!(
            "`{}` is not a directory of exports",
            options.exports.display()
        )));
    }
    let (exports, mut skipped) = sniff::sniff_dir(&options.exports)?;
    let prefix = relative_prefix(&options.exports, &options.output);
    let mut sources: Vec<(SourceName, SourceDraft, sniff::Sniffed, shapes::Proposal)> = Vec::new();
    for export in exports {
        let proposal = match shapes::recognize(&export) {
            Ok(Some(p)) => p,
            Ok(None) => {
                let names: Vec<&str> = export.columns.iter().map(|(c, _)| c.as_str()).collect();
                skipped.push((
                    export.path.clone(),
                    format!("no source recognized; its columns: {}", names.join(", ")),
                ));
                continue;
            }
            Err(why) => {
                skipped.push((export.path.clone(), why));
                continue;
            }
        };
        if let Some((_, first, _, _)) = sources.iter().find(|(s, ..)| *s == proposal.source) {
            skipped.push((
                export.path.clone(),
                format!(
                    "a second `{}` source (drafted from `{}`)",
                    proposal.source, first.path
                ),
            ));
            continue;
        }
        let draft = draft_source(&export, &proposal, &prefix)?;
        sources.push((proposal.source, draft, export, proposal));
    }
    key_users_like_their_sources(&mut sources);
    let courses = match sources.iter().find(|(s, ..)| *s == SourceName::Training) {
        Some((_, _, export, proposal)) => match proposal.file_column(export, "course_id") {
            Some(column) => guess::value_counts(export, column)?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let as_of = as_of(&sources)?;
    let segments = segments(&sources);
    let metrics = metrics(&sources);
    sources.sort_by_key(|(s, ..)| SourceName::ALL.iter().position(|n| n == s));
    let draft = Draft {
        exports: options.exports.display().to_string(),
        sources: sources.iter().map(|(s, d, ..)| (*s, d.clone())).collect(),
        skipped: skipped.clone(),
        courses,
        as_of,
        metrics,
        segments,
    };
    std::fs::write(&options.output, render::render(&draft))
        .map_err(|e| Error::io(format!("cannot write `{}`", options.output.display()), e))?;
    Ok(Drafted {
        path: options.output.clone(),
        sources: sources
            .iter()
            .map(|(s, d, _, p)| (*s, d.path.clone(), p.shape.clone()))
            .collect(),
        skipped,
        warnings: sources
            .iter()
            .flat_map(|(name, draft, ..)| {
                let todo = draft.notes.iter().filter(|n| n.starts_with("TODO"));
                let check = draft
                    .types
                    .iter()
                    .map(|(_, _, why)| why)
                    .filter(|why| why.contains("check"));
                todo.chain(check).map(move |n| format!("`{name}`: {n}"))
            })
            .collect(),
    })
}

/// The exports directory as the draft's paths name it: relative to the
/// draft's own directory when below it, else absolute.
fn relative_prefix(exports: &Path, output: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let exports = absolute(exports);
    let parent = output.parent().filter(|p| !p.as_os_str().is_empty());
    let base = absolute(parent.unwrap_or(Path::new(".")));
    let shown = match exports.strip_prefix(&base) {
        Ok(relative) if relative.as_os_str().is_empty() => String::new(),
        Ok(relative) => format!("{}/", relative.display()),
        Err(_) => format!("{}/", exports.display()),
    };
    shown
}

fn draft_source(
    export: &sniff::Sniffed,
    proposal: &shapes::Proposal,
    prefix: &str,
) -> Result<SourceDraft> {
    let mut draft = SourceDraft {
        shape: format!("{}: {}", proposal.shape, export.path),
        path: format!("{prefix}{}", export.path),
        // A directory's format cannot be told from its name.
        format: export.path.ends_with('/').then_some(export.format),
        delimiter: export.delimiter,
        second_header: export.second_header,
        invoice: proposal.invoice,
        columns: proposal.columns.clone(),
        notes: proposal.notes.clone(),
        drop_rows: proposal
            .drop_rows
            .iter()
            .map(|(c, v, why)| (c.clone(), v.clone(), why.to_string()))
            .collect(),
        ..SourceDraft::default()
    };
    for spec in proposal.specs() {
        let Some(column) = proposal.file_column(export, spec.name) else {
            let keyed = spec.name == "account_id"
                && (proposal.file_column(export, "user_id").is_some()
                    || proposal.file_column(export, "account_name").is_some());
            if spec.required && !keyed {
                draft.notes.push(format!(
                    "TODO: map `{}` (required) in `columns`: no column of the export was recognized as it",
                    spec.name
                ));
            }
            continue;
        };
        if spec.kind == ColumnKind::Day {
            match guess::day_format(export, column) {
                Ok(Some((format, why))) if guess::readable(&format) => {
                    draft.types.push((spec.name.to_string(), format, why));
                }
                Ok(_) => {}
                Err(why) => draft.notes.push(format!("TODO: {why}")),
            }
        }
        let in_cents = proposal.cents.contains(&spec.name)
            || (spec.kind == ColumnKind::Number
                && column
                    .to_lowercase()
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|word| word == "cents" || word == "cent"));
        if in_cents && spec.kind == ColumnKind::Number {
            draft.scale.push((
                spec.name.to_string(),
                0.01,
                format!("`{column}` in cents: check one value against the vendor's screen"),
            ));
        }
    }
    if proposal.source == SourceName::Training {
        if let Some(status) = proposal.file_column(export, "status") {
            let seen = guess::value_counts(export, status)?;
            let completed = guess::completed_values(&seen);
            let shown: Vec<String> = seen
                .iter()
                .map(|(v, n)| format!("{v} ({n} rows)"))
                .collect();
            if completed.is_empty() {
                draft.notes.push(format!(
                    "TODO: set `completed_values` to the `{status}` values that mean completed; seen: {}",
                    shown.join(", ")
                ));
            } else {
                draft.completed_values = Some((
                    completed,
                    format!(
                        "the `{status}` values that mean completed; seen: {}",
                        shown.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(draft)
}

/// A source keyed by email (an LMS export) needs `users` keyed by email:
/// when `users` has an email column and its own `user_id` holds no email,
/// the draft keys it by the email, with a comment.
fn key_users_like_their_sources(
    sources: &mut [(SourceName, SourceDraft, sniff::Sniffed, shapes::Proposal)],
) {
    let is_email = |values: &[String]| !values.is_empty() && values.iter().all(|v| v.contains('@'));
    let by_email = sources.iter().find_map(|(name, _, export, proposal)| {
        let column = proposal.file_column(export, "user_id")?;
        (*name != SourceName::Users && is_email(export.samples_of(column))).then_some(*name)
    });
    let Some(keyed) = by_email else { return };
    let Some((_, draft, export, proposal)) =
        sources.iter_mut().find(|(n, ..)| *n == SourceName::Users)
    else {
        return;
    };
    let current = proposal.file_column(export, "user_id").map(str::to_string);
    if current
        .as_deref()
        .is_some_and(|c| is_email(export.samples_of(c)))
    {
        return;
    }
    if let Some(email) = export.column_containing("email").map(str::to_string) {
        draft.columns.retain(|(c, _)| c != "user_id");
        draft.columns.push(("user_id".to_string(), email.clone()));
        draft.notes.push(format!(
            "keyed by `{email}` because `{keyed}` names its users by email; sources keyed by the app's user id \
             (events) then need the email too"
        ));
    }
}

/// The day after the exports end, for `period.as_of`: the earliest last
/// day of the daily sources (events, tickets) and of revenue's last
/// month, so that no source is stale at as_of; else the latest last day.
fn as_of(
    sources: &[(SourceName, SourceDraft, sniff::Sniffed, shapes::Proposal)],
) -> Result<Option<(chrono::NaiveDate, String)>> {
    let mut lasts = Vec::new();
    for (name, draft, export, proposal) in sources {
        let column = match name {
            SourceName::Events => "event_time",
            SourceName::Tickets => "created_at",
            SourceName::Revenue if proposal.invoice => "period_start",
            SourceName::Revenue => "month",
            _ => continue,
        };
        let Some(file_column) = proposal.file_column(export, column) else {
            continue;
        };
        let format = draft
            .types
            .iter()
            .find(|(c, ..)| c == column)
            .map(|(_, f, _)| f.as_str());
        if let Some(days) = guess::last_day(export, file_column, format)? {
            let mut last = crate::time::days_to_date(days);
            if *name == SourceName::Revenue {
                // A month's row covers the month: revenue ends at the month's last day.
                last = crate::time::first_day(last) + chrono::Months::new(1) - chrono::Days::new(1);
            }
            lasts.push((last, *name));
        }
    }
    let Some((last, name)) = lasts.iter().min().copied() else {
        return Ok(None);
    };
    Ok(Some((
        last + chrono::Days::new(1),
        format!("the day after `{name}` ends ({last})"),
    )))
}

/// The columns of `accounts` that no key maps or filters and whose first
/// rows hold 2 to 12 distinct values: candidates for `segment_by`.
fn segments(
    sources: &[(SourceName, SourceDraft, sniff::Sniffed, shapes::Proposal)],
) -> Vec<String> {
    let Some((_, draft, export, proposal)) =
        sources.iter().find(|(s, ..)| *s == SourceName::Accounts)
    else {
        return Vec::new();
    };
    let used = |column: &str| {
        draft.columns.iter().any(|(_, f)| f == column)
            || draft.drop_rows.iter().any(|(f, ..)| f == column)
            || proposal.specs().iter().any(|s| s.name == column)
    };
    export
        .columns
        .iter()
        .map(|(c, _)| c.as_str())
        .filter(|c| !used(c))
        .filter(|c| {
            let values = export.samples_of(c);
            let distinct: std::collections::BTreeSet<&String> = values.iter().collect();
            (2..=12).contains(&distinct.len()) && values.len() > distinct.len()
        })
        .map(str::to_string)
        .collect()
}

/// Every metric that takes no required parameter and whose inputs the
/// drafted sources hold.
fn metrics(
    sources: &[(SourceName, SourceDraft, sniff::Sniffed, shapes::Proposal)],
) -> Vec<&'static str> {
    let holds = |source: SourceName, column: &str| {
        sources.iter().any(|(name, _, export, proposal)| {
            *name == source
                && (proposal.file_column(export, column).is_some()
                    // Invoices give `month` and `mrr` by spreading.
                    || (proposal.invoice && matches!(column, "month" | "mrr"))
                    || (column == "account_id"
                        && (proposal.file_column(export, "user_id").is_some()
                            || proposal.file_column(export, "account_name").is_some())))
        })
    };
    MetricConfig::ids()
        .into_iter()
        .filter(|id| {
            let Ok(metric) = serde_norway::from_str::<MetricConfig>(id) else {
                return false;
            };
            metric.metric().check_config().is_empty()
                && metric.metric().requires().iter().all(|(s, c)| holds(*s, c))
        })
        .collect()
}
