//! The fold gives the frames of the polars plans of [`reduce`], on
//! generated activity (integer and text ids, users without an id, users of
//! two accounts, window edges), the rows coming in small batches.

use std::collections::BTreeMap;

use super::pass::compute_in_batches;
use super::*;
use crate::time::{date_lit, in_range};

const FIRST: &str = "2026-01-01";

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// `n` activity rows over 100 days from [`FIRST`]: 40 accounts (one id
/// negative), 90 users
/// (user `u` of account `u % 40`, and every 7th row of a user's row is of
/// account `u % 40 + 1`: a user seen with two accounts), every 5th row
/// without a user. Names: every 11th row has none, every 3rd of the others
/// one of 150 names longer than a string view holds, the rest one of four.
/// Ids are integers, or text with `text`.
fn activity(n: usize, text: bool) -> LazyFrame {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % m
    };
    let names = ["login", "export", "invite", "report"];
    let first = crate::time::date_to_days(date(FIRST));
    let (mut accounts, mut users, mut days, mut events) = (vec![], vec![], vec![], vec![]);
    for row in 0..n {
        let user = next(90) as i64;
        let account = if row % 7 == 0 {
            user % 40 + 1
        } else {
            user % 40
        };
        accounts.push(account * 1000 - 7);
        // Users' ids far apart (up to 9·10⁷: the hash map of the index).
        users.push((row % 5 != 0).then_some(user * 1_000_003 + 5000));
        days.push(first + next(100) as i32);
        events.push(match row {
            _ if row % 11 == 0 => None,
            _ if row % 3 == 0 => Some(format!("feature_number_{:03}", next(150))),
            _ => Some(names[next(4) as usize].to_string()),
        });
    }
    let ids = |name: &str, values: Vec<Option<i64>>| -> Column {
        let series = Series::new(name.into(), values);
        match text {
            true => series.cast(&DataType::String).unwrap().into(),
            false => series.into(),
        }
    };
    DataFrame::new_infer_height(vec![
        ids("account_id", accounts.into_iter().map(Some).collect()),
        ids("user_id", users),
        Series::new("day".into(), days)
            .cast(&DataType::Date)
            .unwrap()
            .into(),
        Column::new("event_name".into(), events),
        Column::new("events".into(), vec![1u32; n]),
    ])
    .unwrap()
    .lazy()
}

/// Signup days of accounts 0..41 (ids as in [`activity`]): account 3 has
/// none, account 5 is missing, account 8 is listed twice.
fn starts(text: bool) -> LazyFrame {
    let mut ids = vec![];
    let mut from = vec![];
    for a in 0..41i64 {
        if a == 5 {
            continue;
        }
        ids.push(a * 1000 - 7);
        from.push((a != 3).then(|| crate::time::date_to_days(date(FIRST)) + (a as i32 * 3) % 60));
    }
    ids.push(8 * 1000 - 7);
    from.push(Some(crate::time::date_to_days(date(FIRST)) + 2));
    let ids = Series::new("account_id".into(), ids);
    let ids = if text {
        ids.cast(&DataType::String).unwrap()
    } else {
        ids
    };
    DataFrame::new_infer_height(vec![
        ids.into(),
        Series::new("from".into(), from)
            .cast(&DataType::Date)
            .unwrap()
            .into(),
    ])
    .unwrap()
    .lazy()
}

fn reductions(text: bool) -> BTreeMap<String, Reduction> {
    let field = |e: &str| SummaryField::EventLastDay(e.to_string());
    let mut all = BTreeMap::new();
    all.insert(
        "summary:account".to_string(),
        Reduction::Summary {
            subject: Subject::Account,
            fields: vec![field("login"), field("export"), field("never")],
        },
    );
    all.insert(
        "summary:user".to_string(),
        Reduction::Summary {
            subject: Subject::User,
            fields: vec![field("report")],
        },
    );
    // A window of 3 days at the end, one of 70 days (two words), and one
    // at the start.
    for (key, subject, from, end) in [
        ("active:a:3", Subject::Account, "2026-04-07", "2026-04-10"),
        ("active:u:70", Subject::User, "2026-01-31", "2026-04-11"),
        (
            "active:a:start",
            Subject::Account,
            "2025-12-20",
            "2026-01-02",
        ),
    ] {
        all.insert(
            key.to_string(),
            Reduction::ActiveDays {
                subject,
                from: date(from),
                end: date(end),
            },
        );
    }
    all.insert(
        "first:export".to_string(),
        Reduction::FirstEventFrom {
            event: "export".to_string(),
            starts: starts(text),
        },
    );
    all.insert("users_seen".to_string(), Reduction::UsersSeen);
    // Every name (more than the fold keeps as bits), from a day on.
    for (key, subject) in [("names:a", Subject::Account), ("names:u", Subject::User)] {
        all.insert(
            key.to_string(),
            Reduction::NamesUsed {
                subject,
                from: date("2026-02-15"),
            },
        );
    }
    all
}

