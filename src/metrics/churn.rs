//! `logo_retention` and `churn_rate`: two views of pop(S) over `[S, A)`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Direction, Kind, Metric, MetricPlan, PlanContext, Reference, Sums, Units};
use crate::config::SourceName;
use crate::error::Result;
use crate::time::{churned_during, customer_at, date_lit, retained_over};

fn account_requirements() -> Vec<(SourceName, &'static str)> {
    vec![(SourceName::Accounts, "account_id"), (SourceName::Accounts, "signup_date")]
}

/// SPEC §5 `logo_retention`: "retained over [S, A) / pop(S)". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoRetention {}

impl Metric for LogoRetention {
    fn summary(&self) -> &'static str {
        "Share of the customers at S still customers at A: retained over [S, A) / pop(S)."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        account_requirements()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let (s, a) = (date_lit(ctx.period.start), date_lit(ctx.period.as_of));
        let population = ctx.accounts.clone().filter(customer_at(s.clone()));
        let plan = Units::new(population, Reference::PeriodStart, ctx).plan(
            ctx,
            "logo_retention",
            Kind::Proportion,
            Direction::HigherIsBetter,
            Sums::proportion(retained_over(s, a)),
        );
        Ok(MetricPlan { aggregates: vec![plan], tables: vec![] })
    }
}

/// SPEC §5 `churn_rate`: "churned during [S, A) / pop(S)". Takes no parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChurnRate {}

impl Metric for ChurnRate {
    fn summary(&self) -> &'static str {
        "Share of the customers at S who churned before A: churned during [S, A) / pop(S)."
    }

    fn requires(&self) -> Vec<(SourceName, &'static str)> {
        account_requirements()
    }

    fn plan(&self, ctx: &PlanContext) -> Result<MetricPlan> {
        let (s, a) = (date_lit(ctx.period.start), date_lit(ctx.period.as_of));
        let population = ctx.accounts.clone().filter(customer_at(s.clone()));
        let plan = Units::new(population, Reference::PeriodStart, ctx).plan(
            ctx,
            "churn_rate",
            Kind::Proportion,
            Direction::LowerIsBetter,
            Sums::proportion(churned_during(s, a)),
        );
        Ok(MetricPlan { aggregates: vec![plan], tables: vec![] })
    }
}
