//! `nps`: Net Promoter Score of the responses in the period.

use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Direction, Kind, Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::config::SourceName;
use crate::error::Result;
use crate::time::{date_lit, in_range};

/// SPEC §5 `nps`: "responses with responded_at in [S, A): promoters 9–10,
/// passives 7–8, detractors 0–6; value = 100 × (promoters − detractors) /
/// responses; numerator = promoters − detractors, denominator = responses".
/// Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nps {}

impl Metric for Nps {
    fn summary(&self) -> &'static str {
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
        let responses = ctx
            .source(SourceName::NpsResponses)?
            .filter(in_range(col("responded_at"), date_lit(ctx.period.start), date_lit(ctx.period.as_of)))
            .join(ctx.account_dimensions(), [col("account_id")], [col("account_id")], JoinArgs::new(JoinType::Inner));
        let promoter = col("score").gt_eq(lit(9.0)).cast(DataType::Float64);
        let detractor = col("score").lt_eq(lit(6.0)).cast(DataType::Float64);
        let sums = Sums {
            num: promoter.clone() - detractor.clone(),
            den: lit(1.0),
            a1: promoter,
            a2: detractor,
            ..Sums::zero()
        };
        let plan =
            Units::new(responses, Reference::PeriodStart, ctx).plan(ctx, "nps", Kind::Nps, Direction::HigherIsBetter, sums);
        Ok(MetricPlan { aggregates: vec![plan], tables: vec![] })
    }
}
