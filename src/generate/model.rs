//! The simulation of one account: signup, training, churn, revenue, surveys,
//! tickets, product events. The planted effects are listed in
//! [`super::GENERATOR_MD`] and recovered by the integration tests.

use chrono::{Datelike, NaiveDate};

use super::rng::Rng;
use super::tables::{Buffer, Table};
use crate::time::{add_months, date_to_days, first_day};

pub const PLANS: [&str; 3] = ["starter", "growth", "enterprise"];
const PLAN_WEIGHTS: [f64; 3] = [0.55, 0.35, 0.10];
const REGIONS: [&str; 3] = ["na", "emea", "apac"];
const REGION_WEIGHTS: [f64; 3] = [0.5, 0.3, 0.2];
/// Monthly churn hazard of an untrained account, by plan.
pub const MONTHLY_CHURN: [f64; 3] = [0.035, 0.022, 0.012];
/// Share of accounts that complete a qualifying course before the landmark, by plan.
const TRAINING_PROPENSITY: [f64; 3] = [0.25, 0.40, 0.55];
const USERS: [(i64, i64); 3] = [(1, 5), (3, 12), (8, 30)];
const BASE_MRR: [(f64, f64); 3] = [(29.0, 149.0), (300.0, 900.0), (2000.0, 8000.0)];
const TICKET_PLAN_FACTOR: [f64; 3] = [0.7, 1.0, 1.8];
const TOUCHPOINT_CHANCE: [f64; 3] = [0.05, 0.3, 0.8];
const AREAS: [&str; 4] = ["billing", "reporting", "integrations", "admin"];
const EVENT_NAMES: [&str; 6] = [
    "login",
    "dashboard_viewed",
    "report_created",
    "export",
    "invite_sent",
    "integration_connected",
];
const DAY_MICROS: i64 = 86_400_000_000;

/// Planted effects: trained accounts (qualifying course before the landmark).
pub struct Effects;
impl Effects {
    pub const CHURN_HAZARD_RATIO: f64 = 0.5;
    pub const EXPANSION_TRAINED: f64 = 0.06;
    pub const EXPANSION_UNTRAINED: f64 = 0.03;
    pub const CONTRACTION: f64 = 0.02;
    pub const NPS_MEAN_TRAINED: f64 = 8.0;
    pub const NPS_MEAN_UNTRAINED: f64 = 6.6;
    pub const TICKETS_TRAINED: f64 = 0.35;
    pub const TICKETS_UNTRAINED: f64 = 0.6;
    pub const ACTIVE_TRAINED: f64 = 0.06;
    pub const ACTIVE_UNTRAINED: f64 = 0.035;
    pub const REPORT_SHARE_TRAINED: f64 = 0.15;
    pub const REPORT_SHARE_UNTRAINED: f64 = 0.07;
    pub const SCORE_BONUS_TRAINED: f64 = 8.0;
}

/// All generated tables.
pub struct Tables {
    pub accounts: Table,
    pub training: Table,
    pub users: Table,
    pub events: Table,
    pub revenue: Table,
    pub nps: Table,
    pub csat: Table,
    pub tickets: Table,
    pub cancellations: Table,
    pub touchpoints: Table,
    pub referrals: Table,
}

impl Tables {
    pub fn new() -> Self {
        use Buffer::*;
        Tables {
            accounts: Table::new(
                "accounts",
                vec![
                    ("account_id", Int(vec![])),
                    ("signup_date", Day(vec![])),
                    ("churn_date", Day(vec![])),
                    ("plan", Text(vec![])),
                    ("region", Text(vec![])),
                ],
            ),
            training: Table::new(
                "training",
                vec![
                    ("account_id", Int(vec![])),
                    ("user_id", Int(vec![])),
                    ("course_id", Text(vec![])),
                    ("enrolled_at", Instant(vec![])),
                    ("completed_at", Instant(vec![])),
                    ("score", Float(vec![])),
                ],
            ),
            users: Table::new(
                "users",
                vec![
                    ("user_id", Int(vec![])),
                    ("account_id", Int(vec![])),
                    ("created_at", Day(vec![])),
                ],
            ),
            events: Table::new(
                "events",
                vec![
                    ("account_id", Int(vec![])),
                    ("user_id", Int(vec![])),
                    ("event_time", Instant(vec![])),
                    ("event_name", Text(vec![])),
                ],
            ),
            revenue: Table::new(
                "revenue",
                vec![
                    ("account_id", Int(vec![])),
                    ("month", Day(vec![])),
                    ("mrr", Float(vec![])),
                ],
            ),
            nps: Table::new(
                "nps_responses",
                vec![
                    ("account_id", Int(vec![])),
                    ("user_id", OptInt(vec![])),
                    ("responded_at", Instant(vec![])),
                    ("score", Int(vec![])),
                ],
            ),
            csat: Table::new(
                "csat_responses",
                vec![
                    ("account_id", Int(vec![])),
                    ("responded_at", Instant(vec![])),
                    ("score", Int(vec![])),
                ],
            ),
            tickets: Table::new(
                "tickets",
                vec![
                    ("account_id", Int(vec![])),
                    ("created_at", Instant(vec![])),
                    ("product_area", Text(vec![])),
                ],
            ),
            cancellations: Table::new(
                "cancellations",
                vec![
                    ("account_id", Int(vec![])),
                    ("requested_at", Day(vec![])),
                    ("outcome", Text(vec![])),
                ],
            ),
            touchpoints: Table::new(
                "touchpoints",
                vec![("account_id", Int(vec![])), ("contacted_at", Day(vec![]))],
            ),
            referrals: Table::new(
                "referrals",
                vec![("account_id", Int(vec![])), ("referred_at", Day(vec![]))],
            ),
        }
    }
}

