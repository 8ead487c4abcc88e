use std::path::Path;

use polars::prelude::*;

use super::SpillDir;
use crate::config::SourceName;
use crate::inputs::Inputs;
use crate::testkit::*;

/// Training with a status: only `done` rows are completions, so the typed
/// `completed_at` is not the column the data rules check.
const TRAINING_STATUS: &str = "account_id,course_id,completed_at,status
1,c1,2025-01-30T12:00:00Z,done
1,c2,2025-01-20T00:00:00Z,started
2,c1,2025-01-31,done
3,C1,2025-01-05T00:00:00Z,DONE
4,c2,2025-12-20,done
";

const SOURCES: [SourceName; 5] = [
    SourceName::Accounts,
    SourceName::Training,
    SourceName::Revenue,
    SourceName::NpsResponses,
    SourceName::CsatResponses,
];

/// The tiny dataset's job (training with a status) and its inputs.
fn scanned(fixture: &Fixture) -> (crate::plan::Job, Inputs) {
    fixture.file("training_status.csv", TRAINING_STATUS);
    let path = fixture.pipeline_with_sources(
        "[logo_retention, nps, csat]",
        "training_status.csv, completed_values: [done]",
        "",
    );
    let job = fixture.job_at(path);
    let inputs = crate::run::scan(&job, None).expect("inputs scan");
    (job, inputs)
}

/// Each source's typed rows and whether its plan reads Parquet.
fn read(inputs: &Inputs) -> Vec<(DataFrame, bool)> {
    SOURCES
        .iter()
        .map(|name| {
            let frame = inputs.get(*name).expect("source").frame.clone();
            let parquet = read_from_parquet(&frame);
            (frame.collect().expect("rows"), parquet)
        })
        .collect()
}

/// Runs the checks with the typed rows kept in `dir`.
fn check(job: &crate::plan::Job, inputs: &mut Inputs, dir: &Path) {
    let mut scope = crate::metrics::needs::check_scope(&job.metrics, &job.pipeline.period);
    scope.spill = Some(dir.to_path_buf());
    crate::quality::check_all(
        inputs,
        &job.pipeline,
        &scope,
        Vec::new(),
        Default::default(),
    )
    .expect("the tiny dataset passes its checks");
}

#[test]
fn csv_sources_are_read_from_the_rows_their_checks_kept() {
    let fixture = Fixture::tiny();
    let (job, mut inputs) = scanned(&fixture);
    let before = read(&inputs);
    assert!(before.iter().all(|(_, parquet)| !parquet), "CSV at first");
    let dir = tempfile::tempdir().expect("temporary directory");
    check(&job, &mut inputs, dir.path());
    let after = read(&inputs);
    for ((name, (was, _)), (is, parquet)) in SOURCES.iter().zip(&before).zip(&after) {
        assert!(parquet, "`{name}` reads the kept rows");
        assert!(dir.path().join(format!("{name}.parquet")).is_file());
        // The same rows, in the same order, of the same types.
        assert!(is.equals_missing(was), "`{name}`: {is} vs {was}");
    }
    // The started course is no completion in the kept rows either.
    let training = &after[1].0;
    let completed = training.column("completed_at").expect("column");
    assert_eq!(completed.null_count(), 1, "{training}");
    assert_eq!(training.height(), 5);
}

#[test]
fn without_a_place_to_keep_them_the_files_are_parsed_again() {
    let fixture = Fixture::tiny();
    let (job, mut inputs) = scanned(&fixture);
    let before = read(&inputs);
    let nowhere = fixture.dir.path().join("no such directory");
    check(&job, &mut inputs, &nowhere);
    let after = read(&inputs);
    for ((name, (was, _)), (is, parquet)) in SOURCES.iter().zip(&before).zip(&after) {
        assert!(!parquet, "`{name}` is read from its CSV file");
        assert!(is.equals_missing(was), "`{name}`");
    }
}

/// Reads nothing: stands in for the activity fold riding the events' pass.
struct Idle;

impl crate::frame::Rider for Idle {
    fn columns(&self, _: &crate::frame::Slots) -> Vec<Expr> {
        Vec::new()
    }
    fn add(&mut self, _: &DataFrame) -> PolarsResult<()> {
        Ok(())
    }
    fn done(&mut self) {}
}

