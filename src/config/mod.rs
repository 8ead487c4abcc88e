//! The pipeline file (SPEC §0): serde types that only parse, and `load`,
//! which interpolates `${VAR}`, applies `--set` and reports errors with the
//! file's line and column. `resolve` turns the parsed file into a [`Pipeline`]
//! that nothing after it needs to reread.

mod interpolate;
mod load;
mod resolve;
mod types;

pub use load::{apply_set, load_pipeline_file, parse_pipeline_text, LoadOptions};
pub use resolve::{
    format_from_extension, format_from_name, resolve, Pipeline, ResolvedSource, SparkSettings,
    StoreSettings,
};
pub use types::*;