impl Default for Tables {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! push {
    ($table:expr, $($column:literal => $variant:ident($value:expr)),+ $(,)?) => {
        $( if let Buffer::$variant(v) = $table.col($column) { v.push($value); } )+
    };
}

fn micros(day: i32, rng: &mut Rng) -> i64 {
    day as i64 * DAY_MICROS + rng.int(0, DAY_MICROS / 1_000_000 - 1) * 1_000_000
}

/// Simulates account number `index` (id = index + 1) up to the day before `end`.
pub fn simulate_account(seed: u64, index: u64, end: NaiveDate, tables: &mut Tables) {
    let mut rng = Rng::new(seed, index);
    let id = index as i64 + 1;
    let end_day = date_to_days(end);
    let plan = rng.weighted(&PLAN_WEIGHTS);
    let region = rng.weighted(&REGION_WEIGHTS);

    // Signups over four years, growing over time, fewer in July and December.
    let span = 4 * 365;
    let mut signup = end_day - 1;
    for _ in 0..3 {
        signup = end_day - 1 - ((1.0 - rng.uniform().sqrt()) * span as f64) as i32;
        let month = day_to_date(signup).month();
        if !((month == 7 || month == 12) && rng.chance(0.35)) {
            break;
        }
    }

    // Training before the landmark (day 90) and churn with the planted hazard ratio.
    let mut completion: Option<i32> = rng.chance(TRAINING_PROPENSITY[plan]).then(|| {
        if rng.chance(0.1) {
            -(rng.int(1, 20) as i32)
        } else {
            rng.int(3, 85) as i32
        }
    });
    let daily = -(1.0 - MONTHLY_CHURN[plan]).ln() / 30.4375;
    let mut lifetime = rng.exponential(daily);
    if let Some(c) = completion {
        if lifetime > c.max(0) as f64 {
            lifetime = c.max(0) as f64 + rng.exponential(daily * Effects::CHURN_HAZARD_RATIO);
        } else {
            completion = None;
        }
    }
    let churn_day = signup as i64 + 1 + lifetime.floor().min(1e6) as i64;
    let churn = (churn_day < end_day as i64).then_some(churn_day as i32);
    let alive_end = churn.unwrap_or(end_day);
    let trained = completion.is_some();
    push!(tables.accounts, "account_id" => Int(id), "signup_date" => Day(Some(signup)), "churn_date" => Day(churn),
          "plan" => Text(PLANS[plan]), "region" => Text(REGIONS[region]));

    let users = simulate_users(&mut rng, id, plan, signup, alive_end, tables);
    simulate_training(&mut rng, id, &users, signup, alive_end, completion, tables);
    simulate_revenue(
        &mut rng, id, plan, signup, alive_end, end_day, trained, tables,
    );
    simulate_surveys(&mut rng, id, &users, signup, alive_end, trained, tables);
    simulate_support(
        &mut rng, id, plan, signup, alive_end, churn, trained, tables,
    );
    simulate_events(&mut rng, id, &users, alive_end, end_day, trained, tables);
}

fn day_to_date(day: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Days::new(day.max(0) as u64)
}

fn simulate_users(
    rng: &mut Rng,
    id: i64,
    plan: usize,
    signup: i32,
    alive_end: i32,
    tables: &mut Tables,
) -> Vec<(i64, i32)> {
    let (low, high) = USERS[plan];
    let count = rng.int(low, high);
    let mut users = Vec::new();
    for k in 0..count {
        let created = if k == 0 {
            signup
        } else {
            signup + rng.int(0, 180) as i32
        };
        if created >= alive_end && k > 0 {
            continue;
        }
        let user_id = id * 1000 + k;
        users.push((user_id, created));
        push!(tables.users, "user_id" => Int(user_id), "account_id" => Int(id), "created_at" => Day(Some(created)));
    }
    users
}

#[allow(clippy::too_many_arguments)]
fn training_row(
    rng: &mut Rng,
    tables: &mut Tables,
    id: i64,
    user: i64,
    course: &'static str,
    enrolled: i32,
    completed: Option<i32>,
    bonus: f64,
) {
    let score = completed.map(|_| rng.normal(78.0 + bonus, 10.0).clamp(0.0, 100.0).round());
    let completed_at = completed.map(|d| micros(d, rng));
    push!(tables.training, "account_id" => Int(id), "user_id" => Int(user), "course_id" => Text(course),
          "enrolled_at" => Instant(Some(micros(enrolled, rng))), "completed_at" => Instant(completed_at), "score" => Float(score));
}

fn simulate_training(
    rng: &mut Rng,
    id: i64,
    users: &[(i64, i32)],
    signup: i32,
    alive_end: i32,
    completion: Option<i32>,
    tables: &mut Tables,
) {
    let user = |rng: &mut Rng| users[rng.int(0, users.len() as i64 - 1) as usize].0;
    // Planted: trained accounts score higher on every course.
    let bonus = if completion.is_some() {
        Effects::SCORE_BONUS_TRAINED
    } else {
        0.0
    };
    if let Some(c) = completion {
        let done = signup + c;
        let u = user(rng);
        let enrolled = done - rng.int(1, 14) as i32;
        training_row(
            rng,
            tables,
            id,
            u,
            "onboarding-101",
            enrolled,
            Some(done),
            bonus,
        );
        if rng.chance(0.4) {
            let second = signup + rng.int(c.max(0) as i64, 89) as i32;
            let u = user(rng);
            let enrolled = second - rng.int(1, 20) as i32;
            training_row(
                rng,
                tables,
                id,
                u,
                "admin-cert",
                enrolled,
                Some(second),
                bonus,
            );
        }
    } else if rng.chance(0.35) {
        // Completed after the landmark: must not make the account "trained".
        let late = signup + rng.int(91, 500) as i32;
        if late < alive_end {
            let u = user(rng);
            let enrolled = late - rng.int(1, 14) as i32;
            training_row(
                rng,
                tables,
                id,
                u,
                "onboarding-101",
                enrolled,
                Some(late),
                0.0,
            );
        }
    }
    for (course, chance) in [("advanced-analytics", 0.3), ("api-basics", 0.2)] {
        if rng.chance(chance) {
            let day = signup + rng.int(0, (alive_end - signup).max(1) as i64) as i32;
            let completed = rng
                .chance(0.7)
                .then_some(day + rng.int(1, 30) as i32)
                .filter(|d| *d < alive_end);
            let u = user(rng);
            training_row(rng, tables, id, u, course, day, completed, bonus);
        }
    }
    if rng.chance(0.15) {
        let day = signup + rng.int(0, (alive_end - signup).max(1) as i64) as i32;
        let u = user(rng);
        training_row(rng, tables, id, u, "admin-cert", day, None, 0.0);
    }
}

#[allow(clippy::too_many_arguments)]
fn simulate_revenue(
    rng: &mut Rng,
    id: i64,
    plan: usize,
    signup: i32,
    alive_end: i32,
    end_day: i32,
    trained: bool,
    tables: &mut Tables,
) {
    let (low, high) = BASE_MRR[plan];
    let mut mrr = rng.between(low, high);
    let expansion = if trained {
        Effects::EXPANSION_TRAINED
    } else {
        Effects::EXPANSION_UNTRAINED
    };
    let mut month = first_day(day_to_date(signup));
    let mut first = true;
    while date_to_days(month) < alive_end.min(end_day) {
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
                push!(tables.revenue, "account_id" => Int(id), "month" => Day(Some(d1)), "mrr" => Float(Some(part)));
                let d2 = day_in_month(rng);
                push!(tables.revenue, "account_id" => Int(id), "month" => Day(Some(d2)), "mrr" => Float(Some(((total - part) * 100.0).round() / 100.0)));
            } else {
                let d = day_in_month(rng);
                push!(tables.revenue, "account_id" => Int(id), "month" => Day(Some(d)), "mrr" => Float(Some(total)));
            }
        }
        first = false;
        month = add_months(month, 1);
    }
}

