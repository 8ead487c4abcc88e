//! Outputs (docs/OUTPUTS.md): the tables' schemas and shapes ([`tables`]), and the
//! publish of the `as_of=YYYY-MM-DD/` partition ([`partition`]).

pub mod drift;
pub mod history;
pub mod impact;
pub mod partition;
pub mod tables;
