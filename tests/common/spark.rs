//! A real Spark Connect server for the tests: `SparkConnectServer` from the
//! installed `pyspark` on 127.0.0.1, a free port and `local[2]`, started
//! once per test binary by `tests/support/spark_server.py` and killed (its
//! whole process group) when the test process exits: the script waits on a
//! pipe that only this process holds.
//!
//! Without Java or pyspark the tests are skipped with a loud message,
//! except in CI (`CI=true`), where their absence is a failure: `.ci/run`
//! installs them.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

pub struct SparkServer {
    pub port: u16,
    /// The token the server requires.
    pub token: String,
    /// The server's log (Spark's own lines), for failure messages.
    pub log: std::path::PathBuf,
    /// The supervisor; its stdin closes when this process exits.
    _child: Mutex<Child>,
    _dir: tempfile::TempDir,
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn available() -> Result<(), String> {
    let ok = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok("java", &["-version"]) {
        return Err("Java is not installed (Debian: openjdk-17-jre-headless)".into());
    }
    if !ok(&python(), &["-c", "import pyspark"]) {
        return Err("pyspark is not installed (`pip install pyspark`)".into());
    }
    Ok(())
}

impl SparkServer {
    /// The test binary's server, started on first use; `None` (after a
    /// loud message) when Java or pyspark is missing and this is not CI.
    pub fn get() -> Option<&'static SparkServer> {
        static SERVER: OnceLock<Option<SparkServer>> = OnceLock::new();
        SERVER.get_or_init(SparkServer::start).as_ref()
    }

    fn start() -> Option<SparkServer> {
        if let Err(missing) = available() {
            let message =
                format!("{missing}: the Spark Connect tests need it (the README's test set-up)");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}; CI must run them");
            }
            eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("spark.log");
        let mut command = Command::new(python());
        command
            .arg(super::repo().join("tests/support/spark_server.py"))
            .arg(&log)
            .stdin(Stdio::piped());
        let (mut child, info) = super::spawn_server(command, "the Spark Connect test server");
        if let Some(error) = info["error"].as_str() {
            let _ = child.kill();
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(30).collect();
            panic!(
                "the Spark Connect test server did not start: {error}\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Some(SparkServer {
            port: info["port"].as_u64().unwrap() as u16,
            token: info["token"].as_str().unwrap().to_string(),
            log,
            _child: Mutex::new(child),
            _dir: dir,
        })
    }

    /// The Spark Connect URL, its token from `${SPARK_TOKEN}` (give the
    /// binary [`SparkServer::token`] in that variable).
    pub fn remote(&self) -> String {
        format!("sc://127.0.0.1:{}/;token=${{SPARK_TOKEN}}", self.port)
    }

    /// [`SparkServer::remote`] as messages and the manifest show it.
    pub fn remote_shown(&self) -> String {
        format!("sc://127.0.0.1:{}/;token=***", self.port)
    }
}
