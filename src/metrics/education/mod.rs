//! Education: completions, assessment scores and training activity of the
//! customers in the period.

pub mod education_engagement;
pub mod knowledge_retention;
pub mod training_completion_rate;
