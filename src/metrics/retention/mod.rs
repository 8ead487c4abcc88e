//! Retention: whether customers stay. `logo_retention` and `churn_rate` are
//! two views of pop(S) over `[S, A)`; `monthly_churn_rate` per complete month;
//! `retention_curve` by months since signup; `survival` from the landmark.

pub mod churn_rate;
pub mod logo_retention;
pub mod monthly_churn_rate;
pub mod retention_curve;
pub mod survival;

use polars::prelude::Expr;

use crate::config::SourceName;
use crate::metrics::{MetricPlan, PlanContext, Reference, Sums, Units};
use crate::stats::{Direction, Kind};
use crate::time::{customer_at, date_lit};

/// A proportion over pop(S): `outcome(S, A)` says which accounts count.
pub(crate) fn over_customers_at_start(
    ctx: &PlanContext,
    direction: Direction,
    outcome: fn(Expr, Expr) -> Expr,
) -> MetricPlan {
    let (s, a) = (date_lit(ctx.period.start), date_lit(ctx.period.as_of));
    let population = ctx.accounts.clone().filter(customer_at(s.clone()));
    let plan = Units::new(population, Reference::PeriodStart, ctx).plan(
        ctx,
        Kind::Proportion,
        direction,
        Sums::proportion(outcome(s, a)),
    );
    MetricPlan::one(plan)
}

pub(crate) fn account_requirements() -> Vec<(SourceName, &'static str)> {
    vec![
        (SourceName::Accounts, "account_id"),
        (SourceName::Accounts, "signup_date"),
    ]
}

#[cfg(test)]
mod tests {
    use crate::stats::wilson;
    use crate::testkit::*;

    #[test]
    fn logo_retention_and_churn_rate_on_boundary_days() {
        // pop(S = 2025-11-01) = {1, 2, 3, 4, 8}: 2 churns on S (in pop(S), churned), 3 churns on A (retained),
        // 4 churns on 1 Dec (churned); 5 signs up on S (not in pop(S)); 6 is never a customer; 7 churned before S.
        // all: retained {1, 3, 8} = 3/5, churned {2, 4} = 2/5.
        // trained {1, 4}: retained 1/2, churned 1/2. untrained {2, 3}: retained 1/2, churned 1/2. 8 is unassigned at S.
        let c = Fixture::tiny().compute("[logo_retention, churn_rate]");
        assert_close(value(&c, "logo_retention", "all"), 0.6);
        assert_close(value(&c, "churn_rate", "all"), 0.4);
        for cohort in ["trained", "untrained"] {
            assert_close(value(&c, "logo_retention", cohort), 0.5);
            assert_close(value(&c, "churn_rate", cohort), 0.5);
            assert_eq!(row(&c, "logo_retention", cohort, None, None).n, 2);
        }
        let all = row(&c, "logo_retention", "all", None, None);
        assert_eq!(
            (all.numerator, all.denominator, all.n),
            (Some(3.0), Some(5.0), 5)
        );
        let (lo, hi) = wilson(3.0, 5.0).unwrap();
        assert_close(all.ci_low, lo);
        assert_close(all.ci_high, hi);
        assert_eq!(all.period_start, day("2025-11-01"));
        assert_eq!(all.period_end, day("2026-01-01"));

        // Lift: 1/2 vs 1/2 → difference 0, pooled p = 0.5, z = 0, p = erfc(0) = 1.
        let l = lift(&c, "churn_rate", None);
        assert_close(l.abs_diff, 0.0);
        assert_close(l.rel_lift, 0.0);
        assert_close(l.p_value, 1.0);
        assert_eq!(l.significant, Some(false));
        assert_eq!(l.direction.as_str(), "lower_is_better");
        assert_eq!((l.n_trained, l.n_untrained), (2, 2));
    }

    #[test]
    fn logo_retention_per_segment() {
        // plan=a: pop(S) ∩ a = {1, 2}: retained {1} = 1/2; trained {1} 1/1; untrained {2} 0/1.
        // plan=b: {3, 4, 8}: retained {3, 8} = 2/3; trained {4} 0/1; untrained {3} 1/1.
        let c = Fixture::tiny().compute("[logo_retention]");
        let seg = |cohort: &str, segment: &str| {
            row(&c, "logo_retention", cohort, Some(segment), None).value
        };
        assert_close(seg("all", "plan=a"), 0.5);
        assert_close(seg("trained", "plan=a"), 1.0);
        assert_close(seg("untrained", "plan=a"), 0.0);
        assert_close(seg("all", "plan=b"), 2.0 / 3.0);
        assert_close(seg("trained", "plan=b"), 0.0);
        assert_close(seg("untrained", "plan=b"), 1.0);
        // Untrained 0 in plan=a → rel_lift null.
        let l = lift(&c, "logo_retention", Some("plan=a"));
        assert_eq!(l.rel_lift, None);
        assert_close(l.abs_diff, 1.0);
    }
}
