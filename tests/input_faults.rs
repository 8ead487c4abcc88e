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
        "source `training`: dropped 2 of 11 row(s) without a known account (1 with an empty account_id, 1 whose \
             account_id is not in `accounts`); e.g. `42`; `accounts` has e.g. `1`, `2`, `3`. If the two sides look \
             different",
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
    // Drops the pipeline expects (`4?` and the empty id) are counted apart, left out of the orphan
    // rule and not warned about, even with `orphans: error`.
    with("{ orphans: error, expected_orphans: { training: [\"4?\", \"\"] } }");
    let run = bin().arg("run").arg(&pipeline).assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(!stderr.contains("dropped"), "{stderr}");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/as_of=2026-01-01/_manifest.json")).unwrap(),
    )
    .unwrap();
    let training = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "training")
        .unwrap()
        .clone();
    assert_eq!(training["rows_dropped"].as_u64(), Some(2));
    assert_eq!(
        training["rows_dropped_reason"],
        "2 expected (quality.expected_orphans)"
    );
    // A pattern that covers only one of them: the other is still an orphan, and fatal.
    with("{ orphans: error, expected_orphans: { training: [\"\"] } }");
    validate_exits(&pipeline, 3).stderr(predicate::str::contains("account_id=42"));
    // Only a fact source of the pipeline takes patterns.
    with("{ expected_orphans: { tickets: [\"x\"] } }");
    validate_exits(&pipeline, 2).stderr(predicate::str::contains(
        "`quality.expected_orphans.tickets`: only a fact source of the pipeline has orphan rows",
    ));
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

#[test]
fn validate_reports_every_independent_problem_at_once() {
    // Issue: the first validate stopped on one rule (two currencies) and hid the null, orphan and
    // header-row problems behind it.
    let dir = fixture("[logo_retention, net_revenue_retention]");
    let file = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    // A training row without a course.
    file(
        "training.csv",
        "account_id,course_id,completed_at\n1,c1,2025-01-10\n2,,2025-01-12\n",
    );
    // Invoices in two currencies.
    file(
        "invoices.csv",
        "customer,period_start,period_end,amount,currency\n1,2025-11-01,2025-12-01,100,USD\n\
         2,2025-12-01,2026-01-01,90,EUR\n",
    );
    // Half the tickets name an account `accounts` does not have.
    file(
        "tickets.csv",
        "account_id,created_at\n1,2025-12-30\n9,2025-12-30\n",
    );
    // A survey export with a second header row.
    file(
        "nps.csv",
        "account_id,responded_at,score\nAccount,Date,Open-Ended Response\n1,2025-12-20,9\n",
    );
    // A touchpoints export without the column the pipeline maps.
    file("touchpoints.csv", "account_id,when\n1,2025-12-30\n");
    let pipeline = dir.path().join("p.yaml");
    let text = std::fs::read_to_string(&pipeline).unwrap().replace(
        "  training: {",
        "  revenue: { path: invoices.csv, grain: invoice, columns: { account_id: customer } }\n  \
         tickets: { path: tickets.csv }\n  nps_responses: { path: nps.csv }\n  \
         touchpoints: { path: touchpoints.csv, columns: { contacted_at: Date } }\n  training: {",
    );
    std::fs::write(&pipeline, text).unwrap();
    let output = bin().arg("validate").arg(&pipeline).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for words in [
        "3 problem(s) in the inputs, each found on its own:",
        // The file that cannot be read.
        "1. source `touchpoints`",
        "`Date`",
        // The currencies.
        "2. source `revenue`",
        "column `currency` holds 2 currencies (`EUR`, `USD`)",
        // Every broken row rule, together.
        "3. input data broke 5 rule(s):",
        "source `training`",
        "column `course_id`: must not be null",
        // The second header row breaks the date, the number and the orphan rule of its source.
        "source `nps_responses` (",
        "column `score`: is a number — 1 row(s) break it",
        "source `tickets`",
        "must be an account_id of `accounts` (50.0 % of its rows",
    ] {
        assert!(stderr.contains(words), "missing `{words}` in:\n{stderr}");
    }
    assert_eq!(
        stderr.matches("error:").count(),
        1,
        "one error, listing them all:\n{stderr}"
    );
}

