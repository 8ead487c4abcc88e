//! Plausible mistakes with real exports fail or warn, and name the fix
//! (issue: from real exports to a trustworthy first result). Each fixture is
//! shaped like a vendor's export.

mod common;

use common::vendors::*;
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
        "name: crm\nsources:\n  accounts: {{ path: Accounts.csv, {accounts_mapping} }}\n  training: {{ path: completions.csv, freshness: {{}} }}\n\
         cohort: {{ window_days: 30 }}\nperiod: {{ as_of: 2026-01-01, months: 2 }}\n\
         metrics: [logo_retention]\noutput: {{ path: out }}\n"
    );
    std::fs::write(dir.path().join("p.yaml"), pipeline).unwrap();
    dir
}

#[test]
fn an_unmapped_churn_date_is_an_error_naming_the_candidates() {
    let dir = crm_fixture("columns: { account_id: Account ID, signup_date: Created Date }");
    validate_exits(dir.path().join("p.yaml"), 3).stderr(
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
        bin()
            .args(["-q", "run"])
            .arg(dir.path().join("p.yaml"))
            .assert()
            .success();
    }
    // `churn: none` belongs to `accounts` only.
    let dir =
        crm_fixture("columns: { account_id: Account ID, signup_date: Created Date }, churn: none");
    let path = with_pipeline(
        &dir,
        "training: { path: completions.csv, freshness: {} }",
        "training: { path: completions.csv, freshness: {}, churn: none }",
    );
    validate_exits(&path, 2).stderr(predicate::str::contains(
        "only `accounts` takes `churn: none`",
    ));
}

const MAPPED: &str =
    "columns: { account_id: Account ID, signup_date: Created Date, churn_date: Churn Date }";

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
    validate_exits(&path, 3)
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
    bin().arg("run").arg(&path).assert().code(3).stderr(
        predicate::str::contains(
            "no assigned account is trained (0 trained, 4 untrained, 0 not assigned)",
        )
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
    let path = with_pipeline(
        &dir,
        "metrics: [logo_retention]",
        "metrics: [logo_retention, retention_curve]",
    );
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
    assert!(
        stderr.contains("at as_of 2026-01-01: 1 trained, 4 untrained, 0 not assigned"),
        "{stderr}"
    );

    // No training source at all: valid, with one warning.
    let dir = crm_fixture(MAPPED);
    let path = with_pipeline(
        &dir,
        "  training: { path: completions.csv, freshness: {} }\n",
        "",
    );
    let run = bin().arg("run").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_eq!(
        stderr
            .matches("no `training` source: no trained-vs-untrained comparison is made")
            .count(),
        1,
        "{stderr}"
    );
}

#[test]
fn invoices_given_as_monthly_revenue_warn_and_point_to_the_invoice_grain() {
    // Stripe-style invoices: dated when issued, an annual plan billed once.
    let dir = crm_fixture(MAPPED);
    std::fs::write(
        dir.path().join("invoices.csv"),
        "customer,created,amount\n\
         001A,2025-09-08,100\n001A,2025-10-08,100\n001A,2025-11-08,100\n001A,2025-12-08,100\n\
         001B,2025-09-14,50\n001B,2025-10-14,600\n001C,2025-10-20,80\n001C,2025-11-20,80\n001C,2025-11-25,20\n",
    )
    .unwrap();
    with_pipeline(
        &dir,
        "  training: { path: completions.csv, freshness: {} }\n",
        "  training: { path: completions.csv, freshness: {} }\n  revenue: { path: invoices.csv, columns: { account_id: customer, month: created, mrr: amount } }\n",
    );
    let path = with_pipeline(
        &dir,
        "metrics: [logo_retention]",
        "metrics: [logo_retention, net_revenue_retention]",
    );
    let run = bin().arg("validate").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "a warning, not an error: {stderr}");
    for part in [
        "source `revenue` does not look like one row per account and month: 100 % of its rows are not dated on the 1st",
        "1 (account, month) pair(s) have several rows",
        "the largest month-over-month rise is ×12.0 (account `001B`, 2025-10-01: 600.00 after 50.00)",
        "declare `grain: invoice` on `sources.revenue`",
    ] {
        assert!(stderr.contains(part), "missing `{part}` in:\n{stderr}");
    }
    // Month-grain revenue: no warning.
    std::fs::write(
        dir.path().join("invoices.csv"),
        "customer,created,amount\n001A,2025-09-01,100\n001A,2025-10-01,100\n001B,2025-10-01,50\n",
    )
    .unwrap();
    let run = bin().arg("validate").arg(&path).output().unwrap();
    assert!(!String::from_utf8_lossy(&run.stderr).contains("does not look like"));
}

/// The CRM fixture with `users` (as `users`) and events of `usr_1`,
/// `usr_2` and `usr_3` of three accounts: the directory and the pipeline.
fn with_users_and_events(users: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = crm_fixture(MAPPED);
    std::fs::write(dir.path().join("users.csv"), users).unwrap();
    std::fs::write(
        dir.path().join("events.csv"),
        "account_id,user_id,event_time,event_name\n001A,usr_1,2025-11-03T10:00:00Z,login\n\
         001B,usr_2,2025-11-04T10:00:00Z,login\n001C,usr_3,2025-11-05T10:00:00Z,report\n",
    )
    .unwrap();
    let path = with_pipeline(
        &dir,
        "  training: { path: completions.csv, freshness: {} }\n",
        "  training: { path: completions.csv, freshness: {} }\n  users: { path: users.csv }\n  events: { path: events.csv, freshness: {} }\n",
    );
    (dir, path)
}

