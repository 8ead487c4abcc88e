//! Monthly recurring revenue from signup to churn, with the planted expansion.

use super::{day_to_date, Account, Buffer, Effects, Rng, Tables, BASE_MRR};
use crate::time::{add_months, date_to_days, first_day};

#[allow(clippy::too_many_arguments)]
pub(super) fn simulate_revenue(rng: &mut Rng, account: &Account, tables: &mut Tables) {
    let (low, high) = BASE_MRR[account.plan];
    let mut mrr = rng.between(low, high);
    let expansion = account.planted(Effects::EXPANSION_TRAINED, Effects::EXPANSION_UNTRAINED);
    let mut month = first_day(day_to_date(account.signup));
    let mut first = true;
    while date_to_days(month) < account.alive_end.min(account.end_day) {
        if !first {
            let r = rng.uniform();
            if r < expansion {
                mrr *= rng.between(1.1, 1.5);
            } else if r < expansion + Effects::CONTRACTION {
                mrr *= rng.between(0.6, 0.9);
            }
        }
        let paused = !first && rng.chance(0.01);
        if !paused {
            let total = (mrr * 100.0).round() / 100.0;
            let month_day = date_to_days(month);
            let day_in_month = |rng: &mut Rng| {
                if rng.chance(0.2) {
                    month_day + rng.int(0, 27) as i32
                } else {
                    month_day
                }
            };
            if rng.chance(0.1) {
                let part = (total * 0.7 * 100.0).round() / 100.0;
                let d1 = day_in_month(rng);
                push!(tables.revenue, "account_id" => Int(account.id), "month" => Day(Some(d1)), "mrr" => Float(Some(part)));
                let d2 = day_in_month(rng);
                push!(tables.revenue, "account_id" => Int(account.id), "month" => Day(Some(d2)), "mrr" => Float(Some(((total - part) * 100.0).round() / 100.0)));
            } else {
                let d = day_in_month(rng);
                push!(tables.revenue, "account_id" => Int(account.id), "month" => Day(Some(d)), "mrr" => Float(Some(total)));
            }
        }
        first = false;
        month = add_months(month, 1);
    }
}
