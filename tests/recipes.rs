//! The recipes of docs/INPUTS.md, read from the docs themselves, on the
//! sample's data shaped as the vendors ship their exports: each recipe gives
//! the tables of the run on the sample's own files, and the counts an
//! independent pandas computation gives.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::vendors::*;
use common::*;
use polars::prelude::*;
use predicates::prelude::*;

/// The first YAML block under the heading `### {title}` of docs/INPUTS.md.
fn recipe(title: &str) -> String {
    let docs = std::fs::read_to_string(repo().join("docs/INPUTS.md")).unwrap();
    let section = docs
        .split(&format!("### {title}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no recipe `{title}` in docs/INPUTS.md"));
    let block = section.split("```yaml\n").nth(1).unwrap();
    block.split("```").next().unwrap().to_string()
}

/// The sample pipeline over `data` with the recipe's top-level blocks put in:
/// a source block replaces the sample's source of that name, another block
/// (`quality:`) the sample's line of that key. `paths` replace the recipe's
/// `exports/…` paths. Writes `{out}.yaml` under `dir`, publishing to `dir/{out}`.
fn with_recipe(
    dir: &Path,
    data: &Path,
    recipe: &str,
    paths: &[(&str, &Path)],
    out: &str,
) -> PathBuf {
    let mut recipe = recipe.to_string();
    for (from, to) in paths {
        assert!(
            recipe.contains(from),
            "`{from}` not in the recipe:\n{recipe}"
        );
        recipe = recipe.replace(from, to.to_str().unwrap());
    }
    let mut lines: Vec<String> =
        std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
            .unwrap()
            .replace("../sample_data", data.to_str().unwrap())
            .replace("../out/education_impact", out)
            .lines()
            .map(str::to_string)
            .collect();
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in recipe.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with(' ') {
            blocks.last_mut().unwrap().push(line);
        } else {
            blocks.push(vec![line]);
        }
    }
    for block in blocks {
        let key = block[0].split(':').next().unwrap();
        let source = lines
            .iter()
            .position(|l| l.starts_with(&format!("  {key}:")));
        if let Some(at) = source {
            lines.splice(at..=at, block.iter().map(|l| format!("  {l}")));
        } else if let Some(at) = lines.iter().position(|l| l.starts_with(&format!("{key}:"))) {
            lines.splice(at..=at, block.iter().map(|l| l.to_string()));
        } else {
            let at = lines.iter().position(|l| l == "sources:").unwrap() + 1;
            lines.splice(at..at, block.iter().map(|l| format!("  {l}")));
        }
    }
    let path = dir.join(format!("{out}.yaml"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// `validate`'s standard output, the run succeeding.
fn validated(pipeline: &Path) -> (String, String) {
    let output = bin().arg("validate").arg(pipeline).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    (String::from_utf8_lossy(&output.stdout).to_string(), stderr)
}

/// Runs the sample pipeline over `data` as it is, publishing to `dir/sample`.
fn sample_run(dir: &Path, data: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", data.to_str().unwrap())
        .replace("../out/education_impact", "sample");
    let path = dir.join("sample.yaml");
    std::fs::write(&path, text).unwrap();
    bin().arg("run").arg(&path).assert().success();
    dir.join("sample/as_of=2026-11-01")
}

fn write_csv(path: &Path, mut frame: DataFrame) {
    CsvWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut frame)
        .unwrap();
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// One Amplitude export line (its Export API's NDJSON shape): the company
/// as a group (a list of one id), event properties nested.
fn amplitude_line(name: &str, time: &str, user: Option<String>, company: Option<i64>) -> String {
    let user = user.map_or("null".to_string(), |u| format!("\"{u}\""));
    let groups = company.map_or("{}".to_string(), |c| format!("{{\"company\":[\"{c}\"]}}"));
    format!(
        "{{\"$insert_id\":\"x\",\"event_type\":\"{name}\",\"event_time\":\"{time}\",\"user_id\":{user},\
         \"groups\":{groups},\"event_properties\":{{\"source\":\"web\"}},\"amplitude_id\":7}}\n"
    )
}

/// The sample's events as Amplitude exports them: NDJSON, half in a plain
/// `.json` file and half gzip'd, with `extra` lines appended to the
/// gzip'd one; users by their id, or by email (`user1000@example.com`).
fn amplitude_export(data: &std::path::Path, extra: &str, emails: bool) -> std::path::PathBuf {
    let events =
        ParquetReader::new(std::fs::File::open(data.join("events/part-00000.parquet")).unwrap())
            .finish()
            .unwrap()
            .lazy()
            .select([
                col("event_name"),
                col("event_time")
                    .dt()
                    .to_string("%Y-%m-%d %H:%M:%S%.6f")
                    .alias("time"),
                col("user_id"),
                col("account_id"),
            ])
            .collect()
            .unwrap();
    let (names, times) = (
        events.column("event_name").unwrap().str().unwrap(),
        events.column("time").unwrap().str().unwrap(),
    );
    let (users, accounts) = (
        events.column("user_id").unwrap().i64().unwrap(),
        events.column("account_id").unwrap().i64().unwrap(),
    );
    let dir = data.join("amplitude");
    std::fs::create_dir(&dir).unwrap();
    let mut plain = std::fs::File::create(dir.join("events_part1.json")).unwrap();
    let mut zipped = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.join("events_part2.json.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    for i in 0..events.height() {
        let line = amplitude_line(
            names.get(i).unwrap(),
            times.get(i).unwrap(),
            users.get(i).map(|u| {
                if emails {
                    format!("user{u}@example.com")
                } else {
                    u.to_string()
                }
            }),
            accounts.get(i),
        );
        let out: &mut dyn Write = if i % 2 == 0 { &mut plain } else { &mut zipped };
        out.write_all(line.as_bytes()).unwrap();
    }
    zipped.write_all(extra.as_bytes()).unwrap();
    zipped.finish().unwrap();
    dir
}

#[test]
fn amplitude_events_as_gzipped_ndjson_with_the_company_group_give_the_sample_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let sample = sample_run(dir.path(), &data);
    // 20 anonymous page views: no user, no company group.
    let anonymous: String = (0..20)
        .map(|i| {
            amplitude_line(
                "page_viewed",
                &format!("2026-10-{:02} 10:00:00.000000", i + 1),
                None,
                None,
            )
        })
        .collect();
    let export = amplitude_export(&data, &anonymous, false);
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &recipe("Product events: Amplitude export"),
        &[("exports/amplitude/", &export)],
        "amplitude",
    );
    let run = bin().arg("run").arg(&pipeline).assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    // The anonymous events are the only rows without an account, counted as empty ids (the
    // sample's 232,017 events and the 20).
    assert!(
        stderr.contains("source `events`: dropped 20 of 232037 row(s) without a known account (20 with an empty account_id)"),
        "{stderr}"
    );
    assert_same_tables(
        &sample,
        &dir.path().join("amplitude/as_of=2026-11-01"),
        "Amplitude NDJSON",
    );
}