#[test]
fn users_keyed_by_email_against_events_keyed_by_id_stop_the_run() {
    // Segment-style: identifies keyed by email, tracks keyed by `usr_…`.
    let (dir, path) = with_users_and_events(
        "user_id,account_id\nana@acme.com,001A\nbo@globex.com,001B\ncy@initech.com,001C\n",
    );
    validate_exits(&path, 3)
        .stderr(
            predicate::str::contains(
                "source `events`: 0 % of its 3 rows with a user id have a user of `users`, below quality.min_user_overlap 50 %",
            )
            .and(predicate::str::contains("e.g. in `events`: `usr_1`, `usr_2`, `usr_3`; in `users`: `ana@acme.com`"))
            .and(predicate::str::contains("map the same id in `columns` of both")),
        );
    // The same ids on both sides: valid.
    std::fs::write(
        dir.path().join("users.csv"),
        "user_id,account_id,email\nusr_1,001A,ana@acme.com\nusr_2,001B,bo@globex.com\nusr_3,001C,cy@initech.com\n",
    )
    .unwrap();
    bin().arg("validate").arg(&path).assert().success();
}

#[test]
fn a_user_id_twice_in_users_breaks_its_rule_whether_or_not_its_ids_are_read_first() {
    // `usr_1` twice (once under an account `accounts` lacks) and `usr_2`
    // twice: 4 rows in copies. With events keyed by user the ids of `users`
    // are read before the rules and the rule is counted over them; without,
    // the rule reads `users` itself: the same count either way.
    let (dir, path) = with_users_and_events(
        "user_id,account_id\nusr_1,001A\nusr_2,001B\nusr_3,001C\nusr_1,009Z\nusr_2,001B\n",
    );
    let with_events =
        "  users: { path: users.csv }\n  events: { path: events.csv, freshness: {} }\n";
    let with_users = "  users: { path: users.csv }\n";
    let stops = || {
        validate_exits(&path, 3).stderr(
            predicate::str::contains("source `users`")
                .and(predicate::str::contains(
                    "column `user_id`: must be unique — 4 row(s)",
                ))
                .and(predicate::str::contains("user_id=usr_1, account_id=009Z")),
        );
    };
    stops();
    with_pipeline(&dir, with_events, with_users);
    stops();
    // One copy left out: valid.
    std::fs::write(
        dir.path().join("users.csv"),
        "user_id,account_id\nusr_1,001A\nusr_2,001B\nusr_3,001C\n",
    )
    .unwrap();
    bin().arg("validate").arg(&path).assert().success();
    with_pipeline(&dir, with_users, with_events);
    bin().arg("validate").arg(&path).assert().success();
}

#[test]
fn vendor_shapes_epoch_seconds_us_dates_and_cents_read_like_iso_and_currency() {
    // The same accounts and revenue twice: as ISO dates and currency, and
    // as a vendor writes them (US dates, epoch seconds, cents).
    let iso = crm_fixture(MAPPED);
    std::fs::write(
        iso.path().join("mrr.csv"),
        "account_id,month,mrr\n001A,2025-10-01,100.5\n001A,2025-11-01,120\n001B,2025-10-01,50\n001C,2025-12-01,80\n",
    )
    .unwrap();
    let metrics = "metrics: [logo_retention, net_revenue_retention, churn_rate]";
    with_pipeline(
        &iso,
        "  training: { path: completions.csv, freshness: {} }\n",
        "  training: { path: completions.csv, freshness: {} }\n  revenue: { path: mrr.csv }\n",
    );
    with_pipeline(&iso, "metrics: [logo_retention]", metrics);

    let vendor = crm_fixture(
        "columns: { account_id: Account ID, signup_date: Created Date, churn_date: Churn Date }, \
         types: { signup_date: \"%m/%d/%Y\", churn_date: \"%m/%d/%Y\" }",
    );
    std::fs::write(
        vendor.path().join("Accounts.csv"),
        "Account ID,Account Name,Created Date,Churn Date,Plan Tier\n\
         001A,Acme,1/1/2025,,Growth\n001B,Globex,1/1/2025,12/1/2025,Starter\n\
         001C,Initech,1/1/2025,,Starter\n001D,Umbrella,1/1/2025,11/15/2025,Growth\n",
    )
    .unwrap();
    // 2025-10-01 = 1759276800, 2025-11-01 = 1761955200, 2025-12-01 = 1764547200 (UTC);
    // 1764547199 is 2025-11-30T23:59:59Z.
    std::fs::write(
        vendor.path().join("mrr.csv"),
        "customer,period,amount_cents\n001A,1759276800,10050\n001A,1761955200,12000\n001B,1759276800,5000\n001C,1764547200,8000\n",
    )
    .unwrap();
    with_pipeline(
        &vendor,
        "  training: { path: completions.csv, freshness: {} }\n",
        "  training: { path: completions.csv, freshness: {} }\n  revenue: { path: mrr.csv, columns: { account_id: customer, month: period, mrr: amount_cents }, \
         types: { month: epoch_s }, scale: { mrr: 0.01 } }\n",
    );
    with_pipeline(&vendor, "metrics: [logo_retention]", metrics);

    for dir in [&iso, &vendor] {
        bin()
            .args(["-q", "run"])
            .arg(dir.path().join("p.yaml"))
            .assert()
            .success();
    }
    let partition = |dir: &tempfile::TempDir| dir.path().join("out/as_of=2026-01-01");
    for table in ["metrics", "lift", "revenue_movements", "account_cohorts"] {
        assert_eq!(
            contents(&partition(&iso), table),
            contents(&partition(&vendor), table),
            "{table}"
        );
    }

    // A value that does not fit its declared type is a data error naming it.
    std::fs::write(
        vendor.path().join("mrr.csv"),
        "customer,period,amount_cents\n001A,2025-10-01,10050\n",
    )
    .unwrap();
    validate_exits(vendor.path().join("p.yaml"), 3).stderr(predicate::str::contains(
        "column `month`: is a number of seconds since 1970-01-01 (epoch_s)",
    ));
    // `types` on a column that is not a date, `scale` on one that is not a number: exit 2.
    for (from, to, message) in [
        (
            "types: { month: epoch_s }",
            "types: { mrr: epoch_s }",
            "`types` applies to the date columns of `revenue` (`month`)",
        ),
        (
            "scale: { mrr: 0.01 }",
            "scale: { month: 0.01 }",
            "`scale` applies to the number columns of `revenue`: `mrr`",
        ),
        (
            "types: { month: epoch_s }",
            "types: { month: mm/dd }",
            "is not `epoch_s`, `epoch_ms` or a strftime format",
        ),
    ] {
        let path = with_pipeline(&vendor, from, to);
        validate_exits(&path, 2).stderr(predicate::str::contains(message));
        with_pipeline(&vendor, to, from);
    }
}

