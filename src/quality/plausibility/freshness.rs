//! Freshness (docs/INPUTS.md#freshness): how many days lie between each
//! dated source's last date and as_of. A run whose as_of is past the data
//! (an export that stopped, a `--as-of` months after the files end) would
//! count the missing days as days without events, revenue or tickets and
//! publish numbers that look right; past a source's `error_after_days` it
//! stops (exit 3) naming every stale source, past `warn_after_days` it warns.
//!
//! The last date is the latest value of the source's main date column in the
//! rows the data rules read (docs/INPUTS.md, "Which event rows are checked");
//! for monthly revenue, the last day of its last month.

use chrono::{Datelike, Days, NaiveDate};

use crate::config::{Freshness, Grain, Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::quality::{QualityReport, Scope};

/// The default limits of a source (docs/INPUTS.md#freshness), by grain:
/// events arrive every day; training completions, tickets and survey
/// answers come in bursts; monthly revenue must hold the month before the
/// as-of month (its last day is `as_of.day()` days before as_of).
pub fn default_limits(source: SourceName, grain: Option<Grain>, as_of: NaiveDate) -> Freshness {
    let limits = |warn: Option<u32>, error: Option<u32>| Freshness {
        warn_after_days: warn,
        error_after_days: error,
    };
    match source {
        SourceName::Events => limits(Some(2), Some(7)),
        SourceName::Training => limits(Some(14), Some(90)),
        SourceName::Tickets => limits(Some(7), Some(30)),
        // Annual invoices all starting in January are months old by June:
        // the last `period_start` warns, and never stops a run.
        SourceName::Revenue if grain == Some(Grain::Invoice) => limits(Some(35), None),
        SourceName::Revenue => limits(None, Some(as_of.day())),
        SourceName::Touchpoints => limits(Some(14), None),
        SourceName::NpsResponses | SourceName::CsatResponses | SourceName::Cancellations => {
            limits(Some(45), None)
        }
        SourceName::Accounts | SourceName::Referrals => limits(Some(90), None),
        SourceName::Users => limits(None, None),
    }
}

/// How a source's last date compares with its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Fresh,
    Warn,
    Stale,
    /// No limit applies, or the source has no dated rows to judge.
    Unchecked,
}

/// One dated source at as_of, for the checks, the log and `validate`.
#[derive(Debug, Clone)]
pub struct SourceAge {
    pub source: SourceName,
    /// The main date column (`event_time`, `month`, …).
    pub column: &'static str,
    /// Its last date (for monthly revenue, the last day of the last month);
    /// None without a dated row.
    pub last: Option<NaiveDate>,
    /// Days from `last` to as_of (at least, when `last` is None and the
    /// rows read start on a known day).
    pub days: Option<i64>,
    pub limits: Freshness,
    /// Whether the limits are the pipeline's (`freshness:` given).
    pub configured: bool,
    pub standing: Standing,
}

impl SourceAge {
    /// "1 day before as_of", for the coverage summary.
    pub fn describe(&self) -> String {
        let age = match (self.last, self.days) {
            (_, Some(d)) if d <= 0 => "reaches as_of".to_string(),
            (Some(_), Some(1)) => "1 day before as_of".to_string(),
            (Some(_), Some(d)) => format!("{d} days before as_of"),
            (None, Some(d)) => format!("no rows in the {d} days read before as_of"),
            (_, None) => "no dated rows".to_string(),
        };
        match self.standing {
            Standing::Warn => format!(
                "{age}: stale (warn after {} days)",
                self.limits.warn_after_days.unwrap_or_default()
            ),
            Standing::Stale => format!(
                "{age}: STALE (error after {} days)",
                self.limits.error_after_days.unwrap_or_default()
            ),
            _ => age,
        }
    }

    /// The sentence of a warning or an error.
    fn sentence(&self, pipeline: &Pipeline, files: &str) -> String {
        let (limit, key) = match self.standing {
            Standing::Stale => (self.limits.error_after_days, "error_after_days"),
            _ => (self.limits.warn_after_days, "warn_after_days"),
        };
        let last = match self.last {
            Some(last) if self.source == SourceName::Revenue && self.column == "month" => {
                format!("its last month is {}", last.format("%Y-%m"))
            }
            Some(last) => format!("its last `{}` is {last}", self.column),
            None => format!("it has no `{}` in the days read", self.column),
        };
        let default = if self.configured { "" } else { " by default" };
        if self.source == SourceName::Revenue && self.column == "month" && !self.configured {
            let needed = crate::time::add_months(crate::time::first_day(pipeline.period.as_of), -1);
            return format!(
                "source `revenue` ({files}): {last}, but a run at as_of {} needs {} (the month before the \
                 as-of month; set `sources.revenue.freshness` to allow older revenue)",
                pipeline.period.as_of,
                needed.format("%Y-%m"),
            );
        }
        format!(
            "source `{}` ({files}): {last}, {} days before as_of {} (`sources.{}.freshness.{key}`: {}{default})",
            self.source,
            self.days.unwrap_or_default(),
            pipeline.period.as_of,
            self.source,
            limit.unwrap_or_default(),
        )
    }
}

