//! Tests of the data rules' one-pass counts (`quality::tally`).

use super::*;

/// Reproducible pseudo-random numbers from `seed` (a linear congruential
/// generator): `next(m)` is in `0..m`.
fn numbers(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |m: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % m
    }
}

/// The counts of `frame` (columns `account`, `user`, `day`, `x`) with
/// the rule `x > 2`, accounts `accounts` (expected drops: account 5) and
/// users `users`.
fn counts(frame: &DataFrame, accounts: &Series, users: &Series) -> DataFrame {
    Counts {
        rules: vec![("rule_0".to_string(), col("x").gt(lit(2)))],
        accounts: Some(AccountCheck {
            account: col("account"),
            known: Arc::new(IdSet::of(accounts).unwrap()),
            expected: col("account").cast(DataType::String).eq(lit("5")),
            empty: col("account").is_null(),
        }),
        users: Some((col("user"), Arc::new(IdSet::of(users).unwrap()))),
        day: Some(col("day")),
    }
    .over(frame.clone().lazy(), "test", None)
    .unwrap()
}

fn n(counts: &DataFrame, column: &str) -> u64 {
    super::super::count_of(counts, column)
}

#[test]
fn counts_by_hand() {
    // Accounts {1, 2, 3}; users {10, 20}. Rows: 1 (known), 1, 4 (unknown), null (empty), 5 (expected),
    // 2: 4 known rows of 2 distinct accounts, orphans 4 and null (1 empty), 1 expected. Users: 5 non-null,
    // 10, 10, 20, 20 known (30 is not). x > 2 on 3 rows (a null x does not break it). Days 2025-01-03 … 2025-02-01.
    let frame = df!(
        "account" => [Some(1i64), Some(1), Some(4), None, Some(5), Some(2)],
        "user" => [Some(10i64), Some(30), None, Some(10), Some(20), Some(20)],
        "day" => [Some(20091), Some(20120), None, Some(20093), Some(20100), Some(20095)],
        "x" => [Some(1), Some(3), Some(5), None, Some(9), Some(0)],
    )
    .unwrap()
    .lazy()
    .with_column(col("day").cast(DataType::Date))
    .collect()
    .unwrap();
    let accounts = Series::new("a".into(), [1i64, 2, 3]);
    let users = Series::new("u".into(), [10i64, 20]);
    let c = counts(&frame, &accounts, &users);
    assert_eq!(n(&c, "rows"), 6);
    assert_eq!(n(&c, "rule_0"), 3);
    assert_eq!(n(&c, ORPHAN), 2);
    assert_eq!(n(&c, drops::EMPTY), 1);
    assert_eq!(n(&c, drops::EXPECTED), 1);
    assert_eq!(n(&c, ACCOUNTS), 2);
    assert_eq!(n(&c, "__user_rows"), 5);
    assert_eq!(n(&c, "__user_rows_known"), 4);
    let text = |column| super::super::text_of(&c, column, 0);
    assert_eq!(text(FIRST_DAY).as_deref(), Some("2025-01-03"));
    assert_eq!(text(LAST_DAY).as_deref(), Some("2025-02-01"));
}

/// The same counts as polars' `is_in` and `n_unique` over many batches,
/// whichever way the ids are looked up.
#[test]
fn counts_agree_with_polars_over_many_batches() {
    let rows = 300_000usize;
    let mut next = numbers(7);
    let account: Vec<Option<i64>> = (0..rows)
        .map(|_| match next(50) {
            0 => None,
            _ => Some(next(1200) as i64),
        })
        .collect();
    let user: Vec<Option<i64>> = (0..rows)
        .map(|_| (next(9) > 0).then(|| next(60_000) as i64))
        .collect();
    let day: Vec<i32> = (0..rows).map(|_| 19_000 + next(400) as i32).collect();
    let x: Vec<i64> = (0..rows).map(|_| next(10) as i64).collect();
    let frame = df!("account" => account, "user" => user, "day" => day, "x" => x)
        .unwrap()
        .lazy()
        .with_column(col("day").cast(DataType::Date))
        .collect()
        .unwrap();
    let ids = |range: std::ops::Range<i64>, extra: &[i64]| {
        let mut ids: Vec<i64> = range.step_by(2).collect();
        ids.extend(extra);
        Series::new("id".into(), ids)
    };
    // As bits from 0, as bits from a negative id, through hash maps (a far id), as text.
    for (accounts, users, text) in [
        (ids(0..1000, &[]), ids(0..50_000, &[]), false),
        (ids(0..1000, &[-3]), ids(0..50_000, &[-70_000]), false),
        (ids(0..1000, &[1 << 40]), ids(0..50_000, &[1 << 40]), false),
        (ids(0..1000, &[]), ids(0..50_000, &[]), true),
    ] {
        let (frame, accounts, users) = if text {
            let as_text = |s: &Series| s.cast(&DataType::String).unwrap();
            let frame = frame
                .clone()
                .lazy()
                .with_columns([
                    col("account").cast(DataType::String),
                    col("user").cast(DataType::String),
                ])
                .collect()
                .unwrap();
            (frame, as_text(&accounts), as_text(&users))
        } else {
            (frame.clone(), accounts, users)
        };
        let c = counts(&frame, &accounts, &users);
        let known = col("account")
            .is_in(lit(accounts.clone()).implode(false), false)
            .fill_null(lit(false));
        let expected_drop = known.clone().not().and(
            col("account")
                .cast(DataType::String)
                .eq(lit("5"))
                .fill_null(lit(false)),
        );
        let reference = frame
            .clone()
            .lazy()
            .select([
                col("x").gt(lit(2)).sum().alias("rule_0"),
                known
                    .clone()
                    .not()
                    .and(expected_drop.clone().not())
                    .sum()
                    .alias("orphans"),
                expected_drop.sum().alias("expected"),
                col("account").filter(known).n_unique().alias("accounts"),
                col("user")
                    .is_in(lit(users.clone()).implode(false), false)
                    .fill_null(lit(false))
                    .sum()
                    .alias("users"),
            ])
            .collect()
            .unwrap();
        let r = |column| super::super::count_of(&reference, column);
        assert_eq!(n(&c, "rows"), rows as u64);
        assert_eq!(n(&c, "rule_0"), r("rule_0"));
        assert_eq!(n(&c, ORPHAN), r("orphans"), "text ids: {text}");
        assert_eq!(n(&c, drops::EXPECTED), r("expected"));
        assert_eq!(n(&c, ACCOUNTS), r("accounts"), "text ids: {text}");
        assert_eq!(n(&c, "__user_rows_known"), r("users"), "text ids: {text}");
        assert!(
            r("users") > 1000 && r("accounts") > 400,
            "the data exercises the sets"
        );
    }
}