#[test]
fn lms_rows_keyed_by_email_take_their_account_from_users() {
    // The same completions twice: with account ids, and as an LMS exports
    // them (learner email, no account), with the users export beside.
    let users = "user_id,account_id\nana@acme.com,001A\ncy@initech.com,001C\nbo@globex.com,001B\n";
    let by_account = crm_fixture(MAPPED);
    std::fs::write(by_account.path().join("users.csv"), users).unwrap();
    std::fs::write(
        by_account.path().join("completions.csv"),
        "account_id,user_id,course_id,completed_at\n001A,ana@acme.com,Admin Fundamentals,2025-01-10\n\
         001C,cy@initech.com,Admin Fundamentals,2025-01-12\n",
    )
    .unwrap();
    with_pipeline(
        &by_account,
        "  training: { path: completions.csv, freshness: {} }\n",
        "  training: { path: completions.csv, freshness: {} }\n  users: { path: users.csv }\n",
    );
    let by_email = crm_fixture(MAPPED);
    std::fs::write(by_email.path().join("users.csv"), users).unwrap();
    // Skilljar-style; one learner unknown to `users` (dropped and counted).
    let mut lms = String::from("Student Email,Course Title,Completed At\n");
    for _ in 0..5 {
        lms.push_str("ana@acme.com,Admin Fundamentals,2025-01-10\ncy@initech.com,Admin Fundamentals,2025-01-12\n");
    }
    lms.push_str("dee@unknown.io,Admin Fundamentals,2025-01-12\n");
    std::fs::write(by_email.path().join("lms.csv"), lms).unwrap();
    with_pipeline(
        &by_email,
        "  training: { path: completions.csv, freshness: {} }\n",
        "  training: { path: lms.csv, freshness: {}, columns: { user_id: Student Email, course_id: Course Title, completed_at: Completed At } }\n  users: { path: users.csv }\n",
    );
    bin()
        .args(["-q", "run"])
        .arg(by_account.path().join("p.yaml"))
        .assert()
        .success();
    let stderr = stderr_of_success(bin().arg("run").arg(by_email.path().join("p.yaml")));
    assert!(
        // The unknown user is shown, not its (empty) account id.
        stderr.contains("source `training`: dropped 1 of 11 row(s) without a known account (1 whose user is not in `users` \
             (or has no account in `accounts`)); e.g. user ids `dee@unknown.io`; `users` has e.g. `ana@acme.com`"),
        "{stderr}"
    );
    let partition = |dir: &tempfile::TempDir| dir.path().join("out/as_of=2026-01-01");
    for table in ["metrics", "lift", "account_cohorts"] {
        assert_eq!(
            contents(&partition(&by_account), table),
            contents(&partition(&by_email), table),
            "{table}"
        );
    }
    // Without a `users` source the account cannot be found: exit 2 naming the fix.
    let path = with_pipeline(&by_email, "  users: { path: users.csv }\n", "");
    validate_exits(&path, 2)
        .stderr(predicate::str::contains(
            "source `training` has no `account_id` column; with its `user_id` it could take the account from `users`",
        ));
}

#[test]
fn validate_ends_with_a_coverage_summary() {
    let dir = crm_fixture(MAPPED);
    std::fs::write(
        dir.path().join("completions.csv"),
        "account_id,course_id,completed_at\n001A,Admin Fundamentals,2025-01-10\n001C,Admin Fundamentals,2025-01-12\n\
         001X,Admin Fundamentals,2025-03-01\n001A,Reporting 101,2025-02-01\n",
    )
    .unwrap();
    with_pipeline(
        &dir,
        "output:",
        "quality: { max_orphan_share: 0.5 }\noutput:",
    );
    let path = with_pipeline(
        &dir,
        "cohort: { window_days: 30 }",
        "cohort: { window_days: 30, courses: [Admin Fundamentals] }",
    );
    let output = bin().args(["-q", "validate"]).arg(&path).output().unwrap();
    assert_success(&output);
    let summary = String::from_utf8_lossy(&output.stdout);
    for line in [
        "coverage:",
        "accounts           4 rows  signup_date 2025-01-01 … 2025-01-01 (365 days before as_of: stale (warn after 90 days))",
        // `freshness: {}` on training: its age is shown, not judged.
        "training           4 rows  completed_at 2025-01-10 … 2025-03-01 (306 days before as_of); dropped 1 (25.0 %): 1 whose account_id is not in `accounts`",
        "cohorts at the period start 2025-11-01: 2 trained, 2 untrained, 0 not assigned",
        "cohorts at as_of 2026-01-01: 2 trained, 2 untrained, 0 not assigned",
        // Rows of known accounts: the orphan row of `001X` is not counted.
        "courses matched: `Admin Fundamentals` (2 rows)",
    ] {
        assert!(summary.contains(line), "missing `{line}` in:\n{summary}");
    }
}

