use polars::prelude::*;

use super::{attach_by_key, Unmatched};

/// The join that [`attach_by_key`] stands for (left, or inner when the
/// unmatched rows are dropped), in `left`'s order.
fn joined(left: &DataFrame, right: &DataFrame, unmatched: Unmatched) -> DataFrame {
    let how = match unmatched {
        Unmatched::Kept => JoinType::Left,
        Unmatched::Dropped => JoinType::Inner,
    };
    left.clone()
        .lazy()
        .with_row_index("__order", None)
        .join(
            right.clone().lazy(),
            [col("id")],
            [col("key")],
            JoinArgs::new(how),
        )
        .sort(["__order"], Default::default())
        .drop(by_name(["__order"], true, false))
        .collect()
        .unwrap()
}

fn attached(left: &DataFrame, right: &DataFrame) -> Option<DataFrame> {
    attached_or_dropped(left, right, Unmatched::Kept)
}

fn attached_or_dropped(
    left: &DataFrame,
    right: &DataFrame,
    unmatched: Unmatched,
) -> Option<DataFrame> {
    attach_by_key(left.clone().lazy(), "id", right, "key", unmatched)
        .unwrap()
        .map(|frame| frame.collect().unwrap())
}

/// Each row of `left` takes its key's values, nulls without one, in its
/// own order, as the join gives them: integer keys far apart and out of
/// order (a slot is not a row of `right`), a null key, a key not in
/// `right`; and text keys.
#[test]
fn attaching_by_key_gives_the_left_join_of_distinct_keys() {
    let left = df![
        "id" => [Some(40i64), None, Some(7), Some(1_000_000), Some(7), Some(3)],
        "x" => [1, 2, 3, 4, 5, 6],
    ]
    .unwrap();
    let right = df![
        "key" => [1_000_000i64, 7, 40, 12],
        "day" => [Some(10i32), Some(20), None, Some(40)],
        "name" => ["a", "b", "c", "d"],
    ]
    .unwrap();
    let got = attached(&left, &right).expect("distinct integer keys are attached");
    assert!(
        got.equals_missing(&joined(&left, &right, Unmatched::Kept)),
        "{got}"
    );
    assert_eq!(
        got.column("name").unwrap().str().unwrap().get(0),
        Some("c"),
        "{got}"
    );
    // 40 has a null day, the null id and 3 have no row.
    assert_eq!(got.column("day").unwrap().null_count(), 3, "{got}");
    // Dropping the rows without one gives the inner join: 40, 7, 1000000, 7.
    let got = attached_or_dropped(&left, &right, Unmatched::Dropped).expect("attached");
    assert!(
        got.equals_missing(&joined(&left, &right, Unmatched::Dropped)),
        "{got}"
    );
    assert_eq!(
        got.column("x").unwrap().i32().unwrap().to_vec(),
        [Some(1), Some(3), Some(4), Some(5)],
        "{got}"
    );

    let left = df!["id" => [Some("b"), Some("z"), None, Some("a")], "x" => [1, 2, 3, 4]].unwrap();
    let right = df!["key" => ["a", "b"], "v" => [1.5, 2.5]].unwrap();
    let got = attached(&left, &right).expect("distinct text keys are attached");
    assert!(
        got.equals_missing(&joined(&left, &right, Unmatched::Kept)),
        "{got}"
    );
    let got = attached_or_dropped(&left, &right, Unmatched::Dropped).expect("attached");
    assert!(
        got.equals_missing(&joined(&left, &right, Unmatched::Dropped)),
        "{got}"
    );
    assert_eq!(got.height(), 2, "{got}");
}

/// Where a join would give other rows or fail, the caller joins: a key
/// twice in `right` (the join repeats the row), a null key, keys of
/// another type on each side, keys that are not ids.
#[test]
fn attaching_by_key_leaves_to_the_join_what_it_cannot_give() {
    let left = df!["id" => [1i64, 2], "x" => [1, 2]].unwrap();
    let twice = df!["key" => [1i64, 1], "v" => [1, 2]].unwrap();
    assert!(attached(&left, &twice).is_none());
    let null = df!["key" => [Some(1i64), None], "v" => [1, 2]].unwrap();
    assert!(attached(&left, &null).is_none());
    let text = df!["key" => ["1", "2"], "v" => [1, 2]].unwrap();
    assert!(attached(&left, &text).is_none());
    let left_floats = df!["id" => [1.0f64, 2.0], "x" => [1, 2]].unwrap();
    let floats = df!["key" => [1.0f64, 2.0], "v" => [1, 2]].unwrap();
    assert!(attached(&left_floats, &floats).is_none());
}
