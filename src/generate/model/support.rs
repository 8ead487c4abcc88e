//! Surveys and support: NPS responses, tickets with their CSAT responses,
//! touchpoints, referrals and cancellation requests.

use super::{
    micros, Account, Buffer, Effects, Rng, Tables, Truth, AREAS, TICKET_PLAN_FACTOR,
    TOUCHPOINT_CHANCE,
};

/// NPS surveys; untrained, each response keeps its normal deviate around the untrained mean.
pub(super) fn simulate_surveys(
    rng: &mut Rng,
    account: &Account,
    users: &[(i64, i32)],
    truth: &mut Truth,
    tables: &mut Tables,
) {
    let mean = account.planted(Effects::NPS_MEAN_TRAINED, Effects::NPS_MEAN_UNTRAINED);
    let score_of = |x: f64| x.round().clamp(0.0, 10.0) as i64;
    let mut day = account.signup + 60;
    while day < account.alive_end {
        if rng.chance(0.45) {
            let drawn = rng.normal(mean, 2.3);
            let score = score_of(drawn);
            let untrained = if account.effect {
                score_of(drawn - mean + Effects::NPS_MEAN_UNTRAINED)
            } else {
                score
            };
            truth.nps(&account.window, day, score, untrained);
            let user = rng
                .chance(0.9)
                .then(|| users[rng.int(0, users.len() as i64 - 1) as usize].0);
            let at = micros(day, rng);
            push!(tables.nps, "account_id" => Int(account.id), "user_id" => OptInt(user), "responded_at" => Instant(Some(at)), "score" => Int(score));
        }
        day += 182;
    }
}

/// Tickets (with CSAT), touchpoints, referrals and cancellations; untrained,
/// each block's tickets in its untrained span plus those of the higher rate.
pub(super) fn simulate_support(
    rng: &mut Rng,
    account: &Account,
    truth: &mut Truth,
    tables: &mut Tables,
) {
    let factor = TICKET_PLAN_FACTOR[account.plan];
    let rate = account.planted(Effects::TICKETS_TRAINED, Effects::TICKETS_UNTRAINED) * factor;
    let csat_weights: [f64; 5] = if account.effect {
        [0.03, 0.05, 0.12, 0.40, 0.40]
    } else {
        [0.06, 0.09, 0.20, 0.40, 0.25]
    };
    let mut month_start = account.signup;
    while month_start < account.alive_end {
        let month_end = (month_start + 30).min(account.alive_end);
        for _ in 0..rng.poisson(rate) {
            let day = month_start + rng.int(0, (month_end - month_start - 1).max(0) as i64) as i32;
            let at = micros(day, rng);
            truth.ticket(&account.window, (month_start, month_end), day);
            let area = AREAS[rng.int(0, 3) as usize];
            push!(tables.tickets, "account_id" => Int(account.id), "created_at" => Instant(Some(at)), "product_area" => Text(area));
            if rng.chance(0.5) {
                let score = rng.weighted(&csat_weights) as i64 + 1;
                let responded = at + rng.int(1, 3 * 86_400) * 1_000_000;
                push!(tables.csat, "account_id" => Int(account.id), "responded_at" => Instant(Some(responded)), "score" => Int(score));
            }
        }
        let extra = Effects::TICKETS_UNTRAINED * factor - rate;
        truth.extra_tickets(&account.window, (month_start, month_end), extra);
        if rng.chance(TOUCHPOINT_CHANCE[account.plan]) {
            let day = month_start + rng.int(0, (month_end - month_start - 1).max(0) as i64) as i32;
            push!(tables.touchpoints, "account_id" => Int(account.id), "contacted_at" => Day(Some(day)));
        }
        let referral = account.planted(0.006, 0.003) * (1.0 + account.plan as f64);
        if rng.chance(referral) {
            let day = month_start + rng.int(0, (month_end - month_start - 1).max(0) as i64) as i32;
            push!(tables.referrals, "account_id" => Int(account.id), "referred_at" => Day(Some(day)));
        }
        if rng.chance(0.004) {
            let day = month_start + rng.int(0, (month_end - month_start - 1).max(0) as i64) as i32;
            let outcome = if rng.chance(0.5) { "saved" } else { "Saved" };
            push!(tables.cancellations, "account_id" => Int(account.id), "requested_at" => Day(Some(day)), "outcome" => Text(outcome));
        }
        month_start += 30;
    }
    if let Some(churned) = account.churn {
        if rng.chance(account.planted(0.4, 0.7)) {
            let day = (churned - rng.int(0, 30) as i32).max(account.signup);
            let outcome = if rng.chance(0.8) {
                "churned"
            } else {
                "CHURNED"
            };
            push!(tables.cancellations, "account_id" => Int(account.id), "requested_at" => Day(Some(day)), "outcome" => Text(outcome));
        }
    }
}