#[test]
fn a_csv_column_declared_a_number_is_a_covariate_bucket_and_a_second_header_row_is_skipped() {
    let dir = fixture("[logo_retention]");
    let file = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    file(
        "accounts.csv",
        "account_id,signup_date,churn_date,plan,seats\n1,2025-01-01,,a,3\n2,2025-01-01,2025-11-01,a,12\n3,2025-06-01,,b,40\n",
    );
    let pipeline = dir.path().join("p.yaml");
    let base = std::fs::read_to_string(&pipeline).unwrap();
    let with = |accounts: &str, extra: &str| {
        let text = base
            .replace(
                "  accounts: { path: accounts.csv, freshness: {} }",
                accounts,
            )
            .replace("output:", &format!("{extra}\noutput:"));
        std::fs::write(&pipeline, text).unwrap();
    };
    let adjust = "adjust: { covariates: [seats], buckets: { seats: [5, 20] }, min_per_arm: 1 }";
    // Read as text, a CSV column cannot be bucketed.
    with("  accounts: { path: accounts.csv, freshness: {} }", adjust);
    validate_exits(&pipeline, 2).stderr(predicate::str::contains("not a number"));
    // Declared an integer, it can.
    with(
        "  accounts: { path: accounts.csv, freshness: {}, types: { seats: integer } }",
        adjust,
    );
    bin()
        .args(["-q", "validate"])
        .arg(&pipeline)
        .assert()
        .success();
    // A value that is not one breaks a rule that names it.
    file(
        "accounts.csv",
        "account_id,signup_date,churn_date,plan,seats\n1,2025-01-01,,a,3\n2,2025-01-01,2025-11-01,a,twelve\n3,2025-06-01,,b,4.5\n",
    );
    validate_exits(&pipeline, 3).stderr(
        predicate::str::contains("column `seats`: is an integer — 2 row(s) break it")
            .and(predicate::str::contains("seats=twelve")),
    );
    // `number` takes 4.5.
    file(
        "accounts.csv",
        "account_id,signup_date,churn_date,plan,seats\n1,2025-01-01,,a,3\n2,2025-01-01,2025-11-01,a,12\n3,2025-06-01,,b,4.5\n",
    );
    with(
        "  accounts: { path: accounts.csv, freshness: {}, types: { seats: number } }",
        adjust,
    );
    bin()
        .args(["-q", "validate"])
        .arg(&pipeline)
        .assert()
        .success();
    // A Parquet float column declared `integer`: 2.7 breaks the rule (it is not truncated to 2).
    {
        use polars::prelude::*;
        let mut df = df!(
            "account_id" => ["1", "2", "3"],
            "signup_date" => ["2025-01-01", "2025-01-01", "2025-06-01"],
            "churn_date" => [None, Some("2025-11-01"), None],
            "plan" => ["a", "a", "b"],
            "seats" => [3.0, 2.7, 40.0],
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(dir.path().join("accounts.parquet")).unwrap())
            .finish(&mut df)
            .unwrap();
    }
    with(
        "  accounts: { path: accounts.parquet, freshness: {}, types: { seats: integer } }",
        adjust,
    );
    validate_exits(&pipeline, 3).stderr(
        predicate::str::contains("column `seats`: is an integer — 1 row(s) break it")
            .and(predicate::str::contains("seats=2.7")),
    );
    // `types` on a canonical column other than a date is still an error.
    with(
        "  accounts: { path: accounts.csv, freshness: {}, types: { account_id: integer } }",
        "",
    );
    validate_exits(&pipeline, 2).stderr(predicate::str::contains(
        "`sources.accounts.types.account_id`: `types` applies to the date columns of `accounts`",
    ));

    // A survey export with a second header row (SurveyMonkey's sub-headers).
    file(
        "accounts.csv",
        "account_id,signup_date,churn_date,plan\n1,2025-01-01,,a\n2,2025-01-01,2025-11-01,a\n3,2025-06-01,,b\n",
    );
    file(
        "survey.csv",
        "Account,Date,How likely are you to recommend us?\n,,Response\n1,2025-12-20,9\n2,2025-12-21,4\n",
    );
    let survey = "  accounts: { path: accounts.csv, freshness: {} }\n  nps_responses: { path: survey.csv, columns: \
                  { account_id: Account, responded_at: Date, score: How likely are you to recommend us? }";
    with(&format!("{survey} }}"), "");
    validate_exits(&pipeline, 3).stderr(predicate::str::contains(
        "column `score`: is a number — 1 row(s) break it",
    ));
    with(
        &format!("{survey}, csv: {{ skip_rows_after_header: 1 }} }}"),
        "",
    );
    let output = bin()
        .args(["-q", "validate"])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert_success(&output);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&format!("nps_responses  {:>10} rows", 2))
    );
}