/// The CRM fixture with `revenue` given as `file` (with `source` as its
/// pipeline entry) and revenue metrics.
fn with_revenue(file: &str, text: &str, source: &str) -> tempfile::TempDir {
    let dir = crm_fixture(MAPPED);
    std::fs::write(dir.path().join(file), text).unwrap();
    with_pipeline(
        &dir,
        "  training: { path: completions.csv, freshness: {} }\n",
        &format!("  training: {{ path: completions.csv, freshness: {{}} }}\n  revenue: {source}\n"),
    );
    with_pipeline(
        &dir,
        "metrics: [logo_retention]",
        "metrics: [logo_retention, net_revenue_retention, gross_revenue_retention, expansion_revenue_rate, revenue_movements]",
    );
    dir
}

#[test]
fn invoices_give_the_revenue_tables_of_the_same_data_as_monthly_mrr() {
    // 001A: monthly invoices. 001B: an annual plan from mid-September
    // (12 months of 100, Sep 2025 … Aug 2026). 001C: monthly, with a
    // partial refund in November (80 − 30). 001D: a one-off charge whose
    // period starts and ends on 20 Oct (zero length: counts in October).
    let invoices = with_revenue(
        "invoices.csv",
        "customer,period_start,period_end,amount_paid,currency\n\
         001A,2025-09-01,2025-10-01,100,usd\n001A,2025-10-01,2025-11-01,100,usd\n\
         001A,2025-11-01,2025-12-01,120,usd\n001A,2025-12-01,2026-01-01,120,usd\n\
         001B,2025-09-15,2026-09-15,1200,usd\n\
         001C,2025-10-01,2025-11-01,80,usd\n001C,2025-11-01,2025-12-01,80,usd\n001C,2025-11-10,2025-11-10,-30,usd\n\
         001D,2025-10-20,2025-10-20,40,usd\n",
        "{ path: invoices.csv, grain: invoice, columns: { account_id: customer, amount: amount_paid } }",
    );
    let mut monthly = String::from("account_id,month,mrr\n");
    for (id, month, mrr) in [
        ("001A", "2025-09-01", 100),
        ("001A", "2025-10-01", 100),
        ("001A", "2025-11-01", 120),
        ("001A", "2025-12-01", 120),
        ("001C", "2025-10-01", 80),
        ("001C", "2025-11-01", 50),
        ("001D", "2025-10-01", 40),
    ] {
        monthly.push_str(&format!("{id},{month},{mrr}\n"));
    }
    for m in [
        "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04",
        "2026-05", "2026-06", "2026-07", "2026-08",
    ] {
        monthly.push_str(&format!("001B,{m}-01,100\n"));
    }
    let months = with_revenue("mrr.csv", &monthly, "{ path: mrr.csv }");
    for dir in [&invoices, &months] {
        let run = bin()
            .arg("run")
            .arg(dir.path().join("p.yaml"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stderr}");
        assert!(
            !stderr.contains("does not look like one row per account and month"),
            "{stderr}"
        );
    }
    let partition = |dir: &tempfile::TempDir| dir.path().join("out/as_of=2026-01-01");
    for table in ["metrics", "lift", "revenue_movements"] {
        assert_eq!(
            contents(&partition(&invoices), table),
            contents(&partition(&months), table),
            "{table}"
        );
    }
    assert!(read_table(&partition(&months), "revenue_movements").height() > 0);

    // Refunds beyond the month's charges: an error naming account and month.
    std::fs::write(
        invoices.path().join("invoices.csv"),
        "customer,period_start,period_end,amount_paid,currency\n001A,2025-10-01,2025-11-01,100,usd\n001A,2025-10-05,2025-10-05,-150,usd\n",
    )
    .unwrap();
    validate_exits(invoices.path().join("p.yaml"), 3).stderr(
        predicate::str::contains("1 account-month(s) sum to a negative amount").and(
            predicate::str::contains("account `001A`, 2025-10-01: -50.00"),
        ),
    );
    // Two currencies: an error naming them.
    std::fs::write(
        invoices.path().join("invoices.csv"),
        "customer,period_start,period_end,amount_paid,currency\n001A,2025-10-01,2025-11-01,100,usd\n001B,2025-10-01,2025-11-01,90,eur\n",
    )
    .unwrap();
    validate_exits(invoices.path().join("p.yaml"), 3).stderr(predicate::str::contains(
        "column `currency` holds 2 currencies (`eur`, `usd`)",
    ));
    // An end before the start breaks a rule.
    std::fs::write(
        invoices.path().join("invoices.csv"),
        "customer,period_start,period_end,amount_paid,currency\n001A,2025-10-01,2025-09-01,100,usd\n",
    )
    .unwrap();
    validate_exits(invoices.path().join("p.yaml"), 3).stderr(predicate::str::contains(
        "column `period_end`: must be on or after period_start",
    ));
}

#[test]
fn zendesk_organization_ids_as_account_ids_stop_the_run_and_name_the_mismatch() {
    // Zendesk's own organization ids in place of the CRM's account ids:
    // every ticket would be dropped and support_incident_rate read 0.
    let dir = crm_fixture(MAPPED);
    std::fs::write(
        dir.path().join("zendesk_tickets.csv"),
        "id,organization_id,created_at,subject\n1,360001234,2025-11-03T10:00:00Z,Login\n\
         2,360001235,2025-11-04T11:00:00Z,Export\n3,360001234,2025-12-01T09:30:00Z,Billing\n",
    )
    .unwrap();
    with_pipeline(
        &dir,
        "  training: { path: completions.csv, freshness: {} }\n",
        "  training: { path: completions.csv, freshness: {} }\n  tickets: { path: zendesk_tickets.csv, columns: { account_id: organization_id } }\n",
    );
    let path = with_pipeline(
        &dir,
        "metrics: [logo_retention]",
        "metrics: [logo_retention, support_incident_rate]",
    );
    bin()
        .arg("run")
        .arg(&path)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("source `tickets`")
                .and(predicate::str::contains(
                    "must be an account_id of `accounts` (100.0 % of its rows, above quality.max_orphan_share 20.0 %: ids from another system? \
                     `accounts` has e.g. `001A`, `001B`, `001C`, `001D`)",
                ))
                .and(predicate::str::contains("account_id=360001234")),
        );
    assert!(!dir.path().join("out").exists(), "nothing published");
}

