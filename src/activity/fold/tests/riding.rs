//! The fold riding another pass over the same rows
//! (docs/ARCHITECTURE.md, "Activity").

use super::*;

/// Riding another pass, the fold reads the rows under other names beside
/// that pass's own columns, and folds only the rows it is told to keep
/// (here the days before the last two) of the known accounts: the frames of the
/// plans over those rows alone. When the other pass offers the slots of
/// the same ids in the same sets ([`crate::frame::Slots`]), the fold reads
/// them instead of looking the ids up again, with the same frames.
#[test]
fn riding_another_pass_the_fold_folds_only_the_rows_it_keeps() {
    for (text, offered) in [(false, false), (true, false), (false, true), (true, true)] {
        let activity = activity(3000, text);
        let (first, end) = (date_lit(date(FIRST)), date_lit(date("2026-04-09")));
        let (known, kept) = only_known(
            text,
            &activity,
            in_range(col("day"), first.clone(), end.clone()),
        );
        // The other pass's rows: the same values under other names, a
        // column of its own and the ids' slots it looks up.
        let rows = activity
            .clone()
            .select([
                col("account_id").alias("acct"),
                col("user_id").alias("usr"),
                col("day").alias("d"),
                col("event_name").alias("n"),
                col("events").alias("__own"),
            ])
            .with_columns([
                slot_of(&known.accounts, "acct").alias("__acct_slot"),
                slot_of(&known.users, "usr").alias("__usr_slot"),
            ]);
        let lookup = |set: &Option<Arc<IdSet>>, value: &str, slot: &str| {
            offered.then(|| crate::frame::Lookup {
                value: col(value),
                set: set.clone().unwrap(),
                slot: col(slot),
            })
        };
        let slots = crate::frame::Slots {
            account: lookup(&known.accounts, "acct", "__acct_slot"),
            user: lookup(&known.users, "usr", "__usr_slot"),
        };
        let reductions = reductions(text);
        let pass = Pass::new(&reductions, &known, types_of(&activity).unwrap()).unwrap();
        let mut columns = vec![col("__own")];
        columns.extend(pass.columns(
            &RowColumns {
                account: col("acct"),
                user: col("usr"),
                day: col("d"),
                name: col("n"),
                keep: Some(in_range(col("d"), first.clone(), end.clone())),
            },
            &slots,
        ));
        let shown = format!("{columns:?}");
        assert_eq!(
            shown.contains("__acct_slot") && shown.contains("__usr_slot"),
            offered,
            "the offered slots are read: {shown}"
        );
        let pass = crate::frame::fold_batches(
            rows.select(columns),
            pass,
            std::num::NonZeroUsize::new(97),
            false,
            "test",
            |pass, batch| {
                assert!(
                    batch.column("__own").is_ok(),
                    "the other pass's column is there"
                );
                pass.add(batch)
            },
        )
        .unwrap();
        let folded = pass.frames().unwrap();
        assert_like_the_plans(&folded, &reductions, &kept, "the rows kept");
    }
}

/// Each value of column `value`'s slot in the known `set`.
fn slot_of(set: &Option<Arc<IdSet>>, value: &str) -> Expr {
    set.as_ref().unwrap().slot_of(col(value))
}
