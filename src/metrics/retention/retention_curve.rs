//! `retention_curve`: the table of retention by months since signup.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::aggregate::by_cohort_and_segment;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference};
use crate::time::{customer_months_after_signup, date_lit, months_retained, months_until};

/// docs/METRICS.md#retention_curve: "Accounts with signup_date < A. For k = 0 …
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
        RetentionCurve {
            max_months: default_max_months(),
        }
    }
}

fn default_max_months() -> u32 {
    24
}

impl Metric for RetentionCurve {
    fn compares_at(&self) -> Reference {
        Reference::AsOf
    }

    fn description(&self) -> &'static str {
        "Table `retention_curve`: per signup month and k months since signup, accounts at risk and still customers."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::Accounts, "account_id"),
            (SourceName::Accounts, "signup_date"),
        ]
    }

    fn check_config(&self) -> Vec<String> {
        if self.max_months > 600 {
            return vec![format!(
                "`max_months` must be at most 600, got {}",
                self.max_months
            )];
        }
        Vec::new()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let a = date_lit(ctx.period.as_of);
        let ks: Vec<i64> = (0..=self.max_months as i64).collect();
        let ks = DataFrame::new_infer_height(vec![Column::new("months_since_signup".into(), ks)])
            .unwrap_or_default()
            .lazy();
        // add_months(signup, k) ≤ A  ⟺  k ≤ months_until(signup, A); the same with the churn date.
        let observable = months_until(col("signup_date"), a.clone());
        // The accounts counted per cell of what the curve reads of them (cohort, segment,
        // signup month, months observable, months retained): each cell's count stands for its
        // accounts, so the months k are spread over the cells, not over every account.
        let mut cell = ctx.unit_columns(Reference::AsOf);
        cell.extend([
            col("signup_date").dt().month_start().alias("signup_month"),
            observable.alias("observable"),
            months_retained().alias("survived"),
        ]);
        let cells = ctx
            .accounts
            .clone()
            .filter(col("signup_date").lt(a))
            .group_by(cell)
            .agg([len().cast(DataType::Float64).alias("accounts")]);
        let mut columns = vec![col("cohort")];
        columns.extend(ctx.segment_columns());
        columns.extend([
            col("signup_month"),
            col("months_since_signup"),
            col("accounts").alias("at_risk"),
            (customer_months_after_signup(col("months_since_signup"), col("survived"))
                .cast(DataType::Float64)
                * col("accounts"))
            .alias("retained"),
        ]);
        let units = cells
            .cross_join(ks, None)
            .filter(col("months_since_signup").lt_eq(col("observable")))
            .select(columns);
        // Read twice (the curves per signup month and pooled): grouped once.
        let by_month = by_cohort_and_segment(
            units,
            ctx.segment_by,
            &["signup_month", "months_since_signup"],
            &["at_risk", "retained"],
        )
        .cache();
        let pooled = by_month
            .clone()
            .group_by([col("cohort"), col("segment"), col("months_since_signup")])
            .agg([col("at_risk").sum(), col("retained").sum()])
            .with_column(lit(NULL).cast(DataType::Date).alias("signup_month"));
        let curve = concat(
            [by_month, pooled],
            UnionArgs {
                diagonal: true,
                ..Default::default()
            },
        )
        .map_err(|e| crate::error::Error::other(format!("retention_curve plan: {e}")))?
        .select([
            col("cohort"),
            col("segment"),
            col("signup_month"),
            col("months_since_signup").cast(DataType::Int64),
            col("at_risk").cast(DataType::Int64),
            col("retained").cast(DataType::Int64),
            (col("retained") / col("at_risk")).alias("rate"),
        ]);
        Ok(MetricPlan::table("retention_curve", curve))
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use crate::testkit::*;

    fn curve(
        c: &crate::run::Computed,
        cohort: &str,
        signup_month: Option<&str>,
        column: &str,
    ) -> Vec<String> {
        let month = match signup_month {
            Some(m) => col("signup_month").eq(crate::time::date_lit(
                chrono::NaiveDate::parse_from_str(m, "%Y-%m-%d").unwrap(),
            )),
            None => col("signup_month").is_null(),
        };
        let filter = col("cohort")
            .eq(lit(cohort))
            .and(col("segment").is_null())
            .and(month);
        column_values(
            &c.outputs["retention_curve"],
            filter,
            &["months_since_signup"],
            column,
        )
    }

    #[test]
    fn retention_curve_by_months_since_signup() {
        // All 8 accounts signed up before A = 2026-01-01. Checkpoint = add_months(signup, k).
        // k = 0: all 8 at risk, all retained (6's churn equals its signup: churn ≥ checkpoint).
        // k = 1: all at risk; 6 (churn 03-01 < 04-01) lost → 7/8.  k = 2: 5's checkpoint is A itself (≤ A) → 8 at risk, 7/8.
        // k = 3: 5 (2026-02-01) and 8 (2026-01-10) not yet at risk → 6 at risk, 6 lost → 5/6.
        let c = Fixture::tiny().compute("[{ retention_curve: { max_months: 3 } }]");
        assert_eq!(
            curve(&c, "all", None, "months_since_signup"),
            ["0", "1", "2", "3"]
        );
        assert_eq!(curve(&c, "all", None, "at_risk"), ["8", "8", "8", "6"]);
        assert_eq!(curve(&c, "all", None, "retained"), ["8", "7", "7", "5"]);
        // Cohorts at R = A: trained {1, 4, 5, 7}, untrained {2, 3, 8}; 6 is unassigned (only in `all`).
        assert_eq!(curve(&c, "trained", None, "at_risk"), ["4", "4", "4", "3"]);
        assert_eq!(curve(&c, "trained", None, "retained"), ["4", "4", "4", "3"]);
        assert_eq!(
            curve(&c, "untrained", None, "at_risk"),
            ["3", "3", "3", "2"]
        );
        // Signup month 2025-01: accounts 1, 2, 3, all retained through k = 3.
        assert_eq!(
            curve(&c, "all", Some("2025-01-01"), "at_risk"),
            ["3", "3", "3", "3"]
        );
        assert_eq!(
            curve(&c, "all", Some("2025-01-01"), "rate"),
            ["1.0", "1.0", "1.0", "1.0"]
        );
        let k3 = curve(&c, "all", None, "rate")[3].parse::<f64>().unwrap();
        assert!((k3 - 5.0 / 6.0).abs() < 1e-12);
    }
}
