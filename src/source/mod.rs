//! Input tables: finding the files of a source, scanning them lazily, renaming
//! columns to their canonical names and normalizing types (SPEC §1, §4).

mod dates;
pub mod file_checks;
mod files;
pub mod invoices;
mod normalize;
pub mod tables;

pub use dates::{widened, DayFormat, SECONDS_PER_DAY};
pub use files::{list_files, SourceFiles};
pub use normalize::{
    build_source, file_name_of, open_source, typed_column, IdValues, LoadedSource, OpenedSource,
    ParseCheck,
};
