//! Fixtures shaped like vendors' exports, shared by the plausibility and
//! the recipe tests.

use polars::prelude::*;

use super::repo;

/// The sample's accounts with a `Company Name` ("Company 7 Inc"), and
/// `duplicates` more ids (90001 …) named as a CRM merge leaves them
/// ("COMPANY 1, inc.", the same signup date as account 1 …).
pub fn accounts_with_names(data: &std::path::Path, duplicates: usize) {
    let csv = std::fs::read_to_string(data.join("accounts.csv")).unwrap();
    let mut lines = csv.lines();
    let mut out = format!("{},Company Name\n", lines.next().unwrap());
    let rows: Vec<&str> = lines.collect();
    for line in &rows {
        let id = line.split(',').next().unwrap();
        out.push_str(&format!("{line},Company {id} Inc\n"));
    }
    for line in rows.iter().take(duplicates) {
        let (id, rest) = line.split_once(',').unwrap();
        out.push_str(&format!("9000{:0>1},{rest},\"COMPANY {id}, inc.\"\n", id));
    }
    std::fs::write(data.join("accounts.csv"), out).unwrap();
}

/// The sample's tickets as a help desk exports them (Freshdesk's shape): no
/// account id, the company's name written four ways by turns ("Company 7
/// Inc", "COMPANY 7, INC.", "company 7", "Company  7 LLC"), and for the
/// accounts whose id is a multiple of `unmatched_every` (0: none), a name
/// that matches no account ("Company 50 Systems").
pub fn tickets_by_company_name(data: &std::path::Path, unmatched_every: i64) {
    let tickets = ParquetReader::new(
        std::fs::File::open(repo().join("sample_data/tickets.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let id = || col("account_id").cast(DataType::String);
    let named = |before: &str, after: &str| {
        concat_str(
            [lit(before.to_string()), id(), lit(after.to_string())],
            "",
            false,
        )
    };
    let turn = col("account_id") % lit(4i64);
    let unmatched = if unmatched_every > 0 {
        (col("account_id") % lit(unmatched_every)).eq(lit(0i64))
    } else {
        lit(false)
    };
    let mut export = tickets
        .lazy()
        .select([
            when(unmatched)
                .then(named("Company ", " Systems"))
                .when(turn.clone().eq(lit(0i64)))
                .then(named("Company ", " Inc"))
                .when(turn.clone().eq(lit(1i64)))
                .then(named("COMPANY ", ", INC."))
                .when(turn.eq(lit(2i64)))
                .then(named("company ", ""))
                .otherwise(named("Company  ", " LLC"))
                .alias("Company Name"),
            col("created_at")
                .dt()
                .to_string("%Y-%m-%dT%H:%M:%SZ")
                .alias("Created time"),
            col("product_area").alias("Product"),
        ])
        .collect()
        .unwrap();
    CsvWriter::new(std::fs::File::create(data.join("freshdesk_tickets.csv")).unwrap())
        .finish(&mut export)
        .unwrap();
}