/// `frame` sorted by every column, so that row order does not matter.
fn sorted(frame: DataFrame) -> DataFrame {
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    frame
        .lazy()
        .sort(names, SortMultipleOptions::default())
        .collect()
        .unwrap()
}

/// Known ids for [`activity`]: accounts 0 … 29 (as bits) and the even
/// users (through a hash map; text ids: both through hash maps); the
/// other ids are met in the rows.
fn known(text: bool) -> Known {
    let set = |ids: Vec<i64>| {
        let series = Series::new("id".into(), ids);
        let series = match text {
            true => series.cast(&DataType::String).unwrap(),
            false => series,
        };
        Some(std::sync::Arc::new(IdSet::of(&series).unwrap()))
    };
    Known {
        accounts: set((0..30).map(|a| a * 1000 - 7).collect()),
        users: set((0..90).step_by(2).map(|u| u * 1_000_003 + 5000).collect()),
        only_these_accounts: false,
    }
}

/// Each frame of `folded` is the frame of its reduction's plan over `rows`
/// (`over` says which rows), and has rows (or the test would prove nothing).
fn assert_like_the_plans(
    folded: &BTreeMap<String, DataFrame>,
    reductions: &BTreeMap<String, Reduction>,
    rows: &LazyFrame,
    over: &str,
) {
    assert_eq!(folded.len(), reductions.len());
    for (key, reduction) in reductions {
        let expected = sorted(reduction.plan(rows.clone()).collect().unwrap());
        let got = sorted(folded[key].clone());
        assert_eq!(got.schema(), expected.schema(), "{key}");
        assert!(
            got.height() > 0,
            "{key}: no rows, the test would prove nothing"
        );
        assert!(
            got.equals_missing(&expected),
            "{key}: the fold gave\n{got}\nthe plan over {over} gave\n{expected}"
        );
    }
}

/// [`known`] with `only_these_accounts`, and the rows of `activity` that
/// are of its accounts and pass `also`.
fn only_known(text: bool, activity: &LazyFrame, also: Expr) -> (Known, LazyFrame) {
    let known = Known {
        only_these_accounts: true,
        ..known(text)
    };
    let ids = known.accounts.as_ref().unwrap().clone();
    let kept = activity.clone().filter(
        ids.slot_of(col("account_id"))
            .neq(lit(crate::ids::NO_SLOT))
            .and(also),
    );
    (known, kept)
}

/// With `only_these_accounts`, the fold over rows of every account gives
/// the plans' frames over the rows of the known accounts only (what the
/// contract's join keeps).
#[test]
fn the_fold_drops_the_rows_of_other_accounts_when_told_the_accounts() {
    for text in [false, true] {
        let activity = activity(3000, text);
        let (known, kept) = only_known(text, &activity, lit(true));
        let (all, kept_rows) = (
            activity.clone().collect().unwrap().height(),
            kept.clone().collect().unwrap().height(),
        );
        assert!(0 < kept_rows && kept_rows < all, "{kept_rows} of {all}");
        let reductions = reductions(text);
        let folded = compute_in_batches(
            activity,
            &reductions,
            &known,
            std::num::NonZeroUsize::new(97),
        )
        .unwrap();
        assert_like_the_plans(&folded, &reductions, &kept, "the known accounts");
    }
}

fn folds_like_the_plans(text: bool, with_known: bool) {
    let activity = activity(3000, text);
    let reductions = reductions(text);
    let known = if with_known {
        known(text)
    } else {
        Known::default()
    };
    let folded = compute_in_batches(
        activity.clone(),
        &reductions,
        &known,
        std::num::NonZeroUsize::new(97),
    )
    .unwrap();
    assert_like_the_plans(&folded, &reductions, &activity, "every row");
}

#[test]
fn the_fold_gives_the_plans_frames_with_integer_ids() {
    folds_like_the_plans(false, false);
}

#[test]
fn the_fold_gives_the_plans_frames_with_text_ids() {
    folds_like_the_plans(true, false);
}

#[test]
fn the_fold_gives_the_plans_frames_with_known_ids_first() {
    folds_like_the_plans(false, true);
    folds_like_the_plans(true, true);
}

