//! cohort-metrics: does training customers pay off? Reads a pipeline file,
//! splits customers into trained and untrained cohorts with the landmark
//! rule, computes retention, revenue and survey metrics per cohort with
//! proper statistics, and publishes Parquet tables.
//!
//! Stages, data flowing one way (docs/ARCHITECTURE.md): `config` → `inputs`
//! (`source`, `storage`) → `quality` → `plan` (`cohort`, `time`, `metrics`)
//! → `execute` (with the statistics stage of `stats`) → `output` (`tables`,
//! `partition`). `run` keeps their order and logging.

pub mod activity;
pub mod catalog;
pub mod cohort;
pub mod config;
pub mod draft;
pub mod error;
pub mod execute;
pub mod frame;
pub mod generate;
pub mod ids;
pub mod inputs;
pub mod log;
pub mod metrics;
pub mod output;
pub mod plan;
pub mod quality;
pub mod redact;
pub mod report;
pub mod run;
pub mod source;
pub mod stats;
pub mod storage;
pub mod strata;
#[cfg(test)]
pub mod testkit;
pub mod time;
