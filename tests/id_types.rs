//! docs/INPUTS.md: "Ids may be integers or strings in the files; they are compared
//! as strings". When every id column is an integer column the run compares
//! integers, which must give exactly the tables of the string comparison
//! used as soon as one source has text ids.

mod common;

use common::*;
use polars::prelude::*;

#[test]
fn integer_and_text_ids_give_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    // The tickets' account ids as text: the whole run compares ids as text.
    let path = data.join("tickets.parquet");
    let mut tickets = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    assert!(tickets.column("account_id").unwrap().dtype().is_integer());
    tickets
        .with_column(
            tickets
                .column("account_id")
                .unwrap()
                .cast(&DataType::String)
                .unwrap(),
        )
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut tickets)
        .unwrap();
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data/", "sample_data/");
    let pipeline = dir.path().join("pipeline.yaml");
    std::fs::write(&pipeline, text).unwrap();

    let run = |pipeline: &std::path::Path, out: &str| {
        bin()
            .args(["-q", "run"])
            .arg(pipeline)
            .arg("--output")
            .arg(dir.path().join(out))
            .assert()
            .success();
        dir.path().join(out).join("as_of=2026-11-01")
    };
    let integers = run(&repo().join("pipelines/education_impact.yaml"), "integers");
    let texts = run(&pipeline, "texts");
    for table in TABLES {
        assert_eq!(
            contents(&integers, table),
            contents(&texts, table),
            "table {table}"
        );
        let df = read_table(&texts, table);
        if let Ok(ids) = df.column("account_id") {
            assert_eq!(ids.dtype(), &DataType::String, "{table}.account_id is text");
            let sorted: Vec<Option<&str>> = ids.str().unwrap().iter().collect();
            let mut expected = sorted.clone();
            expected.sort();
            assert_eq!(sorted, expected, "{table} sorted by account_id as text");
        }
    }
}

/// Runs a pipeline over `accounts.csv` and `training.csv` written as given
/// and returns `account_cohorts` as (account_id, cohort_at_start) text pairs
/// in table order.
fn cohorts_of(accounts: &str, training: &str, cohort: &str) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("accounts.csv"), accounts).unwrap();
    std::fs::write(dir.path().join("training.csv"), training).unwrap();
    let pipeline = format!(
        "name: ids\nsources:\n  accounts: {{ path: accounts.csv, churn: none }}\n  training: {{ path: training.csv, freshness: {{}} }}\n\
         cohort: {cohort}\nperiod: {{ as_of: 2026-01-01, months: 2 }}\n\
         metrics: [logo_retention]\noutput: {{ path: out }}\n"
    );
    std::fs::write(dir.path().join("p.yaml"), pipeline).unwrap();
    bin()
        .args(["-q", "run"])
        .arg(dir.path().join("p.yaml"))
        .assert()
        .success();
    let df = read_table(&dir.path().join("out/as_of=2026-01-01"), "account_cohorts");
    let ids = df.column("account_id").unwrap();
    assert_eq!(ids.dtype(), &DataType::String);
    let cohorts = df.column("cohort").unwrap();
    ids.str()
        .unwrap()
        .iter()
        .zip(cohorts.str().unwrap().iter())
        .map(|(id, c)| (id.unwrap().to_string(), c.unwrap_or("-").to_string()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn csv_ids_are_the_text_that_was_written() {
    // `007` and `7` are two accounts; only `007` trained. With inferred
    // types both read as 7: "account_id must be unique".
    let accounts = "account_id,signup_date\n007,2025-01-01\n7,2025-01-01\n";
    let training = "account_id,course_id,completed_at\n007,c1,2025-01-10\n";
    assert_eq!(
        cohorts_of(accounts, training, "{ window_days: 30 }"),
        pairs(&[("007", "trained"), ("7", "untrained")])
    );
    // Every other non-canonical spelling stays as written too, byte for
    // byte, and sorts as text: a sign, a space, a decimal point, text.
    let accounts = "account_id,signup_date\n+7,2025-01-01\n 8,2025-01-01\n9.0,2025-01-01\nA-01,2025-01-01\n10,2025-01-01\n";
    let training = "account_id,course_id,completed_at\n 8,c1,2025-01-10\n10,c1,2025-01-10\n";
    assert_eq!(
        cohorts_of(accounts, training, "{ window_days: 30 }"),
        pairs(&[
            (" 8", "trained"),
            ("+7", "untrained"),
            ("10", "trained"),
            ("9.0", "untrained"),
            ("A-01", "untrained"),
        ])
    );
    // Canonical integers (compared as integers inside): the output is the
    // same text, sorted as text (`10` before `9`), negative ids included.
    let accounts = "account_id,signup_date\n9,2025-01-01\n10,2025-01-01\n-3,2025-01-01\n";
    let training = "account_id,course_id,completed_at\n10,c1,2025-01-10\n";
    assert_eq!(
        cohorts_of(accounts, training, "{ window_days: 30 }"),
        pairs(&[("-3", "untrained"), ("10", "trained"), ("9", "untrained")])
    );
}

#[test]
fn a_course_id_with_leading_zeros_matches_as_written() {
    let accounts = "account_id,signup_date\n1,2025-01-01\n2,2025-01-01\n";
    // Read as integers, `0101` was 101 and matched no course of `cohort.courses`.
    let training = "account_id,course_id,completed_at\n1,0101,2025-01-10\n2,101,2025-01-10\n";
    for courses in ["[\"0101\"]", "[0101]"] {
        assert_eq!(
            cohorts_of(
                accounts,
                training,
                &format!("{{ window_days: 30, courses: {courses} }}")
            ),
            pairs(&[("1", "trained"), ("2", "untrained")]),
            "courses: {courses}"
        );
    }
}

#[test]
fn a_text_id_after_ten_thousand_integer_rows_is_read_as_text() {
    // Type inference looked at the first 10,000 rows only: the text id on
    // row 10,002 failed the whole read with a parse error (exit 1).
    let mut accounts = String::from("account_id,signup_date\n");
    for i in 1..=10_000 {
        accounts.push_str(&format!("{i},2025-01-01\n"));
    }
    accounts.push_str("acct-x,2025-01-01\n");
    let training = "account_id,course_id,completed_at\nacct-x,c1,2025-01-10\n";
    let cohorts = cohorts_of(&accounts, training, "{ window_days: 30 }");
    assert_eq!(cohorts.len(), 10_001);
    assert_eq!(
        cohorts.last().unwrap(),
        &("acct-x".to_string(), "trained".to_string())
    );
    assert_eq!(cohorts[0], ("1".to_string(), "untrained".to_string()));
}
