//! Input tables: finding the files of a source, scanning them lazily, renaming
//! columns to their canonical names and typing them (docs/INPUTS.md).

mod columns;
mod dates;
pub mod file_checks;
mod files;
pub mod invoices;
mod loaded;
pub mod names;
mod ndjson;
mod reader;
mod row_filter;
mod spill;
pub mod status;
pub mod tables;
mod text_files;

pub use dates::{parse_day_with, parse_utc_day, to_day, widened, DayFormat, SECONDS_PER_DAY};
pub use files::{list_files, SourceFiles};
pub use loaded::{typed_column, AccountKey, LoadedSource, ParseCheck, NAME_KEY};
pub use ndjson::flatten as flatten_nested;
pub use reader::{build_source, file_name_of, open_source, IdValues, OpenedSource};
pub use row_filter::value_counts;
pub use spill::{SpillDir, Spilled};