#[test]
fn a_five_point_survey_mapped_as_nps_stops_the_run_naming_the_mix_up() {
    // The sample's NPS answers squeezed onto 1–5, as a CSAT survey would be: read as NPS, every
    // response would be a detractor and every cohort's NPS −100.
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let csv = std::fs::read_to_string(data.join("nps_responses.csv")).unwrap();
    let mut lines = csv.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for line in lines {
        let (rest, score) = line.rsplit_once(',').unwrap();
        let five = (score.parse::<u32>().unwrap() / 2).clamp(1, 5);
        out.push_str(&format!("{rest},{five}\n"));
    }
    std::fs::write(data.join("nps_responses.csv"), out).unwrap();
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", data.to_str().unwrap())
        .replace("../out/education_impact", "out");
    let pipeline = dir.path().join("p.yaml");
    std::fs::write(&pipeline, text).unwrap();
    validate_exits(&pipeline, 3).stderr(
        predicate::str::contains("`nps_responses` (")
            .and(predicate::str::contains(
                "nps_responses.csv): none of its 2024 scores",
            ))
            .and(predicate::str::contains("scores is above 5"))
            .and(predicate::str::contains("5 (")),
    );
    bin()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "map the survey as `csat_responses`",
        ));
    assert!(!dir.path().join("out").join("as_of=2026-11-01").exists());
    // The sample itself (0–10) passes: the full test suite runs it everywhere.
}

#[test]
fn a_ten_point_survey_mapped_as_csat_stops_the_run_naming_the_mix_up() {
    // The sample's 0–10 NPS answers mapped as the 1–5 CSAT survey: 1,536 of its 2,024 scores are 0
    // or above 5 (pandas).
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", data.to_str().unwrap())
        .replace("../out/education_impact", "out")
        .replace("/csat_responses.csv", "/nps_responses.csv");
    let pipeline = dir.path().join("p.yaml");
    std::fs::write(&pipeline, text).unwrap();
    bin().arg("run").arg(&pipeline).assert().code(3).stderr(
        predicate::str::contains("source `csat_responses` (")
            .and(predicate::str::contains("nps_responses.csv), column `score`: must be an integer from 1 to 5"))
            .and(predicate::str::contains(
                "is what a 0–10 NPS question mapped as `csat_responses` gives: map that survey as `nps_responses`",
            ))
            .and(predicate::str::contains("— 1536 row(s) break it")),
    );
    assert!(!dir.path().join("out").join("as_of=2026-11-01").exists());
}

#[test]
fn a_run_past_the_data_stops_naming_each_stale_source_and_its_key() {
    // Issue table: `--as-of` six months after every export ends published NRR 0.43 with exit 0.
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_pipeline_with(dir.path(), "");
    let stale = bin()
        .args(["run", "--as-of", "2027-05-01"])
        .arg(&pipeline)
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&stale.get_output().stderr).to_string();
    for words in [
        "4 source(s) end too long before as_of 2027-05-01",
        "source `events` (",
        "its last `event_time` is 2026-10-31, 182 days before as_of 2027-05-01 (`sources.events.freshness.error_after_days`: 7 by default)",
        "source `revenue` (",
        "its last month is 2026-10, but a run at as_of 2027-05-01 needs 2027-04",
        "its last `created_at` is 2026-10-31, 182 days before as_of 2027-05-01 (`sources.tickets.freshness.error_after_days`: 30 by default)",
        // Completions dated up to 2027-01-26 in the sample: 95 days.
        "its last `completed_at` is 2027-01-26, 95 days before as_of 2027-05-01 (`sources.training.freshness.error_after_days`: 90 by default)",
        "pass an earlier `--as-of`",
    ] {
        assert!(stderr.contains(words), "missing `{words}` in:\n{stderr}");
    }
    assert!(!dir.path().join("out").exists(), "nothing is published");

    // Five days past the data: events are stale past their warning, not their error; the run
    // publishes and the warning is in the manifest.
    let run = bin()
        .args(["run", "--as-of", "2026-11-05"])
        .arg(&pipeline)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    let warning = "its last `event_time` is 2026-10-31, 5 days before as_of 2026-11-05 (`sources.events.freshness.warn_after_days`: 2 by default)";
    assert!(stderr.contains(warning), "{stderr}");
    let manifest =
        std::fs::read_to_string(dir.path().join("out/as_of=2026-11-05/_manifest.json")).unwrap();
    assert!(manifest.contains(warning), "{manifest}");

    // The limits are the pipeline's to set: allowed, the same run is quiet about events.
    let relaxed = bin()
        .args([
            "run",
            "--as-of",
            "2026-11-05",
            "--set",
            "sources.events.freshness.warn_after_days=5",
        ])
        .arg(&pipeline)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&relaxed.get_output().stderr).to_string();
    assert!(!stderr.contains("event_time` is 2026-10-31"), "{stderr}");

    // validate shows each source's age.
    let output = bin()
        .args(["-q", "validate", "--as-of", "2026-11-05"])
        .arg(&pipeline)
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&output.stdout);
    for line in [
        "event_time 2025-11-04 … 2026-10-31 (5 days before as_of: stale (warn after 2 days))",
        "created_at 2022-12-05 … 2026-10-31 (5 days before as_of)",
        "completed_at 2023-01-03 … 2027-01-26 (reaches as_of)",
    ] {
        assert!(summary.contains(line), "missing `{line}` in:\n{summary}");
    }
}

