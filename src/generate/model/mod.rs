//! The simulation of one account: signup, training, churn, revenue, surveys,
//! tickets, product events. The planted effects are listed in
//! [`super::GENERATOR_MD`] and recovered by the integration tests.
//!
//! This file draws the account itself (plan, region, signup, training intent,
//! churn) and holds the tables; the other files each draw one part of the
//! account's life, in a fixed order from one random stream per account.

use chrono::{Datelike, NaiveDate};

use super::rng::Rng;
use super::tables::{Buffer, Table};
use crate::config::SourceName;
use crate::time::date_to_days;

/// Appends one row to a table (defined before the files that use it).
macro_rules! push {
    ($table:expr, $($column:literal => $variant:ident($value:expr)),+ $(,)?) => {
        $( if let Buffer::$variant(v) = $table.col($column) { v.push($value); } )+
    };
}

mod events;
mod revenue;
mod shape;
mod support;
mod training;
pub(crate) mod truth;

use events::simulate_events;
use revenue::simulate_revenue;
use shape::Shape;
use support::{simulate_support, simulate_surveys};
use training::{simulate_training, simulate_users};
use truth::{Membership, Truth, Window};

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
    /// Each account's outcomes with and without training (`truth.csv`).
    pub truth: Table,
    /// The true effect on the trained, summed over the accounts so far.
    pub effect: truth::Effect,
}

impl Tables {
    /// Empty tables with the canonical columns of each source (see `Shape`).
    pub fn new() -> Self {
        use SourceName::*;
        Tables {
            accounts: Shape {
                only: Some(&["account_id", "signup_date", "churn_date"]),
                extra_text: &["plan", "region"],
                ..Shape::of(Accounts)
            }
            .table(),
            training: Shape {
                only: Some(&[
                    "account_id",
                    "user_id",
                    "course_id",
                    "enrolled_at",
                    "completed_at",
                    "score",
                ]),
                instants: true,
                ..Shape::of(Training)
            }
            .table(),
            users: Shape::of(Users).table(),
            events: Shape {
                only: Some(&["account_id", "user_id", "event_time", "event_name"]),
                instants: true,
                ..Shape::of(Events)
            }
            .table(),
            revenue: Shape::of(Revenue).table(),
            nps: Shape {
                only: Some(&["account_id", "user_id", "responded_at", "score"]),
                instants: true,
                whole_numbers: true,
                sometimes_null: &["user_id"],
                ..Shape::of(NpsResponses)
            }
            .table(),
            csat: Shape {
                only: Some(&["account_id", "responded_at", "score"]),
                instants: true,
                whole_numbers: true,
                ..Shape::of(CsatResponses)
            }
            .table(),
            tickets: Shape {
                instants: true,
                ..Shape::of(Tickets)
            }
            .table(),
            cancellations: Shape::of(Cancellations).table(),
            touchpoints: Shape::of(Touchpoints).table(),
            referrals: Shape::of(Referrals).table(),
            truth: truth::table(),
            effect: truth::Effect::default(),
        }
    }
}

impl Default for Tables {
    fn default() -> Self {
        Self::new()
    }
}

/// One simulated account, as the simulation of each of its tables sees it.
pub(super) struct Account {
    pub(super) id: i64,
    pub(super) plan: usize,
    pub(super) signup: i32,
    /// The churn day, or the end day for an account that has not churned.
    pub(super) alive_end: i32,
    pub(super) churn: Option<i32>,
    /// The day the data ends (exclusive).
    pub(super) end_day: i32,
    /// Trained, and training has its planted effects (not `--no-training-effect`).
    pub(super) effect: bool,
    /// The window the truth is stated for.
    pub(super) window: Window,
}

impl Account {
    /// `if_trained` for an account whose training takes effect, `if_untrained` otherwise.
    pub(super) fn planted(&self, if_trained: f64, if_untrained: f64) -> f64 {
        if self.effect {
            if_trained
        } else {
            if_untrained
        }
    }
}

