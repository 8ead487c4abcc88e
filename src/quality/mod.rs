//! SPEC §4 rules as lazy checks, run before anything is written (SPEC §9):
//! every broken rule is reported at once with the source, file, column, rule,
//! the number of offending rows and up to five example rows.

mod report;

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::config::{OrphanPolicy, Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::metrics::MetricConfig;
use crate::source::tables::columns_of;
use crate::source::LoadedSource;

pub use report::format_examples;

/// How many example rows a violation shows.
pub const EXAMPLES: usize = 5;

/// One rule over one source: `offending` holds the rows that break it.
pub struct Rule {
    pub source: SourceName,
    pub column: String,
    pub rule: String,
    pub offending: LazyFrame,
}

/// A broken rule, with its count and examples.
#[derive(Debug, Clone)]
pub struct Violation {
    pub source: SourceName,
    pub files: String,
    pub column: String,
    pub rule: String,
    pub count: u64,
    pub examples: DataFrame,
}

/// What the checks found: rows read and orphans dropped per source, and
/// broken rules.
#[derive(Debug, Clone, Default)]
pub struct QualityReport {
    pub rows_read: BTreeMap<SourceName, u64>,
    pub orphans: BTreeMap<SourceName, u64>,
    pub violations: Vec<Violation>,
}

impl QualityReport {
    /// Exit 3 with every violation listed, or Ok.
    pub fn into_result(self) -> Result<QualityReport> {
        if self.violations.is_empty() {
            return Ok(self);
        }
        let mut message = format!("input data broke {} rule(s):", self.violations.len());
        for v in &self.violations {
            message.push_str(&format!(
                "\n  - source `{}` ({}), column `{}`: {} — {} row(s) break it; examples:\n{}",
                v.source,
                v.files,
                v.column,
                v.rule,
                v.count,
                format_examples(&v.examples, "      ")
            ));
        }
        Err(Error::Data(message))
    }
}

/// Builds the rules for every loaded source.
pub fn rules(inputs: &Inputs, pipeline: &Pipeline) -> Vec<Rule> {
    let mut rules = Vec::new();
    for (name, loaded) in &inputs.sources {
        for check in &loaded.parse_checks {
            rules.push(Rule {
                source: *name,
                column: check.column.clone(),
                rule: check.rule.clone(),
                offending: loaded.raw.clone().filter(check.bad.clone()),
            });
        }
        for spec in columns_of(*name) {
            if !spec.nullable && loaded.has_column(spec.name) {
                rules.push(rule(
                    loaded,
                    spec.name,
                    "must not be null",
                    col(spec.name).is_null(),
                ));
            }
        }
        rules.extend(source_rules(loaded, pipeline));
    }
    rules
}

fn rule(loaded: &LoadedSource, column: &str, text: &str, bad: Expr) -> Rule {
    Rule {
        source: loaded.name,
        column: column.into(),
        rule: text.into(),
        offending: loaded.frame.clone().filter(bad),
    }
}

fn unique_rule(loaded: &LoadedSource, column: &str) -> Rule {
    let duplicated = loaded
        .frame
        .clone()
        .filter(col(column).is_not_null())
        .group_by([col(column)])
        .agg([len().alias("copies")])
        .filter(col("copies").gt(lit(1)))
        .select([col(column)]);
    Rule {
        source: loaded.name,
        column: column.into(),
        rule: "must be unique".into(),
        offending: loaded
            .frame
            .clone()
            .semi_join(duplicated, col(column), col(column))
            .sort([column], Default::default()),
    }
}

fn integer_between(column: &str, low: f64, high: f64) -> Expr {
    let c = col(column);
    c.clone().is_not_null().and(
        c.clone()
            .lt(lit(low))
            .or(c.clone().gt(lit(high)))
            .or(c.clone().round(0, RoundMode::HalfAwayFromZero).neq(c)),
    )
}

fn source_rules(loaded: &LoadedSource, pipeline: &Pipeline) -> Vec<Rule> {
    let mut rules = Vec::new();
    let has = |c: &str| loaded.has_column(c);
    match loaded.name {
        SourceName::Accounts => {
            rules.push(unique_rule(loaded, "account_id"));
            if has("churn_date") {
                rules.push(rule(
                    loaded,
                    "churn_date",
                    "must be on or after signup_date",
                    col("churn_date").lt(col("signup_date")),
                ));
            }
        }
        SourceName::Users => rules.push(unique_rule(loaded, "user_id")),
        SourceName::Revenue => {
            rules.push(rule(loaded, "mrr", "must be ≥ 0", col("mrr").lt(lit(0.0))))
        }
        SourceName::NpsResponses => rules.push(rule(
            loaded,
            "score",
            "must be an integer from 0 to 10",
            integer_between("score", 0.0, 10.0),
        )),
        SourceName::CsatResponses => {
            let scale_max = csat_scale_max(pipeline);
            let text = format!("must be an integer from 1 to {scale_max} (the csat scale_max)");
            rules.push(rule(
                loaded,
                "score",
                &text,
                integer_between("score", 1.0, scale_max as f64),
            ));
        }
        SourceName::Training if has("score") => {
            let bad = col("score")
                .is_not_null()
                .and(col("score").lt(lit(0.0)).or(col("score").gt(lit(100.0))));
            rules.push(rule(loaded, "score", "must be between 0 and 100", bad));
        }
        SourceName::Cancellations => {
            let outcomes = Series::new("outcomes".into(), ["saved", "churned"]);
            let bad = col("outcome").is_not_null().and(
                col("outcome")
                    .str()
                    .to_lowercase()
                    .is_in(lit(outcomes).implode(false), false)
                    .not(),
            );
            rules.push(rule(
                loaded,
                "outcome",
                "must be `saved` or `churned` (any case)",
                bad,
            ));
        }
        _ => {}
    }
    rules
}

fn csat_scale_max(pipeline: &Pipeline) -> u32 {
    pipeline
        .file
        .metrics
        .iter()
        .find_map(|m| match m {
            MetricConfig::Csat(csat) => Some(csat.scale_max),
            _ => None,
        })
        .unwrap_or(5)
}

/// Runs every rule, counts rows and orphans, in one pass over the inputs.
pub fn check(inputs: &Inputs, pipeline: &Pipeline) -> Result<QualityReport> {
    let rules = rules(inputs, pipeline);
    let sources: Vec<SourceName> = inputs.sources.keys().copied().collect();
    let facts: Vec<SourceName> = sources
        .iter()
        .copied()
        .filter(|s| *s != SourceName::Accounts)
        .collect();

    let mut plans = Vec::new();
    for name in &sources {
        plans.push(
            inputs.sources[name]
                .frame
                .clone()
                .select([len().cast(DataType::UInt64).alias("rows")]),
        );
    }
    for name in &facts {
        plans.push(
            inputs
                .orphans(*name)?
                .select([len().cast(DataType::UInt64).alias("rows")]),
        );
    }
    for rule in &rules {
        plans.push(
            rule.offending
                .clone()
                .select([len().cast(DataType::UInt64).alias("rows")]),
        );
        plans.push(rule.offending.clone().limit(EXAMPLES as u32));
    }
    let results = crate::execute::collect_all(plans, "checking input data")?;
    let count = |df: &DataFrame| -> u64 {
        df.column("rows")
            .ok()
            .and_then(|c| c.u64().ok().and_then(|ca| ca.get(0)))
            .unwrap_or(0)
    };
    let mut results = results.into_iter();
    let mut report = QualityReport::default();
    for name in &sources {
        let df = results.next().unwrap_or_default();
        report.rows_read.insert(*name, count(&df));
    }
    for name in &facts {
        let df = results.next().unwrap_or_default();
        report.orphans.insert(*name, count(&df));
    }
    for rule in rules {
        let counted = results.next().unwrap_or_default();
        let examples = results.next().unwrap_or_default();
        let n = count(&counted);
        if n > 0 {
            report.violations.push(Violation {
                source: rule.source,
                files: inputs.sources[&rule.source].files_shown(),
                column: rule.column,
                rule: rule.rule,
                count: n,
                examples,
            });
        }
    }
    for (name, orphans) in &report.orphans {
        if *orphans == 0 {
            continue;
        }
        if pipeline.file.quality.orphans == OrphanPolicy::Error {
            let loaded = &inputs.sources[name];
            let examples = crate::execute::collect_all(
                vec![inputs.orphans(*name)?.limit(EXAMPLES as u32)],
                "finding orphan rows",
            )?
            .pop()
            .unwrap_or_default();
            report.violations.push(Violation {
                source: *name,
                files: loaded.files_shown(),
                column: "account_id".into(),
                rule: "must be an account_id of `accounts` (quality.orphans: error)".into(),
                count: *orphans,
                examples,
            });
        } else {
            crate::log::warn(
                "check",
                &format!("source `{name}`: dropped {orphans} row(s) whose account_id is not in `accounts`"),
            );
        }
    }
    Ok(report)
}
