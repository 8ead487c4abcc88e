//! `revenue_movements`: the table of MRR movements per month.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mrr::{monthly_movements, requirements, Movement};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::aggregate::by_cohort_and_segment;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference};

/// docs/METRICS.md#revenue_movements: "table revenue_movements (§7): per month,
/// cohort, segment and movement, the sum of the (positive) amounts and the
/// number of distinct accounts; combinations with no account are omitted".
/// Cohorts at R = S. Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevenueMovements {}

impl Metric for RevenueMovements {
    fn description(&self) -> &'static str {
        "Table `revenue_movements`: per complete month, MRR of new, reactivation, expansion, contraction and churn movements and the accounts behind them."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        requirements()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let mut columns = ctx.unit_columns(Reference::PeriodStart);
        columns.extend([
            col("month"),
            col("movement"),
            col("amount"),
            lit(1.0).alias("accounts"),
        ]);
        let units = ctx
            .with_dimensions(monthly_movements(ctx)?.filter(col("movement").is_not_null()))?
            .select(columns);
        let table = by_cohort_and_segment(
            units,
            ctx.segment_by,
            &["month", "movement"],
            &["amount", "accounts"],
        )
        .select([
            col("month"),
            col("cohort"),
            col("segment"),
            Movement::label_of(col("movement")).alias("movement"),
            (col("amount") / lit(100.0)).alias("mrr"),
            col("accounts").cast(DataType::Int64),
        ]);
        Ok(MetricPlan::table("revenue_movements", table))
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use crate::testkit::*;

    fn movements(c: &crate::run::Computed, cohort: &str) -> Vec<String> {
        let filter = col("cohort").eq(lit(cohort)).and(col("segment").is_null());
        let df = &c.outputs["revenue_movements"];
        let keys = ["month", "movement"];
        let month = column_values(df, filter.clone(), &keys, "month");
        let movement = column_values(df, filter.clone(), &keys, "movement");
        let mrr = column_values(df, filter.clone(), &keys, "mrr");
        let accounts = column_values(df, filter, &keys, "accounts");
        (0..month.len())
            .map(|i| format!("{} {} {} {}", month[i], movement[i], mrr[i], accounts[i]))
            .collect()
    }

    #[test]
    fn movements_per_month_and_cohort() {
        // MRR (Oct → Nov → Dec): 1: 100 → 120 (60 + 60, one row dated 11-15) → 120; 2: 50 → 0 → 0;
        // 3: 0 (paid in Aug) → 90 → 70; 4: 200 → 200 → 0; 5: 0 → 40 → 40 (first payment); 8: 30 → 30 → 45.
        // 1's January row is on A (not observed); 99 is an orphan.
        // Nov: 1 expansion 20, 2 churn 50, 3 reactivation 90, 5 new 40. Dec: 3 contraction 20, 4 churn 200, 8 expansion 15.
        let c = Fixture::tiny().compute("[revenue_movements]");
        assert_eq!(
            movements(&c, "all"),
            [
                "2025-11-01 churn 50.0 1",
                "2025-11-01 expansion 20.0 1",
                "2025-11-01 new 40.0 1",
                "2025-11-01 reactivation 90.0 1",
                "2025-12-01 churn 200.0 1",
                "2025-12-01 contraction 20.0 1",
                "2025-12-01 expansion 15.0 1",
            ]
        );
        // Cohorts at S: trained {1, 4}, untrained {2, 3}; 5 and 8 are unassigned.
        assert_eq!(
            movements(&c, "trained"),
            ["2025-11-01 expansion 20.0 1", "2025-12-01 churn 200.0 1"]
        );
        assert_eq!(
            movements(&c, "untrained"),
            [
                "2025-11-01 churn 50.0 1",
                "2025-11-01 reactivation 90.0 1",
                "2025-12-01 contraction 20.0 1"
            ]
        );
        assert_eq!(c.report.orphans[&crate::config::SourceName::Revenue], 1);
    }

    #[test]
    fn a_month_cancelled_by_a_credit_note_was_never_paid() {
        // Invoices: account 3 is billed 80 for August and credited 80 in August (the month sums to 0),
        // then billed 90 for November: its first paid month is November, so November is `new`, not
        // `reactivation` (a month counts as paid by its sum, not by one of its rows). Account 1:
        // 100 in October, 130 in November (expansion 30). No invoice pays for December: both churn (130 + 90).
        let fixture = Fixture::tiny();
        fixture.file(
            "invoices.csv",
            "account_id,period_start,period_end,amount\n\
             3,2025-08-01,2025-09-01,80\n3,2025-08-10,2025-08-10,-80\n3,2025-11-01,2025-12-01,90\n\
             1,2025-10-01,2025-11-01,100\n1,2025-11-01,2025-12-01,130\n",
        );
        let text = std::fs::read_to_string(fixture.pipeline("[revenue_movements]", ""))
            .unwrap()
            .replace(
                "revenue: { path: revenue.csv }",
                "revenue: { path: invoices.csv, grain: invoice }",
            );
        let c = fixture.compute_path(fixture.file("invoices.yaml", &text));
        assert_eq!(
            movements(&c, "all"),
            [
                "2025-11-01 expansion 30.0 1",
                "2025-11-01 new 90.0 1",
                "2025-12-01 churn 220.0 2",
            ]
        );
    }

    #[test]
    fn each_movement_code_reads_as_its_label() {
        use super::Movement;
        // Codes 0..=4 in the order of Movement::ALL, a code of no movement and null.
        let codes = Series::new(
            "code".into(),
            [Some(0u8), Some(1), Some(2), Some(3), Some(4), Some(5), None],
        );
        let df = DataFrame::new_infer_height(vec![codes.into()])
            .unwrap()
            .lazy()
            .select([Movement::label_of(col("code")).alias("label")])
            .collect()
            .unwrap();
        let labels: Vec<Option<&str>> = df.column("label").unwrap().str().unwrap().iter().collect();
        assert_eq!(
            labels,
            [
                Some("new"),
                Some("reactivation"),
                Some("expansion"),
                Some("contraction"),
                Some("churn"),
                None,
                None
            ]
        );
        // The report reads the movements in the same order.
        let all: Vec<&str> = Movement::ALL.iter().map(|m| m.label()).collect();
        assert_eq!(all, crate::report::data::MOVEMENTS);
    }

    #[test]
    fn movements_reconcile_with_mrr() {
        // Σ MRR(M0 = Oct) = 100 + 50 + 200 + 30 = 380; Σ MRR(Mk = Dec) = 120 + 70 + 40 + 45 = 275.
        // new + reactivation + expansion − contraction − churn must equal 275 − 380 = −105.
        let c = Fixture::tiny().compute("[revenue_movements]");
        let df = c.outputs["revenue_movements"]
            .clone()
            .lazy()
            .filter(col("cohort").eq(lit("all")).and(col("segment").is_null()))
            .select([when(col("movement").is_in(
                lit(Series::new("m".into(), ["contraction", "churn"])).implode(false),
                false,
            ))
            .then(-col("mrr"))
            .otherwise(col("mrr"))
            .sum()
            .alias("net")])
            .collect()
            .unwrap();
        let net = df.column("net").unwrap().f64().unwrap().get(0).unwrap();
        assert!((net - (275.0 - 380.0)).abs() < 1e-9, "{net}");
    }
}
