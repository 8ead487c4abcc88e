//! The data rules of each source (docs/INPUTS.md, "The checks"): the rules
//! of its canonical table, the rules its columns' kinds bring, and those
//! the configured metrics add.

use polars::prelude::*;

use super::data_rule::{self, integer_between, typed};
use super::Scope;
use crate::config::SourceName;
use crate::source::tables::ColumnKind;
use crate::source::LoadedSource;

/// The date column that says when a source's rows happened (the first date
/// column of its canonical table that the source has).
pub(super) fn main_day(loaded: &LoadedSource) -> Option<&'static str> {
    loaded
        .spec
        .iter()
        .find(|c| c.kind == ColumnKind::Day && loaded.has_column(c.name))
        .map(|c| c.name)
}

/// How a rule finds offending rows.
#[derive(Clone)]
pub(super) enum Check {
    /// Rows of [`LoadedSource::checked`] where the expression is true.
    Row(Expr),
    /// Values of the columns (together) that appear more than once; with
    /// one column, non-null values only (nulls have their own rule).
    Unique(Vec<&'static str>),
    /// Like `Unique`, for a key that holds the day `event_time` (a rollup's):
    /// copies of a key share their day, so the keys are counted a month at a
    /// time, one month after the other, and a group-by holds one month's
    /// keys ([`duplicates_by_month`]).
    UniquePerDay(Vec<&'static str>),
}

/// One rule over one source.
#[derive(Clone)]
pub(super) struct Rule {
    pub(super) source: SourceName,
    pub(super) column: String,
    pub(super) rule: String,
    pub(super) check: Check,
}

pub(super) fn row_rule(source: SourceName, column: &str, rule: &str, bad: Expr) -> Rule {
    Rule {
        source,
        column: column.into(),
        rule: rule.into(),
        check: Check::Row(bad),
    }
}

/// Every rule of docs/INPUTS.md that applies to a loaded source.
pub(super) fn rules_of(loaded: &LoadedSource, scope: &Scope) -> Vec<Rule> {
    let name = loaded.name;
    let mut rules: Vec<Rule> = loaded
        .parse_checks
        .iter()
        .map(|c| row_rule(name, &c.column, &c.rule, c.bad.clone()))
        .collect();
    for spec in loaded.spec {
        if spec.kind == ColumnKind::Number && loaded.has_column(spec.name) {
            // NaN compares above every number and ±inf passes a range on one
            // side: without this rule `mrr` NaN or inf would pass `mrr ≥ 0`.
            let value = typed(spec.name);
            rules.push(row_rule(
                name,
                spec.name,
                "must be a finite number (not NaN or ±infinity)",
                value.clone().is_not_null().and(value.is_finite().not()),
            ));
        }
        // A fact row with an empty account id is dropped and counted with the
        // orphans (one rule for "no known account"), not fatal on its own.
        let fact_account = spec.name == "account_id" && name != SourceName::Accounts;
        if !spec.nullable && loaded.has_column(spec.name) && !fact_account {
            // On the raw value: a value that does not parse is reported by its parse check only.
            rules.push(row_rule(
                name,
                spec.name,
                "must not be null",
                col(spec.name).is_null(),
            ));
        }
    }
    let has = |c: &str| loaded.has_column(c);
    match name {
        SourceName::Accounts => {
            rules.push(Rule {
                source: name,
                column: "account_id".into(),
                rule: "must be unique".into(),
                check: Check::Unique(vec!["account_id"]),
            });
            if has("churn_date") {
                let bad = typed("churn_date").lt(typed("signup_date"));
                rules.push(row_rule(
                    name,
                    "churn_date",
                    "must be on or after signup_date",
                    bad,
                ));
            }
        }
        SourceName::Users => rules.push(Rule {
            source: name,
            column: "user_id".into(),
            rule: "must be unique".into(),
            check: Check::Unique(vec!["user_id"]),
        }),
        SourceName::Revenue if loaded.spec.iter().any(|c| c.name == "mrr") => rules.push(row_rule(
            name,
            "mrr",
            "must be ≥ 0",
            typed("mrr").lt(lit(0.0)),
        )),
        SourceName::Revenue => rules.push(row_rule(
            name,
            "period_end",
            "must be on or after period_start (the end is exclusive)",
            typed("period_end").lt(typed("period_start")),
        )),
        // A rollup row stands for at least one event: every reduction of
        // activity counts a row as activity, so a row of 0 would make its
        // subject active.
        SourceName::Events if loaded.is_rollup() => {
            rules.push(row_rule(
                name,
                "events",
                "must be a whole number ≥ 1 (a rollup row stands for at least one event)",
                integer_between("events", 1.0, u32::MAX as f64),
            ));
            // One row per key: a key written twice is a producer's bug (it
            // would change no number, but Σ events and the rows read). The
            // store's own rollup is one group-by per day, each day's file
            // read only with the size, sha256 and rows its manifest
            // records (docs/INPUTS.md#the-checks).
            let key: Vec<&'static str> = ["account_id", "user_id", "event_time", "event_name"]
                .into_iter()
                .filter(|c| has(c))
                .collect();
            if !loaded.written_by_store {
                rules.push(Rule {
                    source: name,
                    column: key.join(", "),
                    rule: "must be unique together: one row per account, user, day and event name"
                        .into(),
                    check: Check::UniquePerDay(key),
                });
            }
        }
        SourceName::NpsResponses => rules.push(row_rule(
            name,
            "score",
            "must be an integer from 0 to 10",
            integer_between("score", 0.0, 10.0),
        )),
        SourceName::CsatResponses
            if !scope
                .data_rules
                .iter()
                .any(|r| r.source == name && r.column == "score") =>
        {
            let default = data_rule::csat_score(5);
            rules.push(row_rule(name, default.column, &default.rule, default.bad));
        }
        SourceName::Training if has("score") => {
            let bad = typed("score").is_not_null().and(
                typed("score")
                    .lt(lit(0.0))
                    .or(typed("score").gt(lit(100.0))),
            );
            rules.push(row_rule(name, "score", "must be between 0 and 100", bad));
        }
        SourceName::Cancellations => {
            let outcomes = Series::new("outcomes".into(), ["saved", "churned"]);
            let known = typed("outcome")
                .str()
                .to_lowercase()
                .is_in(lit(outcomes).implode(false), false);
            let bad = typed("outcome").is_not_null().and(known.not());
            rules.push(row_rule(
                name,
                "outcome",
                "must be `saved` or `churned` (any case)",
                bad,
            ));
        }
        _ => {}
    }
    for rule in scope.data_rules.iter().filter(|r| r.source == name) {
        rules.push(row_rule(name, rule.column, &rule.rule, rule.bad.clone()));
    }
    rules
}