/// The sample's revenue as a CSV with its amounts multiplied by `factor`.
fn sample_revenue_csv(dir: &std::path::Path, factor: f64) -> std::path::PathBuf {
    use polars::prelude::*;
    let revenue = ParquetReader::new(
        std::fs::File::open(repo().join("sample_data/revenue.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let mut scaled = revenue
        .lazy()
        .with_column(
            (col("mrr") * lit(factor))
                .round(0, RoundMode::HalfAwayFromZero)
                .cast(DataType::Int64),
        )
        .collect()
        .unwrap();
    let path = dir.join("revenue_cents.csv");
    CsvWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut scaled)
        .unwrap();
    path
}

#[test]
fn invoice_amounts_in_cents_show_in_the_coverage_summary_and_warn_naming_scale() {
    // Issue table: amounts in cents with `scale` forgotten published a base MRR 100× too large.
    let dir = tempfile::tempdir().unwrap();
    let cents = sample_revenue_csv(dir.path(), 100.0);
    let text =
        std::fs::read_to_string(sample_pipeline_with(dir.path(), "money: { currency: USD }"))
            .unwrap();
    let pipeline = dir.path().join("p.yaml");
    std::fs::write(
        &pipeline,
        text.replace(
            &format!("{}/revenue.parquet", repo().join("sample_data").display()),
            cents.to_str().unwrap(),
        ),
    )
    .unwrap();
    let output = bin().args(["validate"]).arg(&pipeline).output().unwrap();
    assert_success(&output);
    // The sample's October 2026: 1,519,012.67 over 1,465 accounts, median 335.17 (python:
    // revenue.parquet, month cut to the 1st, summed per account, MRR > 0).
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains("revenue: MRR in 2026-10: 151,901,267.00 USD over 1465 account(s), median 33,517.00 per account"),
        "{summary}"
    );
    // A plausible maximum below it: a warning naming `scale`.
    let output = bin()
        .args(["validate", "--set", "quality.max_plausible_mrr=10000"])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "source `revenue`: the median MRR per account in 2026-10 is 33,517.00, above quality.max_plausible_mrr \
             10,000.00: amounts in cents need `scale: { mrr: 0.01 }` on `sources.revenue`"
        ),
        "{stderr}"
    );
    // With the scale, the summary reads in currency units again and nothing is said.
    let output = bin()
        .args([
            "validate",
            "--set",
            "quality.max_plausible_mrr=10000",
            "--set",
            "sources.revenue.scale.mrr=0.01",
        ])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains(
        "MRR in 2026-10: 1,519,012.67 USD over 1465 account(s), median 335.17 per account"
    ));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("max_plausible_mrr"));
}

