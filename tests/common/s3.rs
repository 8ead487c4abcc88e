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

    /// Requests logged since `from` lines.
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.request_log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
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