#[test]
fn ndjson_that_is_an_array_or_names_several_companies_in_one_event_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", data.to_str().unwrap())
        .replace(
            &format!("events:         {{ path: {}/events/, format: parquet }}", data.display()),
            "events:         { path: events.json, columns: { account_id: groups.company, event_name: event_type }, freshness: {} }",
        );
    let pipeline = dir.path().join("p.yaml");
    std::fs::write(&pipeline, text).unwrap();

    // One JSON document holding an array: what many APIs return.
    std::fs::write(
        dir.path().join("events.json"),
        "[{\"event_type\":\"login\",\"event_time\":\"2026-10-01 10:00:00\",\"user_id\":\"1000\",\"groups\":{\"company\":[\"1\"]}}]\n",
    )
    .unwrap();
    validate_exits(&pipeline, 3).stderr(predicate::str::contains(
        "events.json` is one JSON array, not newline-delimited JSON (one object per line); convert it with `jq -c '.[]'`",
    ));

    // An event of two companies cannot count for one account.
    let mut lines = amplitude_line(
        "login",
        "2026-10-01 10:00:00.000000",
        Some("1000".into()),
        Some(1),
    );
    lines.push_str(
        &amplitude_line(
            "login",
            "2026-10-02 10:00:00.000000",
            Some("1000".into()),
            Some(1),
        )
        .replace("[\"1\"]", "[\"1\",\"2\"]"),
    );
    std::fs::write(dir.path().join("events.json"), lines).unwrap();
    validate_exits(&pipeline, 3).stderr(predicate::str::contains("column `account_id`").and(
        predicate::str::contains("holds one id (a list of several names several accounts)"),
    ));

    // A path the file does not have lists the paths it has.
    let text = std::fs::read_to_string(&pipeline)
        .unwrap()
        .replace("groups.company", "groups.org");
    std::fs::write(&pipeline, text).unwrap();
    validate_exits(&pipeline, 3).stderr(
        predicate::str::contains("groups.org").and(predicate::str::contains("groups.company")),
    );
}

