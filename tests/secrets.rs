//! No secret anywhere (docs/OUTPUTS.md, §8): a value interpolated from a `${VAR}`
//! whose name looks secret never reaches the manifest, the logs, `explain`
//! or an error message, wherever the pipeline uses it.

mod common;

use common::*;

const TOKEN: &str = "tok-5ecret-7f3a9c";
/// The value of `${TEAM}`: a name on no list, so masked like a token.
const TEAM: &str = "team-blue-42";

/// A pipeline whose source directory and output directory are named by the
/// token and whose S3 endpoint carries it.
fn pipeline_with_token(dir: &std::path::Path) -> std::path::PathBuf {
    let data = dir.join(TOKEN);
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("accounts.csv"),
        "account_id,signup_date,churn_date\n1,2025-01-01,\n2,2025-01-01,2025-11-01\n",
    )
    .unwrap();
    std::fs::write(
        data.join("training.csv"),
        "account_id,course_id,completed_at\n1,c1,2025-01-10\n",
    )
    .unwrap();
    let text = "name: \"report-${API_TOKEN}-${TEAM}\"\n\
                sources:\n  accounts: { path: \"${API_TOKEN}/accounts.csv\" }\n  training: { path: \"${API_TOKEN}/training.csv\", freshness: {} }\n\
                storage:\n  s3: { endpoint: \"http://127.0.0.1:9/${STORE_PASSWORD}\", allow_http: true, max_retries: 0 }\n\
                cohort: { window_days: 30 }\nperiod: { as_of: 2026-01-01, months: 2 }\n\
                metrics: [logo_retention]\noutput: { path: \"out/${API_TOKEN}\" }\n";
    let path = dir.join("p.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn with_tokens(command: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    command
        .env("API_TOKEN", TOKEN)
        .env("TEAM", TEAM)
        .env("STORE_PASSWORD", "pw-9d8c7b6a5")
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(TOKEN) && !text.contains("pw-9d8c7b6a5") && !text.contains(TEAM),
        "{what} leaks a secret:\n{text}"
    );
}

#[test]
fn a_token_in_a_source_path_and_in_storage_is_never_written_or_printed() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline_with_token(dir.path());

    // A run, with debug logs: the manifest has the pipeline as written.
    let run = with_tokens(bin().args(["-v", "run"]).arg(&pipeline))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stderr}");
    assert_clean("the run's log", &stderr);
    assert!(
        stderr.contains("***"),
        "the masked value shows as ***:\n{stderr}"
    );
    let partition = dir.path().join("out").join(TOKEN).join("as_of=2026-01-01");
    let manifest = std::fs::read_to_string(partition.join("_manifest.json")).unwrap();
    assert_clean("the manifest", &manifest);
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let written = manifest["pipeline"].as_str().unwrap();
    assert!(written.contains("${API_TOKEN}/accounts.csv"), "{written}");
    assert!(written.contains("${STORE_PASSWORD}"), "{written}");
    assert_eq!(manifest["pipeline_name"], "report-***-***");
    // The page: rendered and redacted before it is written, so that
    // `cohort-metrics report` (which reads the redacted manifest) gives the
    // same bytes.
    let page = std::fs::read_to_string(partition.join("report.html")).unwrap();
    assert_clean("report.html", &page);
    assert!(page.contains("report-***-***"));
    let again = dir.path().join("again.html");
    let rendered = bin()
        .arg("report")
        .arg(&partition)
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert_eq!(std::fs::read_to_string(&again).unwrap(), page);
    assert_eq!(
        manifest["resolved_pipeline_sha256"].as_str().unwrap().len(),
        64
    );

    // The same in JSON logs, in `explain` and in `validate`.
    let json = with_tokens(
        bin()
            .args(["--log-format", "json", "-v", "validate"])
            .arg(&pipeline),
    )
    .output()
    .unwrap();
    assert!(json.status.success());
    assert_clean("JSON logs", &String::from_utf8_lossy(&json.stderr));
    let explain = with_tokens(bin().arg("explain").arg(&pipeline))
        .output()
        .unwrap();
    assert!(explain.status.success());
    let plan = String::from_utf8_lossy(&explain.stdout);
    assert!(plan.contains("accounts.csv"), "{plan}");
    assert_clean("explain", &plan);

    // An error that names the path: a file missing under the token's directory.
    std::fs::remove_file(dir.path().join(TOKEN).join("training.csv")).unwrap();
    let failed = with_tokens(bin().arg("run").arg(&pipeline))
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(4));
    let message = String::from_utf8_lossy(&failed.stderr);
    assert!(message.contains("***/training.csv"), "{message}");
    assert_clean("the error", &message);
}

#[test]
fn a_password_in_the_s3_endpoint_is_masked_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline_with_token(dir.path());
    let text = std::fs::read_to_string(&pipeline).unwrap().replace(
        "\"${API_TOKEN}/accounts.csv\"",
        "\"s3://lake/accounts.csv\"",
    );
    std::fs::write(&pipeline, text).unwrap();
    // Nothing listens on port 9: the read fails and the message names the endpoint.
    let failed = with_tokens(
        bin()
            .arg("run")
            .arg(&pipeline)
            .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID")
            .env("AWS_SECRET_ACCESS_KEY", "aws-secret-value-123")
            .env("AWS_EC2_METADATA_DISABLED", "true"),
    )
    .output()
    .unwrap();
    assert_eq!(failed.status.code(), Some(4));
    let message = String::from_utf8_lossy(&failed.stderr);
    assert_clean("the S3 error", &message);
    assert!(
        !message.contains("aws-secret-value-123") && !message.contains("AKIAEXAMPLEKEYID"),
        "{message}"
    );
}

#[test]
fn a_password_in_an_endpoint_url_is_refused_without_repeating_it() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline_with_token(dir.path());
    let text = std::fs::read_to_string(&pipeline).unwrap().replace(
        "http://127.0.0.1:9/${STORE_PASSWORD}",
        "http://minio:${STORE_PASSWORD}@127.0.0.1:9",
    );
    std::fs::write(&pipeline, text).unwrap();
    let refused = with_tokens(bin().arg("validate").arg(&pipeline))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("carries a user name or password"),
        "{message}"
    );
    assert_clean("the refusal", &message);
    // The same on the command line, where no `${VAR}` registered it.
    let verify = bin()
        .args([
            "verify",
            "--s3-endpoint",
            "http://minio:pw-9d8c7b6a5@127.0.0.1:9",
        ])
        .arg("s3://results/x/as_of=2026-01-01")
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(2));
    let message = String::from_utf8_lossy(&verify.stderr);
    assert!(
        message.contains("`--s3-endpoint` carries a user name"),
        "{message}"
    );
    assert_clean("verify's refusal", &message);
}
