//! The pipeline file (docs/PIPELINE.md): serde types that only parse, and `load`,
//! which interpolates `${VAR}`, applies `--set` and reports errors with the
//! file's line and column. `resolve` turns the parsed file into a [`Pipeline`]
//! that nothing after it needs to reread.

mod activity;
mod interpolate;
mod load;
mod resolve;
mod source;
mod types;

pub use activity::{SparkSettings, StoreSettings};
pub use load::{apply_set, load_pipeline_file, parse_pipeline_text, LoadOptions};
pub use resolve::{resolve, Pipeline};
pub use source::{format_from_extension, format_from_name, ResolvedSource};
pub use types::*;