fn simulate_surveys(
    rng: &mut Rng,
    id: i64,
    users: &[(i64, i32)],
    signup: i32,
    alive_end: i32,
    trained: bool,
    tables: &mut Tables,
) {
    let mean = if trained {
        Effects::NPS_MEAN_TRAINED
    } else {
        Effects::NPS_MEAN_UNTRAINED
    };
    let mut day = signup + 60;
    while day < alive_end {
        if rng.chance(0.45) {
            let score = rng.normal(mean, 2.3).round().clamp(0.0, 10.0) as i64;
            let user = rng
                .chance(0.9)
                .then(|| users[rng.int(0, users.len() as i64 - 1) as usize].0);
            let at = micros(day, rng);
            push!(tables.nps, "account_id" => Int(id), "user_id" => OptInt(user), "responded_at" => Instant(Some(at)), "score" => Int(score));
        }
        day += 182;
    }
}

#[allow(clippy::too_many_arguments)]
fn simulate_support(
    rng: &mut Rng,
    id: i64,
    plan: usize,
    signup: i32,
    alive_end: i32,
    churn: Option<i32>,
    trained: bool,
    tables: &mut Tables,
) {
    let rate = if trained {
        Effects::TICKETS_TRAINED
    } else {
        Effects::TICKETS_UNTRAINED
    } * TICKET_PLAN_FACTOR[plan];
    let csat_weights: [f64; 5] = if trained {
        [0.03, 0.05, 0.12, 0.40, 0.40]
    } else {
        [0.06, 0.09, 0.20, 0.40, 0.25]
    };
    let mut month_start = signup;
    while month_start < alive_end {
        let month_end = (month_start + 30).min(alive_end);
        for _ in 0..rng.poisson(rate) {
            let day = month_start + rng.int(0, (month_end - month_start - 1).max(0) as i64) as i32;
            let at = micros(day, rng);
            let area = AREAS[rng.int(0, 3) as usize];
            push!(tables.tickets, "account_id" => Int(id), "created_at" => Instant(Some(at)), "product_area" => Text(area));
            if rng.chance(0.5) {
                let score = rng.weighted(&csat_weights) as i64 + 1;
                let responded = at + rng.int(1, 3 * 86_400) * 1_000_000;
                push!(tables.csat, "account_id" => Int(id), "responded_at" => Instant(Some(responded)), "score" => Int(score));
            }
        }
        if rng.chance(TOUCHPOINT_CHANCE[plan]) {
            let day = month_start + rng.int(0, (month_end - month_start - 1).max(0) as i64) as i32;
            push!(tables.touchpoints, "account_id" => Int(id), "contacted_at" => Day(Some(day)));
        }
        let referral = if trained { 0.006 } else { 0.003 } * (1.0 + plan as f64);
        if rng.chance(referral) {
            let day = month_start + rng.int(0, (month_end - month_start - 1).max(0) as i64) as i32;
            push!(tables.referrals, "account_id" => Int(id), "referred_at" => Day(Some(day)));
        }
        if rng.chance(0.004) {
            let day = month_start + rng.int(0, (month_end - month_start - 1).max(0) as i64) as i32;
            let outcome = if rng.chance(0.5) { "saved" } else { "Saved" };
            push!(tables.cancellations, "account_id" => Int(id), "requested_at" => Day(Some(day)), "outcome" => Text(outcome));
        }
        month_start += 30;
    }
    if let Some(churned) = churn {
        if rng.chance(if trained { 0.4 } else { 0.7 }) {
            let day = (churned - rng.int(0, 30) as i32).max(signup);
            let outcome = if rng.chance(0.8) {
                "churned"
            } else {
                "CHURNED"
            };
            push!(tables.cancellations, "account_id" => Int(id), "requested_at" => Day(Some(day)), "outcome" => Text(outcome));
        }
    }
}

