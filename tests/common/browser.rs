//! Headless Chromium for the report's browser tests: found on the PATH,
//! run with the network blocked and a time limit.

use std::path::{Path, PathBuf};

/// The first of `names` on the PATH, or `None` after saying loudly that
/// the report's `what` test is skipped; under `CI=true` (where `.ci/run`
/// installs the Debian package `package`) a missing tool fails the test.
fn tool_or_skip(names: &[&str], package: &str, what: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let message = format!(
            "{} not found: the report's {what} test is SKIPPED (Debian: apt-get install {package}; .ci/run installs it)",
            names[0]
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("\n*** {message} ***\n");
    }
    found
}

/// Chromium, or `None` when the `what` test is skipped.
pub fn chromium_or_skip(what: &str) -> Option<PathBuf> {
    tool_or_skip(
        &["chromium", "chromium-browser", "google-chrome"],
        "chromium",
        what,
    )
}

/// `pdftotext`, or `None` when the `what` test is skipped.
pub fn pdftotext_or_skip(what: &str) -> Option<PathBuf> {
    tool_or_skip(&["pdftotext"], "poppler-utils", what)
}

/// Runs Chromium headless with `args` on `page`, the network blocked;
/// returns its stdout. Killed after two minutes.
pub fn headless(browser: &Path, profile: &Path, args: &[&str], page: &Path) -> String {
    let mut child = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).map(|_| out)
    });
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {args:?}: {status}");
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium {args:?} did not finish in two minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    reader.join().unwrap().expect("chromium's output")
}
