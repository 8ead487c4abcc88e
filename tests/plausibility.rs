//! Plausible mistakes with real exports fail or warn, and name the fix
//! (issue: from real exports to a trustworthy first result). Each fixture is
//! shaped like a vendor's export.

mod common;

use common::*;
use predicates::prelude::*;

/// A Salesforce-style account export and an LMS completion export.
fn crm_fixture(accounts_mapping: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Accounts.csv"),
        "Account ID,Account Name,Created Date,Churn Date,Plan Tier\n\
         001A,Acme,2025-01-01,,Growth\n001B,Globex,2025-01-01,2025-12-01,Starter\n\
         001C,Initech,2025-01-01,,Starter\n001D,Umbrella,2025-01-01,2025-11-15,Growth\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("completions.csv"),
        "account_id,course_id,completed_at\n001A,Admin Fundamentals,2025-01-10\n001C,Admin Fundamentals,2025-01-12\n",
    )
    .unwrap();
    let pipeline = format!(
        "name: crm\nsources:\n  accounts: {{ path: Accounts.csv, {accounts_mapping} }}\n  training: {{ path: completions.csv }}\n\
         cohort: {{ window_days: 30 }}\nperiod: {{ as_of: 2026-01-01, months: 2 }}\n\
         metrics: [logo_retention]\noutput: {{ path: out }}\n"
    );
    std::fs::write(dir.path().join("p.yaml"), pipeline).unwrap();
    dir
}

#[test]
fn an_unmapped_churn_date_is_an_error_naming_the_candidates() {
    let dir = crm_fixture("columns: { account_id: Account ID, signup_date: Created Date }");
    bin()
        .arg("validate")
        .arg(dir.path().join("p.yaml"))
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("no churn date column (`churn_date`)")
                .and(predicate::str::contains("retention 1.0, churn 0.0"))
                .and(predicate::str::contains(
                    "columns that look like dates: `Created Date`, `Churn Date`",
                ))
                .and(predicate::str::contains("`churn: none`")),
        );
    // Mapped, it runs; declared absent, it runs too.
    for fix in [
        "columns: { account_id: Account ID, signup_date: Created Date, churn_date: Churn Date }",
        "columns: { account_id: Account ID, signup_date: Created Date }, churn: none",
    ] {
        let dir = crm_fixture(fix);
        bin().args(["-q", "run"]).arg(dir.path().join("p.yaml")).assert().success();
    }
    // `churn: none` belongs to `accounts` only.
    let dir = crm_fixture("columns: { account_id: Account ID, signup_date: Created Date }, churn: none");
    let path = dir.path().join("p.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("training: { path: completions.csv }", "training: { path: completions.csv, churn: none }");
    std::fs::write(&path, text).unwrap();
    bin()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only `accounts` takes `churn: none`"));
}

const MAPPED: &str = "columns: { account_id: Account ID, signup_date: Created Date, churn_date: Churn Date }";

fn with_pipeline(dir: &tempfile::TempDir, from: &str, to: &str) -> std::path::PathBuf {
    let path = dir.path().join("p.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

#[test]
fn a_misspelled_course_is_an_error_listing_the_closest_ids() {
    let dir = crm_fixture(MAPPED);
    std::fs::write(
        dir.path().join("completions.csv"),
        "account_id,course_id,completed_at\n001A,Admin Fundamentals,2025-01-10\n001C,Admin Fundamentals,2025-01-12\n\
         001C,Reporting 101,2025-01-12\n001B,Advanced Workflows,2025-01-12\n",
    )
    .unwrap();
    let path = with_pipeline(
        &dir,
        "cohort: { window_days: 30 }",
        "cohort: { window_days: 30, courses: [Admin Fundamentalz, Reporting 101] }",
    );
    bin()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("`cohort.courses` names 1 course(s) that match no `course_id`")
                .and(predicate::str::contains(
                    "`Admin Fundamentalz`: the ids seen, closest first: `Admin Fundamentals` (2 rows), ",
                ))
                .and(predicate::str::contains("`Reporting 101`:").not()),
        );
    // Spelled as in the export, it runs.
    let path = with_pipeline(&dir, "Admin Fundamentalz", "Admin Fundamentals");
    bin().args(["-q", "run"]).arg(&path).assert().success();
}

#[test]
fn cohorts_without_a_side_stop_the_run_at_as_of_and_warn_at_the_period_start() {
    // Training keyed by another system's ids (let through as orphans):
    // nobody is trained at as_of, nothing to compare.
    let dir = crm_fixture(MAPPED);
    std::fs::write(
        dir.path().join("completions.csv"),
        "account_id,course_id,completed_at\n360001,Admin Fundamentals,2025-01-10\n360002,Admin Fundamentals,2025-01-12\n",
    )
    .unwrap();
    let path = with_pipeline(&dir, "output:", "quality: { max_orphan_share: 1 }\noutput:");
    bin()
        .arg("run")
        .arg(&path)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("no assigned account is trained (0 trained, 4 untrained, 0 not assigned)")
                .and(predicate::str::contains("nothing to compare")),
        );
    assert!(!dir.path().join("out").exists(), "nothing published");

    // A young programme: only an account that signed up in the period is
    // trained. At as_of both sides exist (exit 0); at the period start
    // nobody trained is assigned: a warning naming the period metrics.
    let dir = crm_fixture(MAPPED);
    let accounts = std::fs::read_to_string(dir.path().join("Accounts.csv")).unwrap();
    std::fs::write(
        dir.path().join("Accounts.csv"),
        format!("{accounts}001E,Hooli,2025-11-20,,Growth\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("completions.csv"),
        "account_id,course_id,completed_at\n001E,Admin Fundamentals,2025-11-25\n",
    )
    .unwrap();
    let path = dir.path().join("p.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("metrics: [logo_retention]", "metrics: [logo_retention, retention_curve]");
    std::fs::write(&path, text).unwrap();
    let run = bin().arg("run").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "cohorts at the start of the period (R = 2025-11-01): no assigned account is trained \
             (0 trained, 4 untrained, 1 not assigned): the period metrics `logo_retention` have no \
             trained-vs-untrained comparison"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("at as_of 2026-01-01: 1 trained, 4 untrained, 0 not assigned"), "{stderr}");

    // No training source at all: valid, with one warning.
    let dir = crm_fixture(MAPPED);
    let path = with_pipeline(&dir, "  training: { path: completions.csv }\n", "");
    let run = bin().arg("run").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("no `training` source: no trained-vs-untrained comparison is made").count(),
        1,
        "{stderr}"
    );
}