/// The passes over `accounts` and `users` come first, and the ids the
/// other sources are checked against (and the activity fold looks rows up
/// in) are read from the rows those passes kept: when the events' pass
/// starts its rider, both sources read their kept rows, and with their
/// CSV files gone the known ids are there and the checks end as before.
#[test]
fn the_known_ids_come_from_the_rows_the_accounts_and_users_passes_kept() {
    use std::sync::{Arc, Mutex};
    let metrics = "[{ active_user_rate: { window_days: [30], level: user } }]";
    let fixture = Fixture::tiny();
    let (job, mut inputs) = fixture.scan_users_and_events(metrics);
    // The same ids and counts from the CSV files of another copy.
    let copy = Fixture::tiny();
    let (_, mut other) = copy.scan_users_and_events(metrics);
    let expected = other.known_ids(true).expect("ids read from the CSV files");
    let expected_report = crate::quality::check(
        &mut other,
        &job.pipeline,
        &crate::metrics::needs::check_scope(&job.metrics, &job.pipeline.period),
    )
    .expect("checks without kept rows");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut scope = crate::metrics::needs::check_scope(&job.metrics, &job.pipeline.period);
    scope.spill = Some(dir.path().to_path_buf());
    let seen = Arc::new(Mutex::new(None));
    let record = seen.clone();
    let csv = fixture.dir.path().to_path_buf();
    let start: crate::inputs::RiderStart = Box::new(move |inputs: &Inputs| {
        for name in ["accounts.csv", "users.csv"] {
            std::fs::rename(csv.join(name), csv.join(format!("{name}.gone"))).expect("moved away");
        }
        let kept = |name| read_from_parquet(&inputs.get(name).expect("source").frame);
        let known = inputs.known_ids(true)?;
        *record.lock().expect("lock") = Some((
            kept(SourceName::Accounts),
            kept(SourceName::Users),
            known.accounts,
            known.users,
        ));
        Ok(Box::new(Idle) as Box<dyn crate::frame::Rider>)
    });
    let (report, _) = crate::quality::check_all(
        &mut inputs,
        &job.pipeline,
        &scope,
        Vec::new(),
        [(SourceName::Events, start)].into(),
    )
    .expect("the checks end without the CSV files of accounts and users");
    let (accounts_kept, users_kept, accounts, users) = seen
        .lock()
        .expect("lock")
        .take()
        .expect("the events' pass started its rider");
    assert!(
        accounts_kept && users_kept,
        "both read from their kept rows"
    );
    assert!(accounts.equals_missing(&expected.accounts), "{accounts:?}");
    let users = users.expect("user ids");
    assert!(
        users.equals_missing(&expected.users.expect("user ids")),
        "{users:?}"
    );
    assert_eq!(users.len(), 3);
    assert_eq!(report.rows_read, expected_report.rows_read);
    assert_eq!(report.orphans, expected_report.orphans);
    assert_eq!(report.user_rows, expected_report.user_rows);
}

/// Whether `frame`'s plan scans Parquet.
fn read_from_parquet(frame: &LazyFrame) -> bool {
    frame
        .clone()
        .describe_plan()
        .expect("plan")
        .to_lowercase()
        .contains("parquet")
}

#[test]
fn the_runs_directory_goes_with_it_and_a_killed_runs_with_the_next_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = SpillDir::create("spill-test-the-runs-directory").expect("directory");
    let path = dir.path().to_path_buf();
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "readable by the run's user only");
    // A second run of the same id gets none rather than the first's.
    assert!(SpillDir::create("spill-test-the-runs-directory").is_none());
    std::fs::write(path.join("accounts.parquet"), b"rows").expect("write");
    assert!(path.is_dir());
    // A killed run's directory: its lock file, held by no process.
    let killed = std::env::temp_dir().join("cohort-metrics-rows-spill-test-killed");
    std::fs::create_dir_all(&killed).expect("directory");
    std::fs::write(killed.join(".lock"), b"").expect("lock file");
    std::fs::write(killed.join("users.parquet"), b"rows").expect("write");
    let next = SpillDir::create("spill-test-the-next-run").expect("directory");
    assert!(!killed.exists(), "{} removed", killed.display());
    assert!(
        path.join("accounts.parquet").is_file(),
        "a live run's stays"
    );
    drop(dir);
    assert!(!path.exists(), "{} removed", path.display());
    drop(next);
}
