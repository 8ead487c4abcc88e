//! Product events of the last 400 days, user by user: 1–4 events per active
//! day, times the event factor (which leaves the active days and every other
//! table as they are).

use chrono::Datelike;

use super::{day_to_date, micros, Account, Buffer, Effects, Rng, Tables, EVENT_NAMES};

pub(super) fn simulate_events(
    rng: &mut Rng,
    account: &Account,
    users: &[(i64, i32)],
    event_factor: u32,
    tables: &mut Tables,
) {
    let active = account.planted(Effects::ACTIVE_TRAINED, Effects::ACTIVE_UNTRAINED);
    let report_share = account.planted(
        Effects::REPORT_SHARE_TRAINED,
        Effects::REPORT_SHARE_UNTRAINED,
    );
    let weights = [0.45, 0.25, report_share, 0.07, 0.03, 0.02];
    let window_start = account.end_day - 400;
    let gap_log = (1.0 - active).ln();
    for &(user, created) in users {
        let mut day = created.max(window_start);
        loop {
            day += (rng.uniform().max(1e-12).ln() / gap_log).floor() as i32 + 1;
            if day >= account.alive_end.min(account.end_day) {
                break;
            }
            let weekday = (day + 4).rem_euclid(7); // 0 = Sunday
            if (weekday == 0 || weekday == 6) && !rng.chance(0.3) {
                continue;
            }
            if day_to_date(day).month() == 12 && !rng.chance(0.7) {
                continue;
            }
            for _ in 0..rng.int(1, 4) * i64::from(event_factor.max(1)) {
                let name = EVENT_NAMES[rng.weighted(&weights)];
                let at = micros(day, rng);
                push!(tables.events, "account_id" => Int(account.id), "user_id" => Int(user), "event_time" => Instant(Some(at)), "event_name" => Text(name));
            }
        }
    }
}
