//! Outputs (SPEC §7): the tables' schemas, Parquet writing, the manifest and
//! the atomic publish of the `as_of=YYYY-MM-DD/` partition.

pub mod manifest;
pub mod publish;
pub mod s3_publish;
pub mod tables;
