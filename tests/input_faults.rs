//! Faults in the input files: orphan rows, and file-level faults (empty
//! globs, mixed column types, truncated Parquet, malformed or empty CSV).

mod common;

use common::*;
use predicates::prelude::*;

#[test]
fn orphans_and_empty_ids_are_dropped_and_counted_or_fatal() {
    let dir = fixture("[logo_retention]");
    // 11 rows: 9 of known accounts, one of an unknown account, one without.
    let mut training = String::from("account_id,course_id,completed_at\n");
    for id in [1, 2, 1, 2, 1, 2, 1, 2, 1] {
        training.push_str(&format!("{id},c1,2025-01-10\n"));
    }
    training.push_str("42,c1,2025-01-10\n,c1,2025-01-10\n");
    std::fs::write(dir.path().join("training.csv"), training).unwrap();
    let pipeline = dir.path().join("p.yaml");
    // 2 of 11 (18.2 %) is below the default 20 %: dropped with a warning
    // that shows ids of both sides.
    bin()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .success()
        .stderr(predicate::str::contains(
        "source `training`: dropped 2 of 11 row(s) whose account_id is empty or not in `accounts` \
             (e.g. `42`, (empty); `accounts` has e.g. `1`, `2`, `3`)",
    ));
    let manifest =
        std::fs::read_to_string(dir.path().join("out/as_of=2026-01-01/_manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let training = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "training")
        .unwrap()
        .clone();
    assert_eq!(
        (
            training["rows_read"].as_u64(),
            training["rows_dropped"].as_u64()
        ),
        (Some(11), Some(2))
    );
    assert_eq!(manifest["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["quality"]["max_orphan_share"], 0.2);
    assert_eq!(manifest["quality"]["orphans"], "warn");

    // Above `quality.max_orphan_share`: exit 3, as ids from another system.
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let with = |quality: &str| {
        std::fs::write(
            &pipeline,
            text.replace("output:", &format!("quality: {quality}\noutput:")),
        )
        .unwrap();
    };
    with("{ max_orphan_share: 0.1 }");
    validate_exits(&pipeline, 3)
        .stderr(
            predicate::str::contains(
                "must be an account_id of `accounts` (18.2 % of its rows, above quality.max_orphan_share 10.0 %",
            )
            .and(predicate::str::contains("account_id=42"))
            .and(predicate::str::contains("— 2 row(s) break it")),
        );
    // `orphans: error`: any orphan stops the run.
    with("{ orphans: error }");
    validate_exits(&pipeline, 3).stderr(
        predicate::str::contains("must be an account_id of `accounts` (quality.orphans: error)")
            .and(predicate::str::contains("account_id=42")),
    );
}

/// A pipeline over `accounts.csv` and a revenue directory of Parquet files.
fn revenue_fixture() -> tempfile::TempDir {
    let dir = fixture("[logo_retention, net_revenue_retention]");
    let path = dir.path().join("p.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "  training: { path: training.csv, freshness: {} }\n",
        "  training: { path: training.csv, freshness: {} }\n  revenue: { path: \"rev/*.parquet\", freshness: {} }\n",
    );
    std::fs::write(&path, text).unwrap();
    std::fs::create_dir(dir.path().join("rev")).unwrap();
    dir
}

fn write_revenue(path: &std::path::Path, ids: polars::prelude::Column) {
    write_revenue_mrr(path, ids, [10.0, 20.0]);
}

fn write_revenue_mrr(path: &std::path::Path, ids: polars::prelude::Column, mrr: [f64; 2]) {
    use polars::prelude::*;
    let months = Column::new("month".into(), [19631i32, 19631])
        .cast(&DataType::Date)
        .unwrap();
    let mut df =
        DataFrame::new_infer_height(vec![ids, months, Column::new("mrr".into(), mrr)]).unwrap();
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn file_level_faults_have_their_own_messages() {
    use polars::prelude::Column;
    let dir = revenue_fixture();
    let pipeline = dir.path().join("p.yaml");
    let run = || bin().args(["-q", "validate"]).arg(&pipeline).assert();

    // Empty glob → exit 4 naming the pattern.
    run().code(4).stderr(
        predicate::str::contains("source `revenue`: no data files found at")
            .and(predicate::str::contains("rev/*.parquet")),
    );

    // Two files whose account_id types differ → exit 3 naming both files.
    write_revenue(
        &dir.path().join("rev/a.parquet"),
        Column::new("account_id".into(), [1i64, 2]),
    );
    write_revenue(
        &dir.path().join("rev/b.parquet"),
        Column::new("account_id".into(), ["1", "2"]),
    );
    run().code(3).stderr(
        predicate::str::contains("column `account_id` is Int64 in")
            .and(predicate::str::contains("b.parquet")),
    );
    std::fs::remove_file(dir.path().join("rev/b.parquet")).unwrap();
    run().success();

    // A file without a column the other file has → exit 3 naming both
    // files and the column.
    {
        use polars::prelude::*;
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("account_id".into(), [3i64]),
            Column::new("month".into(), [19631i32])
                .cast(&DataType::Date)
                .unwrap(),
        ])
        .unwrap();
        ParquetWriter::new(std::fs::File::create(dir.path().join("rev/b.parquet")).unwrap())
            .finish(&mut df)
            .unwrap();
    }
    run().code(3).stderr(
        predicate::str::contains("column `mrr` is in")
            .and(predicate::str::contains("a.parquet"))
            .and(predicate::str::contains("but not in"))
            .and(predicate::str::contains("b.parquet")),
    );
    std::fs::remove_file(dir.path().join("rev/b.parquet")).unwrap();

    // A truncated Parquet file → exit 4 naming it.
    let bytes = std::fs::read(dir.path().join("rev/a.parquet")).unwrap();
    std::fs::write(dir.path().join("rev/c.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    run().code(4).stderr(predicate::str::contains(
        "c.parquet` is not a readable Parquet file",
    ));
    std::fs::remove_file(dir.path().join("rev/c.parquet")).unwrap();

    // A malformed CSV line → exit 3 with the line number.
    let accounts = dir.path().join("accounts.csv");
    std::fs::write(
        &accounts,
        "account_id,signup_date,churn_date,plan\n1,2025-01-01,,a\n2,2025-01-01,,b,extra\n",
    )
    .unwrap();
    run().code(3).stderr(predicate::str::contains(
        "line 3: malformed CSV line: 5 field(s) where the header has 4",
    ));

    // The wrong delimiter → exit 3 with a hint.
    std::fs::write(
        &accounts,
        "account_id;signup_date;churn_date;plan\n1;2025-01-01;;a\n",
    )
    .unwrap();
    run().code(3).stderr(predicate::str::contains(
        "hint: the header reads as one column containing `;`",
    ));

    // An empty file → exit 3 naming it.
    std::fs::write(&accounts, "").unwrap();
    run()
        .code(3)
        .stderr(predicate::str::contains("accounts.csv` is empty"));
}

#[test]
fn nan_and_infinite_numbers_break_a_rule() {
    let two_not_finite = predicate::str::contains(
        "column `mrr`: must be a finite number (not NaN or ±infinity) — 2 row(s) break it",
    );
    use polars::prelude::Column;
    let dir = revenue_fixture();
    let pipeline = dir.path().join("p.yaml");
    // Parquet: NaN and +inf would both pass `mrr ≥ 0` (NaN sorts above every number).
    write_revenue_mrr(
        &dir.path().join("rev/a.parquet"),
        Column::new("account_id".into(), [1i64, 2]),
        [f64::NAN, f64::INFINITY],
    );
    bin()
        .args(["-q", "run"])
        .arg(&pipeline)
        .assert()
        .code(3)
        .stderr(
            two_not_finite
                .clone()
                .and(predicate::str::contains("must be ≥ 0").not()),
        );
    assert!(!dir.path().join("out").exists(), "nothing is published");

    // CSV: the texts NaN and -inf are numbers to the parser, and not finite.
    std::fs::remove_file(dir.path().join("rev/a.parquet")).unwrap();
    let text = std::fs::read_to_string(&pipeline)
        .unwrap()
        .replace("rev/*.parquet", "revenue.csv");
    std::fs::write(&pipeline, text).unwrap();
    std::fs::write(
        dir.path().join("revenue.csv"),
        "account_id,month,mrr\n1,2025-10-01,10\n1,2025-11-01,NaN\n2,2025-10-01,-inf\n",
    )
    .unwrap();
    bin()
        .args(["-q", "validate"])
        .arg(&pipeline)
        .assert()
        .code(3)
        .stderr(
            two_not_finite
                .and(predicate::str::contains("mrr=NaN"))
                .and(predicate::str::contains("mrr=-inf")),
        );
}