fn micros(day: i32, rng: &mut Rng) -> i64 {
    day as i64 * DAY_MICROS + rng.int(0, DAY_MICROS / 1_000_000 - 1) * 1_000_000
}

/// What every account of one dataset shares.
#[derive(Clone, Copy)]
pub struct World {
    pub seed: u64,
    /// Data covers the days before this date.
    pub end: NaiveDate,
    /// Events per active day are 1–4 times this.
    pub event_factor: u32,
    /// Training has its planted effects; without them the confounding by plan stays.
    pub training_effect: bool,
}

/// Simulates account number `index` (id = index + 1) of `world` up to the
/// day before its end, and records its outcomes with and without training.
pub fn simulate_account(world: &World, index: u64, tables: &mut Tables) {
    let World {
        seed,
        end,
        event_factor,
        training_effect,
    } = *world;
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
    let hazard_ratio = if training_effect {
        Effects::CHURN_HAZARD_RATIO
    } else {
        1.0
    };
    let daily = -(1.0 - MONTHLY_CHURN[plan]).ln() / 30.4375;
    let mut lifetime = rng.exponential(daily);
    if let Some(c) = completion {
        if lifetime > c.max(0) as f64 {
            lifetime = c.max(0) as f64 + rng.exponential(daily * hazard_ratio);
        } else {
            completion = None;
        }
    }
    let trained = completion.is_some();
    let window = Window::new(end);
    // Untrained, the life left after S (after the completion) is the same draw at the untrained hazard.
    let from = ((window.start - signup - 1) as f64).max(completion.unwrap_or(0).max(0) as f64);
    let untrained_lifetime = if trained && lifetime >= from {
        from + (lifetime - from) * hazard_ratio
    } else {
        lifetime
    };
    let churn_of = |lifetime: f64| {
        let day = signup as i64 + 1 + lifetime.floor().min(1e6) as i64;
        (day < end_day as i64).then_some(day as i32)
    };
    let churn = churn_of(lifetime);
    let alive_end = churn.unwrap_or(end_day);
    push!(tables.accounts, "account_id" => Int(id), "signup_date" => Day(Some(signup)), "churn_date" => Day(churn),
          "plan" => Text(PLANS[plan]), "region" => Text(REGIONS[region]));

    let account = Account {
        id,
        plan,
        signup,
        alive_end,
        churn,
        end_day,
        effect: trained && training_effect,
        window,
    };
    let untrained_alive_end = churn_of(untrained_lifetime).unwrap_or(end_day);
    let mut truth = Truth::new(seed, index, untrained_alive_end);
    let users = simulate_users(&mut rng, &account, tables);
    simulate_training(&mut rng, &account, &users, completion, tables);
    simulate_revenue(&mut rng, &account, &mut truth, tables);
    simulate_surveys(&mut rng, &account, &users, &mut truth, tables);
    simulate_support(&mut rng, &account, &mut truth, tables);
    simulate_events(&mut rng, &account, &users, event_factor, tables);

    // docs/METRICS.md#cohorts: assigned at S when L ≤ S and a customer at L.
    let landmark = signup + truth::LANDMARK_DAYS;
    if landmark <= window.start && churn.is_none_or(|c| c >= landmark) {
        truth.factual.churned = churn.is_some_and(|c| c < end_day);
        truth.untrained.churned = untrained_alive_end < end_day;
        let member = Membership {
            customer_at_start: churn.is_none_or(|c| c >= window.start),
            customer_in_period: churn.is_none_or(|c| c > window.start),
            trained,
        };
        truth::push(&mut tables.truth, id, plan, &member, &truth);
        tables.effect.add(&member, &truth);
    }
}

fn day_to_date(day: i32) -> NaiveDate {
    crate::time::days_to_date(day.max(0))
}

#[cfg(test)]
mod tests;
