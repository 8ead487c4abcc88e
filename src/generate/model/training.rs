//! Users of an account and their course enrolments, including the planted
//! training before the landmark and the late completions that must not count.

use super::{micros, Buffer, Effects, Rng, Tables, USERS};

pub(super) fn simulate_users(
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

pub(super) fn simulate_training(
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