/// The sample's monthly revenue as Chargebee invoices (its invoice object's
/// fields): one invoice per account and month in cents, from the month's
/// day to the 1st of the next month (epoch seconds), every 7th unpaid
/// (`payment_due`, `amount_paid` 0), and every 11th voided and reissued: a
/// voided invoice of twice the amount beside the one owed.
fn chargebee_invoices(data: &Path) -> PathBuf {
    let revenue = read_parquet(&data.join("revenue.parquet"));
    let seconds = |day: Expr| day.cast(DataType::Int32).cast(DataType::Int64) * lit(86_400i64);
    let invoices = revenue
        .lazy()
        .with_row_index("row", None)
        .select([
            col("row"),
            col("account_id").alias("customer_id"),
            seconds(col("month")).alias("date_from"),
            seconds(col("month").dt().month_start().dt().offset_by(lit("1mo"))).alias("date_to"),
            (col("mrr") * lit(100.0))
                .round(0, RoundMode::HalfAwayFromZero)
                .cast(DataType::Int64)
                .alias("total"),
        ])
        .with_columns([
            when((col("row") % lit(7u32)).eq(lit(3u32)))
                .then(lit("payment_due"))
                .otherwise(lit("paid"))
                .alias("status"),
            lit("USD").alias("currency_code"),
        ]);
    let voided = invoices
        .clone()
        .filter((col("row") % lit(11u32)).eq(lit(5u32)))
        .with_columns([
            lit("voided").alias("status"),
            (col("total") * lit(2i64)).alias("total"),
        ]);
    let all = concat([invoices, voided], UnionArgs::default())
        .unwrap()
        .with_column(
            when(col("status").eq(lit("paid")))
                .then(col("total"))
                .otherwise(lit(0i64))
                .alias("amount_paid"),
        )
        .select([
            col("customer_id"),
            col("status"),
            col("date_from"),
            col("date_to"),
            col("total"),
            col("amount_paid"),
            col("currency_code"),
        ])
        .collect()
        .unwrap();
    let path = data.join("chargebee_invoices.csv");
    write_csv(&path, all);
    path
}

#[test]
fn chargebee_invoices_by_total_without_the_voided_give_the_sample_revenue() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let sample = sample_run(dir.path(), &data);
    let export = chargebee_invoices(&data);
    let recipe = recipe("Billing: Chargebee invoices");
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &recipe,
        &[("exports/chargebee_invoices.csv", &export)],
        "chargebee",
    );
    // pandas over sample_data/revenue.parquet: October 2026 sums to 1,519,012.67 over 1,465
    // accounts, median 335.17; the voided invoices and the unpaid ones change none of it.
    let (stdout, _) = validated(&pipeline);
    assert!(
        stdout.contains(
            "MRR in 2026-10: 1,519,012.67 USD over 1465 account(s), median 335.17 per account"
        ),
        "{stdout}"
    );
    bin().arg("run").arg(&pipeline).assert().success();
    assert_same_tables(
        &sample,
        &dir.path().join("chargebee/as_of=2026-11-01"),
        "Chargebee invoices",
    );

    // Without `drop_rows`, the voided invoices bill their months twice over.
    let without = recipe.replace(
        "  drop_rows: { status: [voided] }   # a voided invoice was never owed\n",
        "",
    );
    assert_ne!(without, recipe);
    let (stdout, _) = validated(&with_recipe(
        dir.path(),
        &data,
        &without,
        &[("exports/chargebee_invoices.csv", &export)],
        "voided",
    ));
    assert!(!stdout.contains("MRR in 2026-10: 1,519,012.67"), "{stdout}");

    // A misspelled value that matches nothing while a close one exists is named.
    let typo = recipe.replace("[voided]", "[voidd]");
    let output = bin()
        .arg("validate")
        .arg(with_recipe(
            dir.path(),
            &data,
            &typo,
            &[("exports/chargebee_invoices.csv", &export)],
            "typo",
        ))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("`sources.revenue.drop_rows`: `voidd` matches no `status` of source `revenue`"));
}

