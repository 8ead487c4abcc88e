//! `nps`: Net Promoter Score of the responses in the period.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::stats::{Direction, Kind};

/// docs/METRICS.md#nps: "responses with responded_at in [S, A): promoters 9–10,
/// passives 7–8, detractors 0–6; value = 100 × (promoters − detractors) /
/// responses; numerator = promoters − detractors, denominator = responses".
/// Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nps {}

impl Metric for Nps {
    fn description(&self) -> &'static str {
        "Net Promoter Score of the responses in [S, A): 100 × (promoters 9–10 − detractors 0–6) / responses."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        vec![
            (SourceName::NpsResponses, "account_id"),
            (SourceName::NpsResponses, "responded_at"),
            (SourceName::NpsResponses, "score"),
        ]
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let responses = ctx.rows_in_period(SourceName::NpsResponses, "responded_at")?;
        let promoter = col("score").gt_eq(lit(9.0)).cast(DataType::Float64);
        let detractor = col("score").lt_eq(lit(6.0)).cast(DataType::Float64);
        let sums = Sums {
            num: promoter.clone() - detractor.clone(),
            den: lit(1.0),
            a1: promoter,
            a2: detractor,
            ..Sums::zero()
        };
        let plan = Units::new(responses, Reference::PeriodStart, ctx)
            .nested()
            .plan(ctx, Kind::Nps, Direction::HigherIsBetter, sums);
        Ok(MetricPlan::one(plan))
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::*;

    /// In a run, the responses take their account's cohorts from the
    /// computed account frame by id and are restricted to the known
    /// accounts by a lookup, without a join (docs/ARCHITECTURE.md, "The
    /// account frame"); `explain` keeps the frame's plan and its joins.
    /// The numbers are the join's (`nps_counts_responses_in_the_period_only`
    /// runs through the lookup).
    #[test]
    fn responses_take_their_accounts_cohorts_by_id_in_a_run() {
        let fixture = Fixture::tiny();
        let job = fixture.job_at(fixture.pipeline("[nps]", ""));
        let inputs = crate::run::scan(&job, None).expect("inputs scan");
        let shown = |frame| {
            let plans = crate::plan::build_plans(&job, &inputs, None, frame).unwrap();
            let units = &plans.aggregates[0].plan.units;
            units.clone().describe_plan().unwrap()
        };
        let computed = shown(crate::plan::AccountFrame::Computed);
        assert!(computed.contains("__attached_row"), "{computed}");
        assert!(!computed.contains("JOIN"), "{computed}");
        let planned = shown(crate::plan::AccountFrame::Planned);
        assert!(planned.contains("INNER JOIN"), "{planned}");
        assert!(!planned.contains("__attached_row"), "{planned}");
    }

    /// A segment column named like a column of the responses (`score`)
    /// would replace each response's score by its account's: a
    /// configuration error naming the column, in a run and in `explain`.
    #[test]
    fn a_segment_named_like_a_response_column_is_a_configuration_error() {
        let fixture = Fixture::tiny();
        fixture.file(
            "accounts.csv",
            &ACCOUNTS
                .replacen(",plan\n", ",plan,score\n", 1)
                .replace(",a\n", ",a,1\n")
                .replace(",b\n", ",b,2\n"),
        );
        let path = fixture.pipeline("[nps]", "");
        let text = std::fs::read_to_string(&path).expect("pipeline");
        std::fs::write(
            &path,
            text.replace("segment_by: [plan]", "segment_by: [plan, score]"),
        )
        .expect("pipeline");
        let job = fixture.job_at(path);
        let inputs = crate::run::scan(&job, None).expect("inputs scan");
        for frame in [
            crate::plan::AccountFrame::Computed,
            crate::plan::AccountFrame::Planned,
        ] {
            let error = crate::plan::build_plans(&job, &inputs, None, frame)
                .err()
                .expect("the clash is an error");
            assert_eq!(error.exit_code(), 2, "{error}");
            assert!(
                error.to_string().contains("`segment_by` column `score`"),
                "{error}"
            );
            assert!(error.to_string().contains("responded_at"), "{error}");
        }
    }

    #[test]
    fn nps_counts_responses_in_the_period_only() {
        // In [2025-11-01, 2026-01-01): 1→10 (00:00 on S), 1→9 (23:59:59 before A), 3→6, 4→7, 8→3.
        // Out: 2→0 at 00:00 on A, 3→0 at 23:59:59 before S.
        // all: P = 2, D = 2 (6 and 3), N = 5 → NPS 0. trained {1, 4}: 10, 9, 7 → P 2, D 0, N 3 → 66.67.
        // untrained {3}: 6 → D 1, N 1 → −100. 8 is unassigned at S.
        let c = Fixture::tiny().compute("[nps]");
        let all = row(&c, "nps", "all", None, None);
        assert_eq!(
            (all.numerator, all.denominator, all.n),
            (Some(0.0), Some(5.0), 5)
        );
        assert_close(all.value, 0.0);
        let trained = row(&c, "nps", "trained", None, None);
        assert_close(trained.value, 200.0 / 3.0);
        assert_eq!(
            (trained.numerator, trained.denominator),
            (Some(2.0), Some(3.0))
        );
        assert_close(value(&c, "nps", "untrained"), -100.0);
        // Responses are nested in accounts: CR1 by account (docs/STATISTICS.md). x = 100·(P − D) per response;
        // all: accounts 1 (100, 100), 3 (−100), 4 (0), 8 (−100), mean 0;
        // var = 4/3 · (200² + 100² + 0 + 100²)/5² = 3200, se 56.568542 (statsmodels cluster 56.568542494923776).
        assert_eq!(all.clusters, Some(4));
        assert_close(all.ci_high, 1.959964 * 56.568542494923776);
        // trained: accounts 1 (100, 100) and 4 (0): var = 2 · ((200 − 133.33)² + 66.67²)/3² = 1975.31,
        // se 44.444444 (statsmodels 44.44444444444446).
        assert_eq!((trained.n, trained.clusters), (3, Some(2)));
        assert_close(trained.ci_low, 200.0 / 3.0 - 1.959964 * 44.44444444444446);
        // untrained: one account, so no account-to-account variation to estimate: no interval,
        // and no p-value or difference interval for the lift.
        let untrained = row(&c, "nps", "untrained", None, None);
        assert_eq!((untrained.ci_low, untrained.clusters), (None, Some(1)));
        let l = lift(&c, "nps", None);
        assert_eq!(
            (l.p_value, l.diff_ci_low, l.significant),
            (None, None, None)
        );
        assert_close(l.abs_diff, 200.0 / 3.0 + 100.0);
        // rel_lift is null: the untrained NPS is ≤ 0 (docs/OUTPUTS.md).
        assert_eq!(l.rel_lift, None);
    }
}
