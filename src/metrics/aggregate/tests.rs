//! Tests of the shared counting stage.

use super::*;

/// 240 units in 60 accounts: cohorts trained / untrained / none, a
/// segment column with a null, and two measures' values.
fn units() -> LazyFrame {
    let rows = 240u32;
    let account: Vec<i64> = (0..rows).map(|i| (i % 60) as i64).collect();
    let cohort: Vec<Option<&str>> = account
        .iter()
        .map(|a| match a % 3 {
            0 => Some("trained"),
            1 => Some("untrained"),
            _ => None,
        })
        .collect();
    let plan: Vec<Option<&str>> = account
        .iter()
        .map(|a| match a % 4 {
            0 => None,
            1 => Some("pro"),
            _ => Some("starter"),
        })
        .collect();
    let x: Vec<f64> = (0..rows).map(|i| ((i * 37) % 11) as f64 / 3.0).collect();
    let y: Vec<f64> = (0..rows).map(|i| 1.0 + ((i * 13) % 7) as f64).collect();
    df!(
        "account_id" => account,
        "cohort" => cohort,
        "plan" => plan,
        "x" => x,
        "y" => y,
    )
    .unwrap()
    .lazy()
}

fn mean() -> Sums {
    Sums {
        num: col("x"),
        den: lit(1.0),
        sq: col("x") * col("x"),
        ..Sums::zero()
    }
}

fn ratio() -> Sums {
    Sums::ratio(col("x"), col("y"))
}

fn sorted(frame: LazyFrame) -> DataFrame {
    frame
        .sort(
            ["cohort", "segment"],
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .collect()
        .unwrap()
}

/// The sets of `sums` of [`units`], placed by cohort and `plan` (the
/// segment), summed and rolled up, sorted by cohort and segment.
fn aggregated(sums: Vec<Sums>, per_account: bool) -> DataFrame {
    let segment_by = vec!["plan".to_string()];
    sorted(aggregate(
        units(),
        vec![col("cohort"), col("plan")],
        sums,
        per_account,
        &segment_by,
        &[],
    ))
}

/// Several sets of sums aggregated together give each set's columns as
/// aggregating it alone does, bit for bit, with and without the
/// per-account (clustered) step.
#[test]
fn several_sets_of_sums_give_each_sets_sums_alone() {
    for per_account in [false, true] {
        let together = aggregated(vec![mean(), ratio()], per_account);
        // trained, untrained, all × (none + 3 plan values) = 12 rows
        assert_eq!(together.height(), 12, "per_account = {per_account}");
        for (i, sums) in [mean(), ratio()].into_iter().enumerate() {
            let alone = aggregated(vec![sums], per_account);
            assert!(alone
                .column("cohort")
                .unwrap()
                .equals_missing(together.column("cohort").unwrap()));
            assert!(alone
                .column("segment")
                .unwrap()
                .equals_missing(together.column("segment").unwrap()));
            for name in SUM_COLUMNS {
                let set = together.column(&format!("{name}#{i}")).unwrap();
                let own = alone.column(name).unwrap();
                assert!(
                    own.equals_missing(&set.clone().with_name(name.into())),
                    "{name} of set {i}, per_account = {per_account}:\n{own:?}\n{set:?}"
                );
            }
        }
        // The sets share `num` (x) but not `den` (1 against y): a set
        // read in place of the other would show.
        let (a, b) = (
            together.column("den#0").unwrap(),
            together.column("den#1").unwrap(),
        );
        assert!(!a.equals_missing(b));
    }
}

/// A constant part (1, 0, 0.3, 2) and a part that fills two columns (`cx`
/// is `num`) are summed once ([`UnitValues`]); the sums are those of the
/// same parts summed unit by unit as distinct columns (each constant as a
/// column of that value), bit for bit, with and without the per-account
/// step, including a constant that is not a multiple of 2⁻¹⁶.
#[test]
fn constant_and_repeated_parts_give_the_sums_of_each_units_parts() {
    let literal = || Sums {
        num: col("x"),
        den: lit(1.0),
        sq: lit(0.3),
        a1: lit(0.0),
        a2: lit(2),
        n: lit(1.0),
        cluster: Some((col("x"), col("y"))),
    };
    // The same values, every part an expression of its own.
    let one = || col("y") * lit(0.0) + lit(1.0);
    let spelled = || Sums {
        num: col("x") + lit(0.0),
        den: one(),
        sq: one() * lit(0.3),
        a1: one() * lit(0.0),
        a2: one() * lit(2.0),
        n: one() + lit(0.0),
        cluster: Some((col("x") * lit(1.0), col("y"))),
    };
    let mut values = UnitValues::default();
    for (name, expr) in literal().named_parts("") {
        values.add(name, expr);
    }
    // x and y: the only values summed.
    assert_eq!(values.values.len(), 2);
    for per_account in [false, true] {
        let together = aggregated(vec![literal(), ratio()], per_account);
        let reference = aggregated(vec![spelled(), ratio()], per_account);
        assert_eq!(together.height(), 12);
        for name in together.get_column_names() {
            let (a, b) = (
                together.column(name).unwrap(),
                reference.column(name).unwrap(),
            );
            assert!(
                a.equals_missing(b),
                "{name}, per_account = {per_account}:\n{a:?}\n{b:?}"
            );
        }
        // 0.3 is summed as its multiple of 2⁻¹⁶, once per unit.
        let all = together
            .clone()
            .lazy()
            .filter(col("cohort").eq(lit("all")).and(col("segment").is_null()))
            .collect()
            .unwrap();
        let sq = all.column("sq#0").unwrap().f64().unwrap().get(0).unwrap();
        assert_eq!(sq, 240.0 * ((0.3f64 * 65536.0).round() / 65536.0));
        assert_ne!(sq, 240.0 * 0.3);
    }
}

/// The group-by keys of every aggregation that `explain` prints for a
/// pipeline of `metrics` over the tiny fixture.
fn group_keys(metrics: &str) -> Vec<String> {
    let fixture = crate::testkit::Fixture::tiny();
    let plan = crate::run::explain(&crate::run::RunOptions {
        pipeline: fixture.pipeline(metrics, ""),
        ..Default::default()
    })
    .expect("explain");
    plan.lines()
        .filter_map(|line| line.split("] BY [").nth(1).map(str::to_string))
        .collect()
}

/// A plan's dimension and period that are the same for every unit (most
/// plans') are not grouped by; a month's period (one per unit row) still is.
#[test]
fn constant_dimension_and_period_are_not_group_keys() {
    let constant = group_keys("[logo_retention]");
    assert!(!constant.is_empty());
    for keys in &constant {
        assert!(
            !keys.contains("dimension") && !keys.contains("period_"),
            "{keys}"
        );
    }
    let monthly = group_keys("[monthly_churn_rate]");
    assert!(
        monthly.iter().any(|keys| keys.contains("period_start")),
        "{monthly:?}"
    );
}