fn simulate_events(
    rng: &mut Rng,
    id: i64,
    users: &[(i64, i32)],
    alive_end: i32,
    end_day: i32,
    trained: bool,
    tables: &mut Tables,
) {
    let active = if trained {
        Effects::ACTIVE_TRAINED
    } else {
        Effects::ACTIVE_UNTRAINED
    };
    let report_share = if trained {
        Effects::REPORT_SHARE_TRAINED
    } else {
        Effects::REPORT_SHARE_UNTRAINED
    };
    let weights = [0.45, 0.25, report_share, 0.07, 0.03, 0.02];
    let window_start = end_day - 400;
    let gap_log = (1.0 - active).ln();
    for &(user, created) in users {
        let mut day = created.max(window_start);
        loop {
            day += (rng.uniform().max(1e-12).ln() / gap_log).floor() as i32 + 1;
            if day >= alive_end.min(end_day) {
                break;
            }
            let weekday = (day + 4).rem_euclid(7); // 0 = Sunday
            if (weekday == 0 || weekday == 6) && !rng.chance(0.3) {
                continue;
            }
            if day_to_date(day).month() == 12 && !rng.chance(0.7) {
                continue;
            }
            for _ in 0..rng.int(1, 4) {
                let name = EVENT_NAMES[rng.weighted(&weights)];
                let at = micros(day, rng);
                push!(tables.events, "account_id" => Int(id), "user_id" => Int(user), "event_time" => Instant(Some(at)), "event_name" => Text(name));
            }
        }
    }
}