/// The age of every dated source (docs/INPUTS.md#freshness), from the
/// dates the data rules' scan found.
pub fn ages(pipeline: &Pipeline, scope: &Scope, report: &QualityReport) -> Vec<SourceAge> {
    let as_of = pipeline.period.as_of;
    let mut found = Vec::new();
    for (name, (column, _, last)) in &report.date_ranges {
        let Some(source) = pipeline.sources.get(name) else {
            continue;
        };
        let monthly = *name == SourceName::Revenue && *column == "month";
        let last = last
            .as_deref()
            .and_then(|t| NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok())
            .map(|day| if monthly { last_day_of_month(day) } else { day });
        // Events are read from a first day on: none in them is at least
        // that old.
        let floor = match (*name, scope.event_days) {
            (SourceName::Events, Some(range)) => Some(range.first),
            _ => None,
        };
        let days = match (last, floor) {
            (Some(last), _) => Some((as_of - last).num_days()),
            (None, Some(first)) => Some((as_of - first).num_days() + 1),
            (None, None) => None,
        };
        let configured = source.config.freshness.is_some();
        let limits = source
            .config
            .freshness
            .unwrap_or_else(|| default_limits(*name, source.config.grain, as_of));
        let past =
            |limit: Option<u32>| matches!((days, limit), (Some(d), Some(l)) if d > i64::from(l));
        let standing = if days.is_none()
            || (limits.warn_after_days.is_none() && limits.error_after_days.is_none())
        {
            Standing::Unchecked
        } else if past(limits.error_after_days) {
            Standing::Stale
        } else if past(limits.warn_after_days) {
            Standing::Warn
        } else {
            Standing::Fresh
        };
        found.push(SourceAge {
            source: *name,
            column,
            last,
            days,
            limits,
            configured,
            standing,
        });
    }
    found
}

/// docs/INPUTS.md#freshness: every stale source at once (exit 3), after
/// the warnings of those past `warn_after_days`.
pub fn check(
    pipeline: &Pipeline,
    ages: &[SourceAge],
    files: impl Fn(SourceName) -> String,
    warnings: &mut Vec<String>,
) -> Result<()> {
    for age in ages.iter().filter(|a| a.standing == Standing::Warn) {
        warnings.push(format!(
            "{}: an export that stopped?",
            age.sentence(pipeline, &files(age.source))
        ));
    }
    let stale: Vec<String> = ages
        .iter()
        .filter(|a| a.standing == Standing::Stale)
        .map(|a| format!("\n  - {}", a.sentence(pipeline, &files(a.source))))
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    Err(Error::data_hint(
        format!(
            "{} source(s) end too long before as_of {}: the days after their last date would count as days \
             without activity, revenue or answers:{}",
            stale.len(),
            pipeline.period.as_of,
            stale.concat()
        ),
        "export the missing days, pass an earlier `--as-of` (the day after the data ends), or raise the \
         source's `freshness.error_after_days`",
    ))
}

fn last_day_of_month(day: NaiveDate) -> NaiveDate {
    crate::time::add_months(crate::time::first_day(day), 1) - Days::new(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn monthly_revenue_must_hold_the_month_before_the_as_of_month() {
        // as_of 2026-12-06: November's last day is 6 days before, October's 36.
        let limits = default_limits(SourceName::Revenue, None, day("2026-12-06"));
        assert_eq!(limits.error_after_days, Some(6));
        assert_eq!(last_day_of_month(day("2026-11-01")), day("2026-11-30"));
        assert_eq!((day("2026-12-06") - day("2026-11-30")).num_days(), 6);
        assert_eq!((day("2026-12-06") - day("2026-10-31")).num_days(), 36);
        // as_of on the 1st: November's last day is 1 day before.
        let limits = default_limits(SourceName::Revenue, None, day("2026-12-01"));
        assert_eq!(limits.error_after_days, Some(1));
        assert_eq!(last_day_of_month(day("2024-02-10")), day("2024-02-29"));
    }
}
