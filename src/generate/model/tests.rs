//! Tests of the account model: pinned columns, filled rows, the truth
//! pairs and the event factor.

use super::*;

fn world(seed: u64, end: NaiveDate, event_factor: u32) -> World {
    World {
        seed,
        end,
        event_factor,
        training_effect: true,
    }
}

fn variant_and_len(buffer: &Buffer) -> (&'static str, usize) {
    match buffer {
        Buffer::Int(v) => ("Int", v.len()),
        Buffer::OptInt(v) => ("OptInt", v.len()),
        Buffer::Float(v) => ("Float", v.len()),
        Buffer::Text(v) => ("Text", v.len()),
        Buffer::Day(v) => ("Day", v.len()),
        Buffer::Instant(v) => ("Instant", v.len()),
    }
}

fn all(t: &Tables) -> [&Table; 11] {
    [
        &t.accounts,
        &t.training,
        &t.users,
        &t.events,
        &t.revenue,
        &t.nps,
        &t.csat,
        &t.tickets,
        &t.cancellations,
        &t.touchpoints,
        &t.referrals,
    ]
}

/// The generated files keep their columns, order and types when
/// `source::tables` changes, unless this list is changed with it.
#[test]
fn generated_columns_are_pinned() {
    let tables = Tables::new();
    let schema: Vec<String> = all(&tables)
        .iter()
        .map(|t| {
            let columns: Vec<String> = t
                .columns
                .iter()
                .map(|(name, b)| format!("{name} {}", variant_and_len(b).0))
                .collect();
            format!("{}: {}", t.name, columns.join(", "))
        })
        .collect();
    assert_eq!(
        schema,
        [
            "accounts: account_id Int, signup_date Day, churn_date Day, plan Text, region Text",
            "training: account_id Int, user_id Int, course_id Text, enrolled_at Instant, completed_at Instant, score Float",
            "users: user_id Int, account_id Int, created_at Day",
            "events: account_id Int, user_id Int, event_time Instant, event_name Text",
            "revenue: account_id Int, month Day, mrr Float",
            "nps_responses: account_id Int, user_id OptInt, responded_at Instant, score Int",
            "csat_responses: account_id Int, responded_at Instant, score Int",
            "tickets: account_id Int, created_at Instant, product_area Text",
            "cancellations: account_id Int, requested_at Day, outcome Text",
            "touchpoints: account_id Int, contacted_at Day",
            "referrals: account_id Int, referred_at Day",
        ]
    );
}

/// Every column gets a value in every row: a column the spec adds but the
/// simulation does not fill, or a buffer of another variant than the one
/// `push!` writes, would leave it short.
#[test]
fn every_column_is_filled_in_every_row() {
    let mut tables = Tables::new();
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    for index in 0..300 {
        simulate_account(&world(42, end, 1), index, &mut tables);
    }
    for table in all(&tables) {
        let lengths: Vec<usize> = table
            .columns
            .iter()
            .map(|(_, b)| variant_and_len(b).1)
            .collect();
        assert!(
            lengths[0] > 0 && lengths.iter().all(|n| *n == lengths[0]),
            "{}: {lengths:?}",
            table.name
        );
    }
}

/// The truth's two worlds: identical without a training effect; with it,
/// a trained account churns no later untrained (the same draw at the
/// higher hazard) and an untrained account has no "with training" side.
#[test]
fn the_truth_pairs_each_trained_account_with_its_untrained_world() {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let truth = |training_effect: bool| {
        let mut tables = Tables::new();
        let world = World {
            training_effect,
            ..world(11, end, 1)
        };
        for index in 0..3000 {
            simulate_account(&world, index, &mut tables);
        }
        tables.truth.take_frame().unwrap()
    };
    let pairs =
        |frame: &polars::prelude::DataFrame, what: &str| -> Vec<(Option<f64>, Option<f64>)> {
            let column = |side: &str| {
                let c = frame.column(&format!("{what}_if_{side}")).unwrap();
                let c = c.cast(&polars::prelude::DataType::Float64).unwrap();
                c.f64().unwrap().iter().collect::<Vec<_>>()
            };
            column("trained")
                .into_iter()
                .zip(column("untrained"))
                .collect()
        };
    let columns = [
        "churned",
        "tickets",
        "nps_responses",
        "nps_net",
        "mrr_m0",
        "mrr_mk",
    ];
    let null_world = truth(false);
    for what in columns {
        for (with, without) in pairs(&null_world, what) {
            assert!(
                with.is_none() || with == without,
                "{what}: {with:?} vs {without:?}"
            );
        }
    }
    let world = truth(true);
    let cohort: Vec<Option<&str>> = world
        .column("cohort")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    let churn = pairs(&world, "churned");
    let mut trained_pairs = 0;
    let mut differ = 0;
    for what in columns {
        for ((with, without), cohort) in pairs(&world, what).into_iter().zip(&cohort) {
            let trained = *cohort == Some("trained");
            // Only a trained account has the "with training" side; the
            // churn and ticket sides are null outside their populations.
            assert!(with.is_none() || trained, "{what}");
            assert!(with.is_some() || !trained || ["churned", "tickets"].contains(&what));
            if with.is_some() && without.is_some() {
                trained_pairs += 1;
                differ += usize::from(with != without);
            }
        }
    }
    for (with, without) in churn {
        if let (Some(with), Some(without)) = (with, without) {
            assert!(
                without >= with,
                "untrained churn {without} < trained {with}"
            );
        }
    }
    assert!(
        trained_pairs > 1000 && differ > trained_pairs / 10,
        "{differ} of {trained_pairs}"
    );
}

/// `--event-factor K` multiplies the events of each active day by K
/// (1–4 × K per user and day) and leaves every other table as it is.
#[test]
fn the_event_factor_multiplies_events_per_active_day_only() {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let simulate = |factor: u32| {
        let mut tables = Tables::new();
        for index in 0..200 {
            simulate_account(&world(7, end, factor), index, &mut tables);
        }
        tables
    };
    let (mut once, mut thrice) = (simulate(1), simulate(3));
    let per_user_day = |tables: &mut Tables| {
        let days: Vec<i64> = tables
            .events
            .instants("event_time")
            .iter()
            .map(|t| t.unwrap().div_euclid(DAY_MICROS))
            .collect();
        let Buffer::Int(users) = tables.events.col("user_id") else {
            panic!("user_id is not Int")
        };
        let mut counts = std::collections::BTreeMap::<(i64, i64), i64>::new();
        for (user, day) in users.iter().zip(days) {
            *counts.entry((*user, day)).or_default() += 1;
        }
        counts
    };
    let (base, tripled) = (per_user_day(&mut once), per_user_day(&mut thrice));
    assert!(base.values().all(|n| (1..=4).contains(n)));
    assert!(tripled.values().all(|n| n % 3 == 0 && (3..=12).contains(n)));
    let ratio = tripled.values().sum::<i64>() as f64 / base.values().sum::<i64>() as f64;
    assert!((2.7..3.3).contains(&ratio), "{ratio}");
    for (a, b) in [
        (&mut once.accounts, &mut thrice.accounts),
        (&mut once.training, &mut thrice.training),
        (&mut once.users, &mut thrice.users),
        (&mut once.revenue, &mut thrice.revenue),
        (&mut once.nps, &mut thrice.nps),
        (&mut once.tickets, &mut thrice.tickets),
    ] {
        let (a, b) = (a.take_frame().unwrap(), b.take_frame().unwrap());
        assert!(a.height() > 0 && a.equals_missing(&b), "{a}\n{b}");
    }
}
