//! Users of an account and their course enrolments, including the planted
//! training before the landmark and the late completions that must not count.

use super::{micros, Account, Buffer, Effects, Rng, Tables, USERS};

pub(super) fn simulate_users(
    rng: &mut Rng,
    account: &Account,
    tables: &mut Tables,
) -> Vec<(i64, i32)> {
    let (low, high) = USERS[account.plan];
    let count = rng.int(low, high);
    let mut users = Vec::new();
    for k in 0..count {
        let created = if k == 0 {
            account.signup
        } else {
            account.signup + rng.int(0, 180) as i32
        };
        if created >= account.alive_end && k > 0 {
            continue;
        }
        let user_id = account.id * 1000 + k;
        users.push((user_id, created));
        push!(tables.users, "user_id" => Int(user_id), "account_id" => Int(account.id), "created_at" => Day(Some(created)));
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

/// The account's users, who take the courses.
struct Learners<'a> {
    id: i64,
    users: &'a [(i64, i32)],
}

impl Learners<'_> {
    /// A user drawn at random.
    fn pick(&self, rng: &mut Rng) -> i64 {
        self.users[rng.int(0, self.users.len() as i64 - 1) as usize].0
    }

    /// A completion of `course` on `done` by a random user, enrolled 1 to
    /// `enrolled_within` days before.
    fn complete(
        &self,
        rng: &mut Rng,
        tables: &mut Tables,
        course: &'static str,
        (done, enrolled_within): (i32, i64),
        bonus: f64,
    ) {
        let user = self.pick(rng);
        let enrolled = done - rng.int(1, enrolled_within) as i32;
        training_row(
            rng,
            tables,
            self.id,
            user,
            course,
            enrolled,
            Some(done),
            bonus,
        );
    }
}

pub(super) fn simulate_training(
    rng: &mut Rng,
    account: &Account,
    users: &[(i64, i32)],
    completion: Option<i32>,
    tables: &mut Tables,
) {
    let learners = Learners {
        id: account.id,
        users,
    };
    // Planted: trained accounts score higher on every course.
    let bonus = if completion.is_some() {
        Effects::SCORE_BONUS_TRAINED
    } else {
        0.0
    };
    if let Some(c) = completion {
        let done = account.signup + c;
        learners.complete(rng, tables, "onboarding-101", (done, 14), bonus);
        if rng.chance(0.4) {
            let second = account.signup + rng.int(c.max(0) as i64, 89) as i32;
            learners.complete(rng, tables, "admin-cert", (second, 20), bonus);
        }
    } else if rng.chance(0.35) {
        // Completed after the landmark: must not make the account "trained".
        let late = account.signup + rng.int(91, 500) as i32;
        if late < account.alive_end {
            learners.complete(rng, tables, "onboarding-101", (late, 14), 0.0);
        }
    }
    for (course, chance) in [("advanced-analytics", 0.3), ("api-basics", 0.2)] {
        if rng.chance(chance) {
            let day = account.signup
                + rng.int(0, (account.alive_end - account.signup).max(1) as i64) as i32;
            let completed = rng
                .chance(0.7)
                .then_some(day + rng.int(1, 30) as i32)
                .filter(|d| *d < account.alive_end);
            let u = learners.pick(rng);
            training_row(rng, tables, account.id, u, course, day, completed, bonus);
        }
    }
    if rng.chance(0.15) {
        let day =
            account.signup + rng.int(0, (account.alive_end - account.signup).max(1) as i64) as i32;
        let u = learners.pick(rng);
        training_row(rng, tables, account.id, u, "admin-cert", day, None, 0.0);
    }
}