/// The sample's accounts as a HubSpot companies export: every company, 300
/// of them leads and opportunities that never became customers; churned
/// customers moved to the stage Other; dates as HubSpot writes them.
fn hubspot_companies(data: &Path) -> PathBuf {
    let csv = std::fs::read_to_string(data.join("accounts.csv")).unwrap();
    let mut out = String::from(
        "Record ID,Company name,Lifecycle Stage,Became a Customer Date,Churned Date,Create Date,plan,region\n",
    );
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (id, signup, churn) = (f[0], f[1], f[2]);
        let stage = if churn.is_empty() {
            "Customer"
        } else {
            "Other"
        };
        let churned = if churn.is_empty() {
            String::new()
        } else {
            format!("{churn} 17:05")
        };
        out.push_str(&format!(
            "{id},Company {id} Inc,{stage},{signup} 09:30,{churned},{signup} 08:00,{},{}\n",
            f[3], f[4]
        ));
    }
    for i in 0..300 {
        let stage = if i % 3 == 0 { "Opportunity" } else { "Lead" };
        out.push_str(&format!(
            "{},Prospect {i} GmbH,{stage},,,2026-0{}-15 11:00,,\n",
            700_000 + i,
            1 + i % 9
        ));
    }
    let path = data.join("hubspot_companies.csv");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn hubspot_companies_keep_those_that_became_customers_and_give_the_sample_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let sample = sample_run(dir.path(), &data);
    let export = hubspot_companies(&data);
    let recipe = recipe("CRM: HubSpot companies export");
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &recipe,
        &[("exports/hubspot_companies.csv", &export)],
        "hubspot",
    );
    // pandas: 2,000 of the export's 2,300 rows have a `Became a Customer Date`.
    let (stdout, _) = validated(&pipeline);
    assert!(
        stdout.contains("accounts              2000 rows"),
        "{stdout}"
    );
    bin().arg("run").arg(&pipeline).assert().success();
    assert_same_tables(
        &sample,
        &dir.path().join("hubspot/as_of=2026-11-01"),
        "HubSpot companies",
    );

    // Without the filter the prospects break the signup rule: exit 3, nothing published.
    let without = recipe.replace("  drop_rows: { Became a Customer Date: [\"\"] }   # leads and opportunities: never customers\n", "");
    assert_ne!(without, recipe);
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &without,
        &[("exports/hubspot_companies.csv", &export)],
        "prospects",
    );
    bin()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("column `signup_date`"));
    assert!(!dir.path().join("prospects/as_of=2026-11-01").exists());

    // `keep_rows` whose values match nothing would drop every account: exit 3 naming what the column holds.
    let none = recipe.replace(
        "drop_rows: { Became a Customer Date: [\"\"] }",
        "keep_rows: { Lifecycle Stage: [Customers] }",
    );
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &none,
        &[("exports/hubspot_companies.csv", &export)],
        "none",
    );
    validate_exits(&pipeline, 3).stderr(predicate::str::contains(
        "`sources.accounts.keep_rows`: no row of source `accounts` (",
    ).and(predicate::str::contains("has `Lifecycle Stage` in [Customers], so every row would be dropped; the column holds `customer` (")));
}