#[test]
fn known_ids_come_first_and_others_after_them() {
    let known = IdSet::of(&Series::new("id".into(), [30i64, 10, 20])).unwrap();
    let mut index = index::Index::new(&DataType::Int64, Some(std::sync::Arc::new(known))).unwrap();
    let column = Column::new(
        "id".into(),
        [
            Some(20i64),
            Some(5),
            Some(10),
            Some(5),
            None,
            Some(30),
            Some(-1),
        ],
    );
    let positions = index.positions(&column, None).unwrap();
    assert_eq!(positions, [1, 3, 0, 3, NONE, 2, 4]);
    assert_eq!(index.len(), 5);
    let ids = index.column("id", &[4, 0, 3, 2], &DataType::Int64).unwrap();
    let ids: Vec<i64> = ids.i64().unwrap().into_no_null_iter().collect();
    assert_eq!(ids, [-1, 10, 5, 30]);
}

#[test]
fn active_days_count_each_day_once_and_keep_the_window_edges() {
    // Account 1: 2026-01-01 twice, 01-02 and 03-05 (64 days later, the
    // second word), 03-06 (the end, outside); account 2: 2025-12-31 only
    // (before the window, absent).
    let days = [
        "2026-01-01",
        "2026-01-01",
        "2026-01-02",
        "2026-03-05",
        "2026-03-06",
        "2025-12-31",
    ];
    let frame = DataFrame::new_infer_height(vec![
        Column::new("account_id".into(), [1i64, 1, 1, 1, 1, 2]),
        Column::new("user_id".into(), [None::<i64>; 6]),
        Series::new(
            "day".into(),
            days.map(|d| crate::time::date_to_days(date(d))).to_vec(),
        )
        .cast(&DataType::Date)
        .unwrap()
        .into(),
        Column::new("event_name".into(), ["a"; 6]),
    ])
    .unwrap()
    .lazy();
    let mut one = BTreeMap::new();
    one.insert(
        "active".to_string(),
        Reduction::ActiveDays {
            subject: Subject::Account,
            from: date("2026-01-01"),
            end: date("2026-03-06"),
        },
    );
    let folded = compute_in_batches(
        frame,
        &one,
        &Known::default(),
        std::num::NonZeroUsize::new(2),
    )
    .unwrap();
    let active = &folded["active"];
    assert_eq!(active.height(), 1);
    let count = active.column("active_days").unwrap().u32().unwrap().get(0);
    assert_eq!(count, Some(3));
}

#[test]
fn the_index_gives_each_id_one_position_whichever_way_it_is_kept() {
    // 5·10⁶ first goes to the map (beyond a table for one id); after 600k
    // small ids the table may grow to 2²³ and 5·10⁶ moves into it; ids of
    // 10¹², negative ones and 0 stay in the map or the table.
    let mut values: Vec<i64> = vec![5_000_000, -3, 1 << 40];
    values.extend(0..600_000);
    values.extend([6_000_000, 5_000_000, -3, 1 << 40, 0, 599_999]);
    let mut index = index::Index::new(&DataType::Int64, None).unwrap();
    let column = Column::new("id".into(), values.clone());
    let positions = index.positions(&column, None).unwrap();
    assert_eq!(index.len(), 600_004);
    let mut first: std::collections::HashMap<i64, u32> = Default::default();
    for (value, position) in values.iter().zip(&positions) {
        assert_eq!(
            *first.entry(*value).or_insert(*position),
            *position,
            "{value}"
        );
    }
    // Looked up again, in another batch, with a null.
    let again = Column::new(
        "id".into(),
        [Some(5_000_000i64), None, Some(1 << 40), Some(17)],
    );
    let positions = index.positions(&again, None).unwrap();
    assert_eq!(
        positions,
        [first[&5_000_000], NONE, first[&(1 << 40)], first[&17]]
    );
    let ids = index
        .column("id", &positions[..1], &DataType::Int64)
        .unwrap();
    assert_eq!(ids.i64().unwrap().get(0), Some(5_000_000));
}

#[test]
fn every_name_gets_one_code_across_the_arrays_of_a_batch() {
    // Two names longer than a view holds, of one length and one prefix, each at offset 0
    // of the first buffer of its own array: their views are equal, their names are not.
    let mut names = StringChunked::new("n".into(), ["feature_alpha_x1", "login"]);
    names
        .append(&StringChunked::new(
            "n".into(),
            [Some("feature_alpha_x2"), None],
        ))
        .unwrap();
    names
        .append(&StringChunked::new(
            "n".into(),
            ["feature_alpha_x1", "feature_alpha_x2"],
        ))
        .unwrap();
    assert_eq!(names.chunks().len(), 3);
    let mut dictionary = names::Dictionary::default();
    let codes = dictionary.codes(&names);
    assert_eq!(codes, [0, 1, 2, NONE, 0, 2]);
}

mod riding;
