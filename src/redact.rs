//! The one redaction every text that leaves the process goes through: log
//! lines, error messages, `explain` output and `_manifest.json`.
//!
//! It masks as `***`:
//! - every value interpolated into the pipeline from a `${VAR}`, except
//!   those of a short allow-list of names ([`is_public_name`]: `ENV`,
//!   `STAGE`, `*_DATE`, `*_DIR`, `*_PATH`, `*_ENDPOINT`, … and the names the
//!   pipeline lists in `public_variables`), registered by the pipeline
//!   loader as it interpolates;
//! - every credential the storage layer can hold: `AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` from the environment
//!   and the same keys of `~/.aws/credentials` (which the S3 client reads).
//!
//! Each value is masked as written and percent-encoded (as it appears in a
//! URL a library echoes). Values shorter than [`MIN_SECRET_CHARS`] are not
//! masked: they could not be told apart from ordinary text, and masking them
//! would garble every message.

use std::sync::{OnceLock, RwLock};

/// The shortest value that is masked.
pub const MIN_SECRET_CHARS: usize = 4;

/// What a masked value is replaced with.
pub const MASK: &str = "***";

/// Environment variables that hold storage credentials.
const CREDENTIAL_VARIABLES: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Keys of `~/.aws/credentials` that hold credentials.
const CREDENTIAL_FILE_KEYS: [&str; 3] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
];

fn registered() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Words that make a variable secret whatever else its name says.
const SECRET_WORDS: [&str; 8] = [
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PWD",
    "KEY",
    "CREDENTIAL",
    "AUTH",
];
/// Variable names whose values may be shown (docs/OPERATING.md#secrets).
const PUBLIC_NAMES: [&str; 5] = ["ENV", "ENVIRONMENT", "STAGE", "BUCKET", "REGION"];
/// Name endings whose values may be shown.
const PUBLIC_SUFFIXES: [&str; 9] = [
    "_DATE",
    "_DIR",
    "_PATH",
    "_ENDPOINT",
    "_REGION",
    "_BUCKET",
    "_PREFIX",
    "_ENV",
    "_STAGE",
];

/// Whether the value of `${name}` may be shown: a name on the short
/// allow-list (or one the pipeline lists in `public_variables`) without a
/// secret word in it. Every other variable's value is masked wherever it
/// lands.
pub fn is_public_name(name: &str, listed: &[String]) -> bool {
    let upper = name.to_ascii_uppercase();
    if SECRET_WORDS.iter().any(|word| upper.contains(word)) {
        return false;
    }
    listed.iter().any(|l| l == name)
        || PUBLIC_NAMES.contains(&upper.as_str())
        || PUBLIC_SUFFIXES.iter().any(|s| upper.ends_with(s))
}

/// Registers a value to mask from now on.
pub fn register(value: &str) {
    if value.chars().count() < MIN_SECRET_CHARS {
        return;
    }
    if let Ok(mut secrets) = registered().write() {
        if !secrets.iter().any(|s| s == value) {
            secrets.push(value.to_string());
        }
    }
}

/// The values of the storage credentials in the environment and in
/// `~/.aws/credentials`, read once.
fn storage_credentials() -> &'static [String] {
    static CREDENTIALS: OnceLock<Vec<String>> = OnceLock::new();
    CREDENTIALS.get_or_init(|| {
        let mut values: Vec<String> = CREDENTIAL_VARIABLES
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .collect();
        let file = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".aws/credentials"))
            });
        if let Some(text) = file.and_then(|f| std::fs::read_to_string(f).ok()) {
            for line in text.lines() {
                if let Some((key, value)) = line.split_once('=') {
                    if CREDENTIAL_FILE_KEYS.contains(&key.trim().to_ascii_lowercase().as_str()) {
                        values.push(value.trim().to_string());
                    }
                }
            }
        }
        values
    })
}

/// `text` with every secret value masked (see the module documentation).
pub fn redact(text: &str) -> String {
    let mut secrets: Vec<String> = storage_credentials()
        .iter()
        .filter(|v| v.chars().count() >= MIN_SECRET_CHARS)
        .cloned()
        .collect();
    if let Ok(registered) = registered().read() {
        secrets.extend(registered.iter().cloned());
    }
    // Longest first, so that a secret containing another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in &secrets {
        for form in [secret.clone(), percent_encoded(secret)] {
            if out.contains(&form) {
                out = out.replace(&form, MASK);
            }
        }
    }
    out
}

/// `value` with every byte outside the URL-unreserved set percent-encoded.
fn percent_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_masking() {
        let listed = vec!["LAKE".to_string(), "MY_TOKEN".to_string()];
        for name in [
            "API_TOKEN",
            "db_password",
            "DB_PASSWD",
            "SECRET",
            "LICENSE_KEY",
            "KeyId",
            "LAKE_URL",
            "ACCOUNT",
            "TOKEN_DIR",
            "MY_TOKEN",
        ] {
            assert!(!is_public_name(name, &listed), "{name}");
        }
        for name in [
            "DATA_DIR",
            "BUCKET",
            "REGION",
            "S3_ENDPOINT",
            "RUN_DATE",
            "LAKE",
            "ENV",
        ] {
            assert!(is_public_name(name, &listed), "{name}");
        }
        register("s3cr3t/with+chars");
        register("abc"); // too short to mask
        let text = "path s3://b/s3cr3t/with+chars/x and url ?t=s3cr3t%2Fwith%2Bchars abc";
        assert_eq!(redact(text), "path s3://b/***/x and url ?t=*** abc");
    }
}
