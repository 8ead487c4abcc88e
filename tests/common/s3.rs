//! A real S3-compatible server for the tests: moto's server on 127.0.0.1,
//! started on a free port by `tests/support/s3_server.py` and killed when
//! the [`S3Server`] is dropped.
//!
//! Without moto installed the tests are skipped with a loud message, except
//! in CI (`CI=true`), where its absence is a failure: `.ci/run` installs it.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct S3Server {
    child: Child,
    pub port: u16,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// One JSON line per request the server received.
    pub request_log: PathBuf,
    _dir: tempfile::TempDir,
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether moto's server can be started here.
fn moto_available() -> bool {
    Command::new(python())
        .args(["-c", "import moto.server, boto3, werkzeug"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl S3Server {
    /// Starts a server with `buckets` created; `None` (after a loud message)
    /// when moto is not installed and this is not CI.
    pub fn start(buckets: &[&str]) -> Option<S3Server> {
        if !moto_available() {
            let message = "moto is not installed: `pip install 'moto[server]'` (the README's test set-up) to run the S3 tests";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}; CI must run them");
            }
            eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let request_log = dir.path().join("requests.jsonl");
        let script = super::repo().join("tests/support/s3_server.py");
        let mut command = Command::new(python());
        command
            .arg(&script)
            .arg(&request_log)
            .args(buckets)
            .stdin(Stdio::null());
        let (child, info) = super::spawn_server(command, "the S3 test server");
        Some(S3Server {
            child,
            port: info["port"].as_u64().unwrap() as u16,
            access_key_id: info["access_key_id"].as_str().unwrap().into(),
            secret_access_key: info["secret_access_key"].as_str().unwrap().into(),
            request_log,
            _dir: dir,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The binary with this server's credentials and nothing else of AWS
    /// from the environment or the home directory.
    pub fn command(&self, home: &Path) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.process(home))
    }

    /// [`S3Server::command`] as a plain process, to spawn and kill.
    pub fn process(&self, home: &Path) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("cohort-metrics"));
        for var in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT",
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", home)
            .env("AWS_ACCESS_KEY_ID", &self.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret_access_key)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("S3_ENDPOINT", self.endpoint());
        cmd
    }

    /// How the server serves conditional writes: "" (as S3), "refuse", "ignore".
    pub fn conditional(&self, mode: &str) {
        self.control(serde_json::json!({"op": "conditional", "mode": mode}));
    }

    /// Deletes every object under `prefix`.
    pub fn delete_prefix(&self, bucket: &str, prefix: &str) {
        self.control(
            serde_json::json!({"op": "delete_prefix", "bucket": bucket, "prefix": prefix}),
        );
    }

    /// One request to the control endpoint (set-up and checks are done by
    /// the server with boto3, not by the client under test).
    pub fn control(&self, request: Value) -> Value {
        let body = request.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            stream,
            "POST /__control HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
        assert!(head.contains(" 200 "), "control {request}: {head}\n{body}");
        serde_json::from_str(body).expect("JSON")
    }

    pub fn upload_dir(&self, dir: &Path, bucket: &str, prefix: &str) {
        self.control(serde_json::json!({
            "op": "upload", "bucket": bucket, "prefix": prefix, "dir": dir,
        }));
    }

    pub fn download(&self, bucket: &str, prefix: &str, dir: &Path) -> Vec<String> {
        let listed = self.control(serde_json::json!({
            "op": "download", "bucket": bucket, "prefix": prefix, "dir": dir,
        }));
        keys(&listed)
    }

    pub fn list(&self, bucket: &str, prefix: &str) -> Vec<(String, u64)> {
        let listed = self.control(serde_json::json!({
            "op": "list", "bucket": bucket, "prefix": prefix,
        }));
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["key"].as_str().unwrap().to_string(),
                    o["size"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    pub fn put(&self, bucket: &str, key: &str, text: &str) {
        self.control(serde_json::json!({
            "op": "put", "bucket": bucket, "key": key, "text": text,
        }));
    }

    /// Keys of unfinished (neither completed nor aborted) multipart uploads.
    pub fn multipart_uploads(&self, bucket: &str) -> Vec<String> {
        let listed = self.control(serde_json::json!({"op": "multipart_uploads", "bucket": bucket}));
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    }

    /// The next `n` uploads of a multipart part fail with 500.
    pub fn fail_parts(&self, n: u32) {
        self.control(serde_json::json!({"op": "fail_parts", "bucket": "", "n": n}));
    }

    /// The server closes its socket right after the `n`-th next PUT into `bucket`.
    pub fn die_after_puts(&self, bucket: &str, n: u32) {
        self.control(serde_json::json!({"op": "die_after_puts", "bucket": bucket, "n": n}));
    }

    /// The server closes its socket right after the `n`-th next upload of a
    /// multipart part into `bucket`.
    pub fn die_after_parts(&self, bucket: &str, n: u32) {
        self.control(serde_json::json!({
            "op": "die_after_puts", "bucket": bucket, "n": n, "match": "partNumber=",
        }));
    }

    /// Brings a "dead" server back on the same port, with its data.
    pub fn revive(&self) {
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGUSR1);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the S3 test server did not come back"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The next request with `method` whose path or query contains
    /// `matching` waits, before the server looks at it, until [`S3Server::release`].
    pub fn hold(&self, method: &str, matching: &str) {
        self.control(serde_json::json!({"op": "hold", "method": method, "match": matching}));
    }

    /// Waits (up to `timeout`) until a request is held; false if none came.
    pub fn wait_held(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.control(serde_json::json!({"op": "held"}))["held"] == Value::Bool(true) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Lets the held request through (the server then serves it).
    pub fn release(&self) {
        self.control(serde_json::json!({"op": "release"}));
    }

    /// Requests logged since `from` lines.
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.request_log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The sample pipeline with every source under `s3://lake/sample_data/` and
/// the output under `s3://results/education_impact`.
pub fn s3_pipeline(dir: &Path, extra_s3: &str) -> std::path::PathBuf {
    let text =
        std::fs::read_to_string(super::repo().join("pipelines/education_impact.yaml")).unwrap();
    let text = text
        .replace("../sample_data/", "s3://lake/sample_data/")
        .replace(
            "output:   { path: ../out/education_impact }",
            "output:   { path: s3://results/education_impact }",
        )
        .replace(
            "cohort:   {",
            &format!(
                "storage:\n  s3: {{ endpoint: \"${{S3_ENDPOINT}}\", allow_http: true, region: us-east-1{extra_s3} }}\ncohort:   {{"
            ),
        );
    assert!(text.contains("s3://results/") && text.contains("storage:"));
    let path = dir.join("s3_pipeline.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The sample pipeline on S3 with a short lease (for takeovers) as `name`.
pub fn s3_pipeline_with_expiry(dir: &Path, seconds: u64) -> std::path::PathBuf {
    let pipeline = s3_pipeline(dir, ", max_retries: 2, backoff_ms: 10");
    let text = std::fs::read_to_string(&pipeline).unwrap().replace(
        "path: s3://results/education_impact }",
        &format!("path: s3://results/education_impact, lock_expiry_secs: {seconds} }}"),
    );
    assert!(text.contains("lock_expiry_secs"));
    std::fs::write(&pipeline, &text).unwrap();
    pipeline
}

/// `verify` of the sample partition on the server.
pub fn verify_on(server: &S3Server, dir: &Path) -> std::process::Output {
    server
        .command(dir)
        .arg("verify")
        .arg("s3://results/education_impact/as_of=2026-11-01")
        .output()
        .unwrap()
}

fn keys(listed: &Value) -> Vec<String> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap().to_string())
        .collect()
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
