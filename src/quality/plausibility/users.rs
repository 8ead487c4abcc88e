//! User ids: the share of `events` and `training` rows whose user is in
//! `users`, and examples from both sides when it is too low.

use polars::prelude::*;

use crate::config::{Pipeline, SourceName};
use crate::error::{Error, Result};
use crate::quality::report::values_shown;

/// Which side keys users: `events` or `training`.
#[derive(Debug, Clone, Copy)]
pub(super) enum UserSide {
    Events,
    Training,
}

impl UserSide {
    pub(super) fn source(self) -> SourceName {
        match self {
            UserSide::Events => SourceName::Events,
            UserSide::Training => SourceName::Training,
        }
    }
}

pub(super) fn user_ids(frame: LazyFrame) -> LazyFrame {
    frame
        .select([col("user_id")])
        .filter(col("user_id").is_not_null())
        .unique(None, UniqueKeepStrategy::Any)
}

/// Examples of a side's user ids missing from `users`, and of `users`' ids.
pub(super) fn overlap_plans(ids: LazyFrame, users: LazyFrame) -> Vec<LazyFrame> {
    let examples = |frame: LazyFrame| {
        frame
            .select([col("user_id").cast(DataType::String)])
            .sort(["user_id"], SortMultipleOptions::default())
            .limit(5)
    };
    vec![
        examples(ids.anti_join(users.clone(), col("user_id"), col("user_id"))),
        examples(users),
    ]
}

/// Too few rows of a side have a user of `users`: the error, with examples.
pub(super) fn user_overlap_error(
    pipeline: &Pipeline,
    side: UserSide,
    share: f64,
    total: u64,
    examples: &[DataFrame],
) -> Result<()> {
    let shown = |df: &DataFrame| values_shown(df, "user_id");
    let source = side.source();
    Err(Error::data_hint(
        format!(
            "source `{source}`: {:.0} % of its {total} rows with a user id have a user of `users`, below \
             quality.min_user_overlap {:.0} %: user-level metrics would find almost no one\n\
             e.g. in `{source}`: {}; in `users`: {}",
            share * 100.0,
            pipeline.quality.min_user_overlap * 100.0,
            shown(&examples[0]),
            shown(&examples[1])
        ),
        "the two sources key users differently (an email against an id?): map the same id in `columns` of both",
    ))
}
