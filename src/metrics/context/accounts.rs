//! The account frame in the plans (docs/ARCHITECTURE.md, "The account
//! frame"): computed once before them, its cohorts and segments attached
//! to row-level facts by id.

use polars::prelude::*;

use super::PlanContext;
use crate::config::SourceName;
use crate::error::{Error, Result};
use crate::frame::{Attachable, Unmatched};
use crate::time::{date_lit, in_range};

impl PlanContext<'_> {
    /// The account frame computed before the plans are built: the plans
    /// read it from memory, and row-level facts take their account's
    /// dimensions from it by id ([`PlanContext::with_dimensions`]).
    pub fn with_computed_accounts(mut self, accounts: DataFrame) -> Result<Self> {
        self.accounts = accounts.lazy();
        let what = "reading the account frame";
        // A projection of the frame in memory.
        let dimensions = crate::frame::collect_all(vec![self.account_dimensions()], what)?
            .pop()
            .unwrap_or_default();
        self.dimensions =
            Attachable::new(dimensions, "account_id").map_err(|e| Error::engine(what, e))?;
        Ok(self)
    }

    /// The account columns that row-level metrics join to their rows:
    /// `account_id`, both cohort columns and the segment columns.
    pub fn account_dimensions(&self) -> LazyFrame {
        if let Some(dimensions) = &self.dimensions {
            return dimensions.frame().clone().lazy();
        }
        let mut columns = vec![col("account_id")];
        columns.extend(self.dimension_columns());
        self.accounts.clone().select(columns)
    }

    /// docs/METRICS.md#cohorts: "A row-level metric takes the cohort of the row's account."
    /// The rows of `source` whose `day_column` falls in `[S, A)`, with the
    /// account's cohorts and segment columns joined.
    pub fn rows_in_period(&self, source: SourceName, day_column: &str) -> Result<LazyFrame> {
        let (s, a) = (date_lit(self.period.start), date_lit(self.period.as_of));
        self.with_dimensions(self.source(source)?.filter(in_range(col(day_column), s, a)))
    }

    /// docs/METRICS.md#cohorts: "A row-level metric takes the cohort of the row's account."
    /// `rows` with their account's cohorts and segment columns
    /// ([`PlanContext::account_dimensions`]), the rows of an account not in
    /// the account frame dropped: an inner join, done as a lookup by id
    /// when the account frame is computed ([`crate::frame::Attachable`]).
    /// A segment column with the name of one of the rows' own columns is a
    /// configuration error (docs/PIPELINE.md#segment_by): the rows would
    /// take the account's value in place of their own.
    pub fn with_dimensions(&self, rows: LazyFrame) -> Result<LazyFrame> {
        let schema = rows
            .clone()
            .collect_schema()
            .map_err(|e| Error::engine("attaching the account dimensions", e))?;
        if let Some(column) = self.segment_by.iter().find(|c| schema.contains(c)) {
            let columns: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
            return Err(Error::config(format!(
                "`segment_by` column `{column}` has the name of a column of the fact rows a \
                 metric breaks down by account ({}): they would take the account's `{column}` \
                 in place of their own; rename the column in the accounts file",
                columns.join(", ")
            )));
        }
        if let Some(dimensions) = &self.dimensions {
            let attached = dimensions
                .attach(rows.clone(), "account_id", Unmatched::Dropped)
                .map_err(|e| Error::engine("attaching the account dimensions", e))?;
            if let Some(attached) = attached {
                return Ok(attached);
            }
        }
        Ok(rows.join(
            self.account_dimensions(),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        ))
    }
}
