//! `retention_curve`: the table of retention by months since signup.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::aggregate::by_cohort_and_segment;
use super::{Metric, MetricPlan, PlanContext, TablePlan};
use crate::config::{PipelineFile, SourceName};
use crate::error::Result;
use crate::time::date_lit;

/// SPEC §5 `retention_curve`: "Accounts with signup_date < A. For k = 0 …
/// max_months (default 24) and each signup month (plus pooled, signup_month
/// null): at_risk = accounts with add_months(signup_date, k) ≤ A; retained =
/// those with churn_date null or ≥ add_months(signup_date, k). Cohorts with R = A".
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionCurve {
    /// Last month since signup to report (default 24).
    #[serde(default = "default_max_months")]
    pub max_months: u32,
}

impl Default for RetentionCurve {
    fn default() -> Self {
        RetentionCurve { max_months: default_max_months() }
    }
}

fn default_max_months() -> u32 {
    24
}

impl Metric for RetentionCurve {
    fn summary(&self) -> &'static str {
        "Table `retention_curve`: per signup month and k months since signup, accounts at risk and still customers."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![(SourceName::Accounts, "account_id"), (SourceName::Accounts, "signup_date")]
    }

    fn check_config(&self, _file: &PipelineFile) -> Vec<String> {
        if self.max_months > 600 {
            return vec![format!("`max_months` must be at most 600, got {}", self.max_months)];
        }
        Vec::new()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let a = date_lit(ctx.period.as_of);
        let ks: Vec<i64> = (0..=self.max_months as i64).collect();
        let ks = DataFrame::new_infer_height(vec![Column::new("months_since_signup".into(), ks)])
            .unwrap_or_default()
            .lazy();
        let checkpoint = col("signup_date")
            .dt()
            .offset_by(concat_str([col("months_since_signup").cast(DataType::String), lit("mo")], "", false));
        let mut columns = vec![col("cohort_at_as_of").alias("cohort")];
        columns.extend(ctx.segment_by.iter().map(|s| col(s.as_str())));
        columns.extend([
            col("signup_date").dt().month_start().alias("signup_month"),
            col("months_since_signup"),
            lit(1.0).alias("at_risk"),
            (col("churn_date").is_null().or(col("churn_date").gt_eq(col("checkpoint"))))
                .cast(DataType::Float64)
                .alias("retained"),
        ]);
        let units = ctx
            .accounts
            .clone()
            .filter(col("signup_date").lt(a.clone()))
            .cross_join(ks, None)
            .with_column(checkpoint.alias("checkpoint"))
            .filter(col("checkpoint").lt_eq(a))
            .select(columns);
        let by_month = by_cohort_and_segment(
            units,
            ctx.segment_by,
            &["signup_month", "months_since_signup"],
            &["at_risk", "retained"],
        );
        let pooled = by_month
            .clone()
            .group_by([col("cohort"), col("segment"), col("months_since_signup")])
            .agg([col("at_risk").sum(), col("retained").sum()])
            .with_column(lit(NULL).cast(DataType::Date).alias("signup_month"));
        let curve = concat([by_month, pooled], UnionArgs { diagonal: true, ..Default::default() })
            .map_err(|e| crate::error::Error::Other(format!("retention_curve plan: {e}")))?
            .select([
                col("cohort"),
                col("segment"),
                col("signup_month"),
                col("months_since_signup").cast(DataType::Int64),
                col("at_risk").cast(DataType::Int64),
                col("retained").cast(DataType::Int64),
                (col("retained") / col("at_risk")).alias("rate"),
            ]);
        Ok(MetricPlan { aggregates: vec![], tables: vec![TablePlan { table: "retention_curve", frame: curve }] })
    }
}
