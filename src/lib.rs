//! cohort-metrics: does training customers pay off? Reads a pipeline file,
//! splits customers into trained and untrained cohorts with the landmark
//! rule, computes retention, revenue and survey metrics per cohort with
//! proper statistics, and publishes Parquet tables.
//!
//! Layers, data flowing one way: `config` → plan (`source`, `inputs`,
//! `quality`, `time`, `cohort`, `metrics`) → `execute`/`summary` → `output`.

pub mod catalog;
pub mod cohort;
pub mod config;
pub mod error;
pub mod execute;
pub mod generate;
pub mod inputs;
pub mod log;
pub mod metrics;
pub mod output;
pub mod quality;
pub mod run;
pub mod source;
pub mod stats;
pub mod storage;
pub mod summary;
#[cfg(test)]
pub mod testkit;
pub mod time;
