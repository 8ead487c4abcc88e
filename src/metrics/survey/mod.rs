//! Surveys: `nps` and `csat` from the responses in the period.

pub mod csat;
pub mod nps;