/// The sample's training as a Docebo enrollments report keyed by learner
/// email (Subscribed / In Progress / Completed), six staff rows from the
/// vendor's own domain, and the user list with emails.
fn docebo_export(data: &Path) -> (PathBuf, PathBuf) {
    let email = |c: &str| {
        concat_str(
            [
                lit("user"),
                col(c).cast(DataType::String),
                lit("@example.com"),
            ],
            "",
            false,
        )
    };
    let when_at = |c: &str| col(c).dt().to_string("%Y-%m-%d %H:%M:%S");
    let training = read_parquet(&data.join("training.parquet"))
        .lazy()
        .with_row_index("row", None)
        .select([
            email("user_id").alias("Email"),
            col("course_id").alias("Course Code"),
            when_at("enrolled_at").alias("Enrollment Date"),
            when_at("completed_at").alias("Completion Date"),
            when(col("completed_at").is_not_null())
                .then(lit("Completed"))
                .when((col("row") % lit(2u32)).eq(lit(0u32)))
                .then(lit("Subscribed"))
                .otherwise(lit("In Progress"))
                .alias("Status"),
            col("score").alias("Final Score"),
        ])
        .collect()
        .unwrap();
    let mut text = Vec::new();
    let mut training = training;
    CsvWriter::new(&mut text).finish(&mut training).unwrap();
    let mut text = String::from_utf8(text).unwrap();
    for i in 0..6 {
        text.push_str(&format!("trainer{i}@yourcompany.com,onboarding-101,2026-01-0{} 09:00:00,2026-01-0{} 10:00:00,Completed,100.0\n", i + 1, i + 1));
    }
    let enrollments = data.join("docebo_enrollments.csv");
    std::fs::write(&enrollments, text).unwrap();
    let users = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(data.join("users.csv")))
        .unwrap()
        .finish()
        .unwrap()
        .lazy()
        .select([
            email("user_id").alias("email"),
            col("account_id"),
            col("created_at"),
        ])
        .collect()
        .unwrap();
    let users_path = data.join("users_by_email.csv");
    write_csv(&users_path, users);
    (enrollments, users_path)
}

#[test]
fn docebo_enrollments_by_email_count_only_completions_and_acknowledge_staff() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let (enrollments, users) = docebo_export(&data);
    let recipe = recipe("LMS: Docebo enrollments report");
    // Users keyed by email: the events (keyed by the app's user id) are left out of this pipeline.
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &recipe,
        &[
            ("exports/users.csv", &users),
            ("exports/docebo_enrollments.csv", &enrollments),
        ],
        "docebo",
    );
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let (metrics, output) = (
        text.find("metrics:").unwrap(),
        text.find("output:").unwrap(),
    );
    let text: String = text[..metrics]
        .lines()
        .filter(|l| !l.starts_with("  events:"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + "metrics: [logo_retention, churn_rate, training_completion_rate]\n"
        + &text[output..];
    std::fs::write(&pipeline, text).unwrap();
    let (stdout, stderr) = validated(&pipeline);
    // The sample's cohorts (pandas: 552 accounts with a listed course completed in the window).
    assert!(
        stdout
            .contains("cohorts at as_of 2026-11-01: 552 trained, 1099 untrained, 349 not assigned"),
        "{stdout}"
    );
    // The staff rows are acknowledged: no warning about dropped training rows.
    assert!(!stderr.contains("source `training`: dropped"), "{stderr}");
}

/// The sample's NPS answers as SurveyMonkey's expanded CSV export: the
/// question as the column name, a second header row, the account id as
/// the survey link's custom variable, US dates with AM/PM.
fn surveymonkey_export(data: &Path) -> PathBuf {
    let csv = std::fs::read_to_string(data.join("nps_responses.csv")).unwrap();
    let question = "How likely is it that you would recommend us to a friend or colleague?";
    let mut out = format!(
        "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,Custom Data 2,{question}\n\
         ,,,,,,,,,,Response\n"
    );
    for (i, line) in csv.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let at = chrono::DateTime::parse_from_str(f[2], "%Y-%m-%dT%H:%M:%S%.f%z").unwrap();
        let at = at
            .with_timezone(&chrono::Utc)
            .format("%m/%d/%Y %I:%M:%S %p");
        out.push_str(&format!(
            "{},4021,{at},{at},10.0.0.1,,,,{},{},{}\n",
            11_000_000_000u64 + i as u64,
            f[0],
            f[1],
            f[3]
        ));
    }
    let path = data.join("surveymonkey_nps.csv");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn surveymonkey_export_with_its_second_header_row_gives_the_sample_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let sample = sample_run(dir.path(), &data);
    let export = surveymonkey_export(&data);
    let recipe = recipe("Surveys: SurveyMonkey NPS survey (CSV export, expanded)");
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &recipe,
        &[("exports/surveymonkey_nps.csv", &export)],
        "surveymonkey",
    );
    // pandas: 2,024 responses, 2023-02-10 … 2026-10-31.
    let (stdout, _) = validated(&pipeline);
    assert!(
        stdout.contains("nps_responses         2024 rows  responded_at 2023-02-10 … 2026-10-31"),
        "{stdout}"
    );
    bin().arg("run").arg(&pipeline).assert().success();
    assert_same_tables(
        &sample,
        &dir.path().join("surveymonkey/as_of=2026-11-01"),
        "SurveyMonkey export",
    );

    // Without `skip_rows_after_header`, "Response" breaks the score rule and says where it comes from.
    let without = recipe.replace("  csv: { skip_rows_after_header: 1 }", "  csv: {}");
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &without,
        &[("exports/surveymonkey_nps.csv", &export)],
        "second_row",
    );
    validate_exits(&pipeline, 3).stderr(predicate::str::contains(
        "hint: `Response` is what a survey export's second header row holds: set `csv: { skip_rows_after_header: 1 }` on the source",
    ));
}