/// The sample's training rows as an LMS enrolments export (Docebo's
/// shape): a `Status` on every row (Completed when the sample row has a
/// completion, else Subscribed or In Progress by turns), `Enrollment Date`,
/// `Completion Date` (empty unless completed) and `Date`, the day of the
/// last status change, on every row.
fn enrolments_export(dir: &std::path::Path) -> std::path::PathBuf {
    use polars::prelude::*;
    let training = ParquetReader::new(
        std::fs::File::open(repo().join("sample_data/training.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let iso = |c: &str| col(c).dt().to_string("%Y-%m-%dT%H:%M:%SZ");
    let mut export = training
        .lazy()
        .with_row_index("row", None)
        .select([
            col("account_id").alias("Account ID"),
            col("user_id").alias("User ID"),
            col("course_id").alias("Course Code"),
            col("score").alias("Final Score"),
            iso("enrolled_at").alias("Enrollment Date"),
            iso("completed_at").alias("Completion Date"),
            when(col("completed_at").is_not_null())
                .then(iso("completed_at"))
                .otherwise(iso("enrolled_at"))
                .alias("Date"),
            when(col("completed_at").is_not_null())
                .then(lit("Completed"))
                .when((col("row") % lit(2u32)).eq(lit(0u32)))
                .then(lit("Subscribed"))
                .otherwise(lit("In Progress"))
                .alias("Status"),
        ])
        .collect()
        .unwrap();
    let path = dir.join("enrollments.csv");
    CsvWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut export)
        .unwrap();
    path
}

#[test]
fn enrolments_read_as_completions_warn_and_completed_values_count_only_completions() {
    // Issue table: enrolments with status Subscribed/In Progress mapped as completions published
    // 203 trained instead of 133 and a lift of −21.4 pts instead of −14.9.
    let dir = tempfile::tempdir().unwrap();
    let export = enrolments_export(dir.path());
    let base = std::fs::read_to_string(sample_pipeline_with(dir.path(), "")).unwrap();
    let sample_training = format!(
        "{{ path: {}/training.parquet }}",
        repo().join("sample_data").display()
    );
    let with_training = |training: &str| {
        let path = dir.path().join("lms.yaml");
        std::fs::write(&path, base.replace(&sample_training, training)).unwrap();
        path
    };
    let columns = |completed: &str| {
        format!(
            "{{ path: {}, columns: {{ account_id: Account ID, user_id: User ID, course_id: Course Code, \
             score: Final Score, enrolled_at: Enrollment Date, completed_at: {completed} }}",
            export.display()
        )
    };
    let cohorts = |pipeline: &std::path::Path| {
        let output = bin().args(["validate"]).arg(pipeline).output().unwrap();
        assert_success(&output);
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let line = stdout
            .lines()
            .find(|l| l.contains("cohorts at as_of"))
            .unwrap_or_default()
            .trim()
            .to_string();
        (line, String::from_utf8_lossy(&output.stderr).to_string())
    };
    let sample = "cohorts at as_of 2026-11-01: 552 trained, 1099 untrained, 349 not assigned";

    // The mistake: the date on every row mapped as the completion, the status not named.
    let (line, stderr) = cohorts(&with_training(&format!("{} }}", columns("Date"))));
    assert_ne!(line, sample, "every enrolment counted as a completion");
    for words in [
        "source `training` (",
        "681 row(s) with a `completed_at` have a status that does not read as completed (`Subscribed` (353 rows), `In Progress` (328 rows)), and each counts as a completion",
        "set `completed_values: [Completed]` on `sources.training`",
    ] {
        assert!(stderr.contains(words), "missing `{words}` in:\n{stderr}");
    }

    // The fix the warning names: the same mapping, only completed rows count: the sample's cohorts.
    let (line, stderr) = cohorts(&with_training(&format!(
        "{}, completed_values: [completed] }}",
        columns("Date")
    )));
    assert_eq!(line, sample);
    assert!(!stderr.contains("does not read as completed"), "{stderr}");

    // The completion date mapped as it should be, without a status: the sample's cohorts too.
    let (line, _) = cohorts(&with_training(&format!(
        "{} }}",
        columns("Completion Date")
    )));
    assert_eq!(line, sample);

    // Enrolment and completion read from one column: a warning naming both.
    let (_, stderr) = cohorts(&with_training(&format!(
        "{{ path: {}, columns: {{ account_id: Account ID, user_id: User ID, course_id: Course Code, \
         score: Final Score, enrolled_at: Enrollment Date, completed_at: Enrollment Date }} }}",
        export.display()
    )));
    assert!(
        stderr.contains("`completed_at` equals `enrolled_at` on every one of its 2404 rows with both: an enrolments export read as completions?"),
        "{stderr}"
    );

    // `completed_values` without a status column names the file's columns.
    let csv = std::fs::read_to_string(&export)
        .unwrap()
        .replace("Status", "Stage");
    std::fs::write(&export, csv).unwrap();
    let pipeline = with_training(&format!(
        "{}, completed_values: [Completed] }}",
        columns("Date")
    ));
    validate_exits(&pipeline, 2).stderr(
        predicate::str::contains("`sources.training.completed_values` needs a `status` column")
            .and(predicate::str::contains("Stage")),
    );
}

#[test]
fn companies_duplicated_under_two_ids_warn_then_stop_the_run_above_the_share() {
    // Issue table: 20 companies duplicated under two ids after a CRM merge published a lift of
    // −11.1 pts, p 0.07 (−14.9, p 0.02).
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", data.to_str().unwrap())
        .replace("../out/education_impact", "out")
        .replace(
            "accounts:       { path: ",
            "accounts:       { columns: { name: Company Name }, path: ",
        );
    let pipeline = dir.path().join("p.yaml");
    std::fs::write(&pipeline, text).unwrap();

    // 20 duplicates: 40 of 2,020 named accounts (1.98 %), below the 2 % default: a warning.
    accounts_with_names(&data, 20);
    let output = bin().arg("validate").arg(&pipeline).output().unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for words in [
        "source `accounts` (",
        "20 company name(s) belong to several account ids (40 accounts, 2.0 % of the 2020 with a `name`; quality.max_duplicate_name_share 2.0 %)",
        // Account 1 has 32 rows in the fact sources other than events (pandas over the sample files).
        "`1` \"Company 1 Inc\" (32 fact row(s)) = `90001` \"COMPANY 1, inc.\" (0 fact row(s))",
        "; and 10 more. A CRM merge that kept both ids",
    ] {
        assert!(stderr.contains(words), "missing `{words}` in:\n{stderr}");
    }

    // 25 duplicates: 50 of 2,025 (2.5 %): exit 3, nothing published.
    copy_sample_accounts(&data);
    accounts_with_names(&data, 25);
    bin().arg("run").arg(&pipeline).assert().code(3).stderr(
        predicate::str::contains(
            "25 company name(s) belong to several account ids (50 accounts, 2.5 %",
        )
        .and(predicate::str::contains(
            "merge the duplicates in the export",
        )),
    );
    assert!(!dir.path().join("out").exists());

    // Distinct names: nothing is said.
    copy_sample_accounts(&data);
    accounts_with_names(&data, 0);
    let output = bin().arg("validate").arg(&pipeline).output().unwrap();
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stderr).contains("company name(s)"));
}

/// Puts the sample's `accounts.csv` back into a copy of `sample_data/`.
fn copy_sample_accounts(data: &std::path::Path) {
    std::fs::copy(
        repo().join("sample_data/accounts.csv"),
        data.join("accounts.csv"),
    )
    .unwrap();
}

#[test]
fn tickets_keyed_by_company_name_match_the_accounts_and_name_the_ones_that_do_not() {
    // Issue table: tickets joined to accounts on the company name with an inner join published
    // 2.93 tickets per customer instead of 4.07.
    let dir = tempfile::tempdir().unwrap();
    let data = copy_sample_data(dir.path());
    accounts_with_names(&data, 0);
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", data.to_str().unwrap())
        .replace(
            "accounts:       { path: ",
            "accounts:       { columns: { name: Company Name }, path: ",
        );
    let by_id = dir.path().join("by_id.yaml");
    std::fs::write(&by_id, text.replace("../out/education_impact", "by_id")).unwrap();
    let by_name = dir.path().join("by_name.yaml");
    std::fs::write(
        &by_name,
        text.replace("../out/education_impact", "by_name").replace(
            &format!("tickets:        {{ path: {}/tickets.parquet }}", data.display()),
            &format!(
                "tickets:        {{ path: {}/freshdesk_tickets.csv, columns: {{ account_name: Company Name, created_at: Created time, product_area: Product }} }}",
                data.display()
            ),
        ),
    )
    .unwrap();
    assert_ne!(
        std::fs::read_to_string(&by_name).unwrap(),
        text.replace("../out/education_impact", "by_name")
    );

    // Every name written another way still finds its account: the tables are those of the run keyed by id.
    tickets_by_company_name(&data, 0);
    for pipeline in [&by_id, &by_name] {
        let run = bin().arg("run").arg(pipeline).assert().success();
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
        assert!(!stderr.contains("source `tickets`: dropped"), "{stderr}");
    }
    for table in ["metrics", "lift"] {
        assert_eq!(
            contents(&dir.path().join("by_id/as_of=2026-11-01"), table),
            contents(&dir.path().join("by_name/as_of=2026-11-01"), table),
            "{table}"
        );
    }

    // Names that match no account: dropped with the orphan rule, each named with the closest names.
    tickets_by_company_name(&data, 50);
    let run = bin().arg("validate").arg(&by_name).assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    for words in [
        // 213 of the sample's 12,557 tickets belong to accounts whose id is a multiple of 50 (pandas).
        "source `tickets`: dropped 213 of 12557 row(s) without a known account (213 whose `account_name` matches no company `name` of `accounts` (or one several accounts share)); names that match nothing: ",
        "`Company 100 Systems` (closest: `Company 100 Inc`, ",
        "Spell them as `accounts` does, or key the source by `account_id`",
    ] {
        assert!(stderr.contains(words), "missing `{words}` in:\n{stderr}");
    }

    // Above quality.max_orphan_share: exit 3 with the names.
    tickets_by_company_name(&data, 3);
    validate_exits(&by_name, 3).stderr(
        predicate::str::contains("`account_name` values that match no company `name` of `accounts`: `Company 1002 Systems` (closest: `Company 1002 Inc`"),
    );

    // `account_name` without names on `accounts`: a configuration error.
    let text = std::fs::read_to_string(&by_name)
        .unwrap()
        .replace("columns: { name: Company Name }, ", "");
    std::fs::write(&by_name, text).unwrap();
    validate_exits(&by_name, 2).stderr(predicate::str::contains(
        "source `tickets` has no `account_id` column and names the company in `account_name`, but `accounts` has no `name`",
    ));
}

