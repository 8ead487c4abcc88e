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