#[test]
fn freshdesk_tickets_by_company_name_give_the_sample_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    accounts_with_names(&data, 0);
    tickets_by_company_name(&data, 0);
    let sample = sample_run(dir.path(), &data);
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &recipe("Support: Freshdesk tickets (the company by name)"),
        &[
            ("exports/accounts.csv", &data.join("accounts.csv")),
            (
                "exports/freshdesk_tickets.csv",
                &data.join("freshdesk_tickets.csv"),
            ),
        ],
        "freshdesk",
    );
    bin().arg("run").arg(&pipeline).assert().success();
    assert_same_tables(
        &sample,
        &dir.path().join("freshdesk/as_of=2026-11-01"),
        "Freshdesk tickets",
    );

    // NPS answers naming the company beside a user id (mostly empty): `columns.account_name` makes
    // the name the key; through the user, the answers without one would be dropped.
    let csv = std::fs::read_to_string(data.join("nps_responses.csv")).unwrap();
    let mut by_name = String::from("Company,user_id,responded_at,score\n");
    for line in csv.lines().skip(1) {
        let (id, rest) = line.split_once(',').unwrap();
        by_name.push_str(&format!("Company {id} Inc,{rest}\n"));
    }
    let nps = data.join("nps_by_name.csv");
    std::fs::write(&nps, by_name).unwrap();
    let recipe = recipe("Support: Freshdesk tickets (the company by name)")
        + "nps_responses: { path: exports/nps_by_name.csv, columns: { account_name: Company } }\n";
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &recipe,
        &[
            ("exports/accounts.csv", &data.join("accounts.csv")),
            (
                "exports/freshdesk_tickets.csv",
                &data.join("freshdesk_tickets.csv"),
            ),
            ("exports/nps_by_name.csv", &nps),
        ],
        "nps_by_name",
    );
    bin().arg("run").arg(&pipeline).assert().success();
    assert_same_tables(
        &sample,
        &dir.path().join("nps_by_name/as_of=2026-11-01"),
        "NPS answers keyed by company name beside a user id",
    );
}

#[test]
fn the_zendesk_left_join_keeps_tickets_without_an_account_for_the_orphan_rule() {
    // The join of docs/INPUTS.md run by DuckDB on a Zendesk-shaped export: organizations of the
    // accounts whose id is a multiple of 50 have no `external_id`.
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let tickets = read_parquet(&data.join("tickets.parquet"))
        .lazy()
        .with_row_index("id", None)
        .select([
            col("id"),
            (col("account_id") + lit(7_000_000i64)).alias("organization_id"),
            col("created_at")
                .dt()
                .to_string("%Y-%m-%dT%H:%M:%SZ")
                .alias("created_at"),
            col("product_area").alias("custom_fields_product_area"),
        ])
        .collect()
        .unwrap();
    write_csv(&data.join("tickets.csv"), tickets);
    let mut organizations = String::from("id,name,external_id\n");
    for id in 1..=2000 {
        let external = if id % 50 == 0 {
            String::new()
        } else {
            id.to_string()
        };
        organizations.push_str(&format!("{},Company {id},{external}\n", 7_000_000 + id));
    }
    std::fs::write(data.join("organizations.csv"), organizations).unwrap();
    let docs = std::fs::read_to_string(repo().join("docs/INPUTS.md")).unwrap();
    let sql = docs
        .split("### Support: Zendesk tickets with the organizations export\n")
        .nth(1)
        .and_then(|s| s.split("```sql\n").nth(1))
        .and_then(|s| s.split("```").next())
        .unwrap();
    let status = std::process::Command::new("python3")
        .args(["-c", "import duckdb, sys; duckdb.sql(sys.argv[1])", sql])
        .current_dir(&data)
        .status()
        .unwrap();
    assert!(status.success(), "DuckDB ran the recipe's join");
    let pipeline = with_recipe(
        dir.path(),
        &data,
        &recipe("Support: Zendesk tickets with the organizations export"),
        &[(
            "exports/tickets_by_account.parquet",
            &data.join("tickets_by_account.parquet"),
        )],
        "zendesk",
    );
    let (_, stderr) = validated(&pipeline);
    // pandas: 213 of the sample's 12,557 tickets belong to accounts whose id is a multiple of 50.
    assert!(
        stderr.contains("source `tickets`: dropped 213 of 12557 row(s) without a known account (213 with an empty account_id)"),
        "{stderr}"
    );
}