#[test]
fn each_night_is_compared_with_the_last_and_a_source_that_lost_rows_is_named() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let manifest = |as_of: &str| -> serde_json::Value {
        let text =
            std::fs::read_to_string(out.join(format!("as_of={as_of}/_manifest.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let run = |pipeline: &std::path::Path, as_of: &str, extra: &[&str]| {
        bin()
            .arg("run")
            .arg(pipeline)
            .args(["--as-of", as_of, "--output"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let sample = sample_pipeline_with(dir.path(), "");

    // A first run: nothing to compare.
    let first = run(&sample, "2026-10-01", &[]);
    assert_success(&first);
    assert!(String::from_utf8_lossy(&first.stderr)
        .contains("nothing to compare this run with (a first run)"));
    assert!(manifest("2026-10-01")["drift"]["previous"].is_null());

    // The next month, the same exports: compared, nothing found.
    let second = run(&sample, "2026-11-01", &[]);
    assert_success(&second);
    let drift = manifest("2026-11-01")["drift"].clone();
    assert!(
        drift["previous"]
            .as_str()
            .unwrap()
            .ends_with("as_of=2026-10-01"),
        "{drift}"
    );
    assert_eq!(drift["findings"].as_array().unwrap().len(), 0, "{drift}");
    let tickets = drift["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "tickets")
        .unwrap()
        .clone();
    assert_eq!(
        (tickets["rows"].as_u64(), tickets["previous_rows"].as_u64()),
        (Some(12557), Some(12557))
    );
    let churn = drift["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "churn_rate")
        .unwrap()
        .clone();
    assert!(churn["z"].as_f64().unwrap().abs() < 1.96, "{churn}");
    assert!(churn["previous_difference"].as_f64().is_some());

    // The next night, a tickets export that lost every ticket of three accounts in ten.
    let data = copy_sample_data(dir.path());
    let tickets = ParquetReader::new(std::fs::File::open(data.join("tickets.parquet")).unwrap())
        .finish()
        .unwrap();
    let mut kept = tickets
        .clone()
        .lazy()
        .filter((col("account_id") % lit(10i64)).gt_eq(lit(3i64)))
        .collect()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(data.join("tickets.parquet")).unwrap())
        .finish(&mut kept)
        .unwrap();
    let text = std::fs::read_to_string(&sample).unwrap().replace(
        repo().join("sample_data").to_str().unwrap(),
        data.to_str().unwrap(),
    );
    let thinner = dir.path().join("thinner.yaml");
    std::fs::write(&thinner, text).unwrap();
    let lost = (12557 - kept.height()) as f64 * 100.0 / 12557.0;
    let finding = format!(
        "source `tickets` has {} rows, 12557 on 2026-11-01: it lost {lost:.0} % of its rows (quality.max_row_drop_share 20 %)",
        kept.height()
    );
    // `quality.drift: error`: exit 3, nothing published.
    let stopped = run(&thinner, "2026-11-02", &["--set", "quality.drift=error"]);
    assert_eq!(stopped.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        stderr.contains(&finding),
        "missing `{finding}` in:\n{stderr}"
    );
    assert!(
        stderr.contains("of its accounts (quality.max_row_drop_share 20 %)"),
        "{stderr}"
    );
    assert!(!out.join("as_of=2026-11-02").exists());
    // By default, a warning in the log and the manifest.
    let warned = run(&thinner, "2026-11-02", &[]);
    assert_success(&warned);
    let warnings = manifest("2026-11-02")["warnings"].to_string();
    assert!(warnings.contains(&finding), "{warnings}");

    // A previous partition that cannot be read never stops a run, even with `drift: error`: it is
    // said, and nothing is compared.
    std::fs::create_dir_all(out.join("as_of=2026-11-03")).unwrap();
    std::fs::write(out.join("as_of=2026-11-03/_SUCCESS"), "not a marker").unwrap();
    let after = run(&sample, "2026-11-04", &["--set", "quality.drift=error"]);
    assert_success(&after);
    let drift = manifest("2026-11-04")["drift"].clone();
    assert!(
        drift["unread"]
            .as_str()
            .unwrap()
            .contains("as_of=2026-11-03` cannot be read"),
        "{drift}"
    );
}
