use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;

use super::monthly_by_account;
use crate::ids::IdSet;
use crate::metrics::revenue::mrr::{grouped_by_account, months_of, mrr_of, rows_of};
use crate::time::Period;

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// Revenue rows around the bounds: the first and last day of months, the
/// months before M0, a partial month, A itself and after it; several rows
/// in one month, a null and a zero MRR, cents to round (half away from
/// zero), an account only after A and one that is not an account.
fn rows() -> LazyFrame {
    let rows: [(i64, &str, Option<f64>); 18] = [
        (1, "2025-09-01", Some(100.0)),
        (1, "2025-10-31", Some(120.125)),
        (1, "2025-10-15", Some(0.005)),
        (1, "2025-12-31", Some(80.0)),
        (2, "2025-03-10", Some(50.0)),
        (2, "2025-11-01", Some(0.0)),
        (2, "2025-12-01", None),
        (3, "2025-08-31", Some(0.0)),
        (3, "2025-11-30", Some(30.0)),
        (3, "2026-01-01", Some(45.0)),
        (3, "2026-01-14", Some(45.0)),
        (3, "2026-01-15", Some(45.0)),
        (5, "2026-01-20", Some(10.0)),
        (5, "2026-02-01", Some(10.0)),
        (6, "2026-02-02", Some(10.0)),
        (9, "2025-11-01", Some(999.0)),
        (1, "2025-12-01", Some(-0.004)),
        (2, "2025-12-15", Some(2.675)),
    ];
    df!(
        "account_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "month" => rows.iter().map(|r| d(r.1)).collect::<Vec<_>>(),
        "mrr" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    )
    .expect("rows")
    .lazy()
}

fn accounts() -> Arc<IdSet> {
    let ids = Series::new("account_id".into(), [6i64, 1, 2, 3, 5, 7]);
    Arc::new(IdSet::of(&ids).expect("set"))
}

/// The group-by of the rows of known accounts, sorted by account.
fn grouped(months: &[NaiveDate], as_of: NaiveDate) -> DataFrame {
    let known = Series::new("account_id".into(), [6i64, 1, 2, 3, 5, 7]);
    let rows = rows().filter(col("account_id").is_in(lit(known).implode(false), false));
    grouped_by_account(rows_of(rows, as_of), months)
        .sort(["account_id"], Default::default())
        .collect()
        .expect("group-by")
}

/// The fold gives the frame of the group-by over the same rows, at an A
/// that is a month's first day and at one in the middle of a month.
#[test]
fn the_fold_gives_the_group_bys_frame() {
    for as_of in ["2026-01-01", "2026-01-15"] {
        let period = Period::new(d(as_of), 3);
        let months = months_of(&period);
        let expected = grouped(&months, d(as_of));
        let folded = monthly_by_account(rows(), &accounts(), &months, d(as_of), mrr_of)
            .expect("fold")
            .sort(["account_id"], Default::default())
            .expect("sorted");
        assert!(
            folded.equals_missing(&expected),
            "A = {as_of}: {folded} {expected}"
        );
        // Not a trivial frame: accounts 1, 2, 3 (5 only when its row's month starts before A).
        assert!(expected.height() >= 3, "{expected}");
    }
}

/// By hand at A = 2026-01-01 (M0 = Sep 2025, M1…M3 = Oct…Dec): account 1
/// has 10000 cents in M0, 12013 + 1 = 12014 in Oct (120.125 → 12012.5 →
/// 12013; 0.005 → 0.5 → 1), 8000 − 0 in Dec (−0.004 → −0.4 → −0), first
/// paid Sep; account 2 paid in March (before M0), 0 in Nov, 268 in Dec
/// (2.675 × 100 rounds to 267.5 in binary: 268); account 3 30 in Nov, first
/// paid Nov (the zero of August is no payment); 5 and 6 only from A on;
/// 9 is no account.
#[test]
fn the_folded_months_by_hand() {
    let as_of = d("2026-01-01");
    let period = Period::new(as_of, 3);
    let months = months_of(&period);
    assert_eq!(
        months,
        [
            d("2025-09-01"),
            d("2025-10-01"),
            d("2025-11-01"),
            d("2025-12-01")
        ]
    );
    let folded = monthly_by_account(rows(), &accounts(), &months, as_of, mrr_of)
        .expect("fold")
        .sort(["account_id"], Default::default())
        .expect("sorted");
    let ids: Vec<Option<i64>> = folded
        .column("account_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3)]);
    let month = |i: usize| -> Vec<Option<f64>> {
        folded
            .column(&mrr_of(i))
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect()
    };
    assert_eq!(month(0), [Some(10000.0), Some(0.0), Some(0.0)]);
    assert_eq!(month(1), [Some(12014.0), Some(0.0), Some(0.0)]);
    assert_eq!(month(2), [Some(0.0), Some(0.0), Some(3000.0)]);
    assert_eq!(month(3), [Some(8000.0), Some(268.0), Some(0.0)]);
    let first = folded
        .column("first_paid_month")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap();
    let first: Vec<Option<NaiveDate>> = first
        .i32()
        .unwrap()
        .iter()
        .map(|v| v.map(crate::time::days_to_date))
        .collect();
    assert_eq!(
        first,
        [
            Some(d("2025-09-01")),
            Some(d("2025-03-01")),
            Some(d("2025-11-01"))
        ]
    );
}

/// In a run the fold rides the revenue rows' data rules (with the writer
/// of the kept rows, revenue being a CSV file here): after the checks it
/// holds the frame the group-by gives over the source's rows, and the
/// revenue metrics read it (their hand-computed tests run through it).
#[test]
fn the_fold_rides_the_revenue_pass() {
    use crate::testkit::Fixture;
    let fixture = Fixture::tiny();
    let metrics = "[net_revenue_retention, revenue_movements]";
    let job = fixture.job_at(fixture.pipeline_with_sources(metrics, "training.csv", ""));
    let mut inputs = crate::run::scan(&job, None).expect("inputs scan");
    let period = &job.pipeline.period;
    let (ride, start) = super::prepare_ride(&job.metrics, period, &inputs).expect("a fold to ride");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut scope = crate::metrics::needs::check_scope(&job.metrics, period);
    scope.spill = Some(dir.path().to_path_buf());
    let riders = [(crate::config::SourceName::Revenue, start)].into();
    crate::quality::check_all(&mut inputs, &job.pipeline, &scope, Vec::new(), riders)
        .expect("the tiny dataset passes its checks");
    assert!(
        dir.path().join("revenue.parquet").is_file(),
        "the rows kept too"
    );
    ride.keep(&mut inputs).expect("frame");
    let folded = inputs
        .folded(super::FOLDED)
        .expect("folded in the pass")
        .clone();
    let months = months_of(&period);
    let rows = inputs
        .frame(crate::config::SourceName::Revenue)
        .expect("revenue");
    let expected = grouped_by_account(rows_of(rows, period.as_of), &months)
        .sort(["account_id"], Default::default())
        .collect()
        .expect("group-by");
    let folded = folded
        .sort(["account_id"], Default::default())
        .expect("sorted");
    assert!(folded.equals_missing(&expected), "{folded} {expected}");
    assert!(expected.height() >= 4, "{expected}");
    // Nothing to fold without a metric that reads MRR.
    let job = fixture.job_at(fixture.pipeline_with_sources("[logo_retention]", "training.csv", ""));
    assert!(super::prepare_ride(&job.metrics, &job.pipeline.period, &inputs).is_none());
}