#[test]
fn init_drafts_a_pipeline_from_vendor_exports_that_validates_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let copy = |from: &Path, name: &str| {
        std::fs::rename(from, exports.join(name)).unwrap();
    };
    copy(&hubspot_companies(&data), "hubspot_companies.csv");
    let (enrollments, users) = docebo_export(&data);
    copy(&enrollments, "docebo_enrollments.csv");
    copy(&users, "users.csv");
    copy(&amplitude_export(&data, "", true), "amplitude");
    copy(&chargebee_invoices(&data), "chargebee_invoices.csv");
    copy(&surveymonkey_export(&data), "surveymonkey_nps.csv");
    accounts_with_names(&data, 0);
    tickets_by_company_name(&data, 0);
    copy(&data.join("freshdesk_tickets.csv"), "freshdesk_tickets.csv");
    std::fs::write(exports.join("org_chart.csv"), "Manager,Report\nAda,Grace\n").unwrap();
    std::fs::write(exports.join("notes.md"), "exported on Monday\n").unwrap();

    let output = bin()
        .current_dir(dir.path())
        .args(["init", "exports"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let draft = std::fs::read_to_string(dir.path().join("pipeline.yaml")).unwrap();
    assert!(output.status.success(), "{stderr}\n{draft}");
    for words in [
        "`accounts` from `exports/hubspot_companies.csv` (HubSpot companies export)",
        "`training` from `exports/docebo_enrollments.csv` (Docebo enrollments report)",
        "`users` from `exports/users.csv` (user list keyed by email)",
        "`events` from `exports/amplitude/` (Amplitude export)",
        "`revenue` from `exports/chargebee_invoices.csv` (Chargebee invoices)",
        "`nps_responses` from `exports/surveymonkey_nps.csv` (SurveyMonkey export)",
        "`tickets` from `exports/freshdesk_tickets.csv` (Freshdesk tickets)",
        "`org_chart.csv` not drafted: no source recognized; its columns: Manager, Report",
        "`notes.md` not drafted: not a data file (Parquet, CSV or NDJSON, by its name)",
    ] {
        assert!(stderr.contains(words), "missing `{words}` in:\n{stderr}");
    }
    for words in [
        "      account_id: groups.company\n",
        "    format: ndjson\n",
        "    grain: invoice",
        "      amount: 0.01   # `total` in cents",
        "      period_start: epoch_s   # seconds since 1970",
        "      status: [voided]   # a voided invoice was never owed",
        "      Became a Customer Date: [\"\"]   # leads and opportunities: never customers",
        "    completed_values: [Completed]   # the `Status` values that mean completed; seen: ",
        "    csv: { skip_rows_after_header: 1 }",
        "      responded_at: \"%m/%d/%Y %I:%M:%S %p\"",
        "      account_name: Company Name",
        "  as_of: 2026-11-01   # the day after",
        "  # not drafted: org_chart.csv",
        "  - net_revenue_retention\n",
        "  - nps\n",
        "  - support_incident_rate\n",
        "plan, region]   # columns of accounts with few values",
    ] {
        assert!(draft.contains(words), "missing `{words}` in:\n{draft}");
    }
    // The draft validates as it is (init exits with validate's code) and runs.
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(stdout.contains("coverage:"), "{stdout}");
    bin()
        .current_dir(dir.path())
        .args(["run", "pipeline.yaml"])
        .assert()
        .success();
    assert!(dir
        .path()
        .join("out/drafted/as_of=2026-11-01/_SUCCESS")
        .exists());

    // A second init does not overwrite the draft.
    bin()
        .current_dir(dir.path())
        .args(["init", "exports"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`pipeline.yaml` exists: give another `--output`, or `--force` to replace it",
        ));
}
