//! `revenue_movements`: the table of MRR movements per month.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::aggregate::by_cohort_and_segment;
use super::revenue::{monthly_movements, monthly_mrr, requirements};
use super::{Metric, MetricPlan, PlanContext, TablePlan};
use crate::config::SourceName;
use crate::error::Result;

/// SPEC §5 `revenue_movements`: "table revenue_movements (§7): per month,
/// cohort, segment and movement, the sum of the (positive) amounts and the
/// number of distinct accounts; combinations with no account are omitted".
/// Cohorts at R = S. Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevenueMovements {}

impl Metric for RevenueMovements {
    fn summary(&self) -> &'static str {
        "Table `revenue_movements`: per complete month, MRR of new, reactivation, expansion, contraction and churn movements and the accounts behind them."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let mut columns = vec![col("cohort_at_start").alias("cohort")];
        columns.extend(ctx.segment_by.iter().map(|s| col(s.as_str())));
        columns.extend([col("month"), col("movement"), col("amount"), lit(1.0).alias("accounts")]);
        let units = monthly_movements(ctx, monthly_mrr(ctx)?)
            .filter(col("movement").is_not_null())
            .join(ctx.account_dimensions(), [col("account_id")], [col("account_id")], JoinArgs::new(JoinType::Inner))
            .select(columns);
        let table = by_cohort_and_segment(units, ctx.segment_by, &["month", "movement"], &["amount", "accounts"]).select([
            col("month"),
            col("cohort"),
            col("segment"),
            col("movement"),
            (col("amount") / lit(100.0)).alias("mrr"),
            col("accounts").cast(DataType::Int64),
        ]);
        Ok(MetricPlan { aggregates: vec![], tables: vec![TablePlan { table: "revenue_movements", frame: table }] })
    }
}
