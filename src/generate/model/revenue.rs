//! Monthly recurring revenue from signup to churn, with the planted expansion.

use super::{day_to_date, Account, Buffer, Effects, Rng, Tables, Truth, BASE_MRR};
use crate::time::{add_months, date_to_days, first_day};

/// Simulates the account's revenue rows, and its MRR had its training had no
/// effect: each month's uniform draw held against the untrained thresholds
/// (a multiplier the generated month did not draw comes from the truth's stream).
pub(super) fn simulate_revenue(
    rng: &mut Rng,
    account: &Account,
    truth: &mut Truth,
    tables: &mut Tables,
) {
    let (low, high) = BASE_MRR[account.plan];
    let mut mrr = rng.between(low, high);
    let mut untrained_mrr = mrr;
    let expansion = account.planted(Effects::EXPANSION_TRAINED, Effects::EXPANSION_UNTRAINED);
    let mut month = first_day(day_to_date(account.signup));
    let mut first = true;
    while date_to_days(month) < account.alive_end.min(account.end_day) {
        if !first {
            let r = rng.uniform();
            let mut change = None;
            if r < expansion {
                change = Some((true, rng.between(1.1, 1.5)));
            } else if r < expansion + Effects::CONTRACTION {
                change = Some((false, rng.between(0.6, 0.9)));
            }
            mrr *= change.map_or(1.0, |(_, factor)| factor);
            let untrained = if r < Effects::EXPANSION_UNTRAINED {
                Some(true)
            } else if r < Effects::EXPANSION_UNTRAINED + Effects::CONTRACTION {
                Some(false)
            } else {
                None
            };
            untrained_mrr *= match (untrained, change) {
                (Some(up), Some((generated_up, factor))) if up == generated_up => factor,
                (Some(true), _) => truth.rng.between(1.1, 1.5),
                (Some(false), _) => truth.rng.between(0.6, 0.9),
                (None, _) => 1.0,
            };
        }
        let paused = !first && rng.chance(0.01);
        let mut month_total = 0.0;
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
                let rest = ((total - part) * 100.0).round() / 100.0;
                push!(tables.revenue, "account_id" => Int(account.id), "month" => Day(Some(d2)), "mrr" => Float(Some(rest)));
                month_total = part + rest;
            } else {
                let d = day_in_month(rng);
                push!(tables.revenue, "account_id" => Int(account.id), "month" => Day(Some(d)), "mrr" => Float(Some(total)));
                month_total = total;
            }
        }
        let untrained_total = if paused {
            0.0
        } else if untrained_mrr == mrr {
            month_total
        } else {
            (untrained_mrr * 100.0).round() / 100.0
        };
        truth.mrr(
            &account.window,
            date_to_days(month),
            month_total,
            untrained_total,
        );
        first = false;
        month = add_months(month, 1);
    }
}
