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
            let parquet = frame
                .clone()
                .describe_plan()
                .expect("plan")
                .to_lowercase()
                .contains("parquet");
            (frame.collect().expect("rows"), parquet)
        })
        .collect()
}

/// Runs the checks with the typed rows kept in `dir`.
fn check(job: &crate::plan::Job, inputs: &mut Inputs, dir: &Path) {
    let mut scope = crate::metrics::needs::check_scope(&job.metrics, &job.pipeline.period);
    scope.spill = Some(dir.to_path_buf());
    crate::quality::check_all(inputs, &job.pipeline, &scope, Vec::new(), None)
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
