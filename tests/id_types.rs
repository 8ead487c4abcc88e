//! SPEC §4: "Ids may be integers or strings in the files; they are compared
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
