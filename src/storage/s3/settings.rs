//! `storage.s3` of the pipeline file (docs/PIPELINE.md, "storage") and the
//! settings in effect: the file's values, the environment, then defaults.
//! The S3 client and polars' scans are built from the same settings.

use std::time::Duration;

use object_store::aws::AmazonS3ConfigKey;
use object_store::ClientConfigKey;
use polars::io::cloud::{CloudOptions, CloudRetryConfig};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// S3 settings. Credentials never go here: they come from the environment
/// or the usual AWS configuration files ([`super::credentials`]).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Custom endpoint (MinIO, other S3-compatible stores); empty = AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Allow `http://` endpoints (local MinIO or test servers); AWS needs https.
    #[serde(default)]
    pub allow_http: bool,
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted
    /// style (`bucket.endpoint/key`). Default: true when `endpoint` is set
    /// (MinIO and most S3-compatible stores), false on AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    /// Retries of a failed request before the run gives up (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// First wait between retries in milliseconds, doubled each time (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ms: Option<u64>,
    /// Longest wait between two retries in milliseconds (default 15000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff_ms: Option<u64>,
    /// No retry starts after this many seconds since the first try (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_timeout_secs: Option<u64>,
    /// Time limit to open a connection, in seconds (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_secs: Option<u64>,
    /// Time limit of one request, body included, in seconds (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_secs: Option<u64>,
}

/// Settings in effect, with the defaults filled in.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub region: String,
    /// The credential chain's result, handed to every client
    /// ([`super::credentials`]).
    pub chain: super::credentials::Chain,
    pub endpoint: Option<String>,
    pub allow_http: bool,
    pub path_style: bool,
    pub max_retries: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub retry_timeout: Duration,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl S3Settings {
    /// `storage.s3` with defaults. The region falls back to `AWS_REGION` /
    /// `AWS_DEFAULT_REGION`, then `us-east-1`.
    pub fn from_config(config: Option<&S3Config>) -> S3Settings {
        let default = S3Config::default();
        let c = config.unwrap_or(&default);
        let endpoint = c
            .endpoint
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| e.trim_end_matches('/').to_string());
        let chain = super::credentials::resolve();
        if let Some(c) = &chain.credentials {
            for value in [
                Some(&c.access_key_id),
                Some(&c.secret_access_key),
                c.session_token.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                crate::redact::register(value);
            }
        }
        let region = c
            .region
            .clone()
            .filter(|r| !r.trim().is_empty())
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .filter(|r| !r.trim().is_empty())
            .or_else(|| chain.region.clone())
            .unwrap_or_else(|| "us-east-1".to_string());
        S3Settings {
            chain,
            path_style: c.path_style.unwrap_or(endpoint.is_some()),
            region,
            endpoint,
            allow_http: c.allow_http,
            max_retries: c.max_retries.unwrap_or(3),
            backoff: Duration::from_millis(c.backoff_ms.unwrap_or(100)),
            max_backoff: Duration::from_millis(c.max_backoff_ms.unwrap_or(15_000)),
            retry_timeout: Duration::from_secs(c.retry_timeout_secs.unwrap_or(60)),
            connect_timeout: Duration::from_secs(c.connect_timeout_secs.unwrap_or(10)),
            request_timeout: Duration::from_secs(c.request_timeout_secs.unwrap_or(300)),
        }
    }

    /// Problems with the settings, for the configuration check.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(endpoint) = &self.endpoint {
            let authority = endpoint
                .split_once("://")
                .map_or(endpoint.as_str(), |(_, rest)| rest)
                .split(['/', '?', '#'])
                .next()
                .unwrap_or("");
            if authority.contains('@') {
                // Refused, never shown: the user name and password would
                // travel into messages and the manifest.
                problems.push(
                    "`storage.s3.endpoint` carries a user name or password (`user:pass@host`): remove it and give \
                     the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an AWS profile"
                        .into(),
                );
            } else if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                problems.push(format!(
                    "`storage.s3.endpoint`: `{endpoint}` must start with `https://` (or `http://` with `allow_http: true`)"
                ));
            } else if endpoint.starts_with("http://") && !self.allow_http {
                problems.push(format!(
                    "`storage.s3.endpoint`: `{endpoint}` is plain http; set `allow_http: true` to allow it"
                ));
            }
        }
        problems.extend(self.chain.problem.clone());
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            problems.push("`storage.s3`: timeouts must be at least 1 second".into());
        }
        problems
    }

    /// The same settings as polars' cloud options (and so as our own store).
    pub(super) fn cloud_options(&self) -> CloudOptions {
        CloudOptions::default()
            .with_aws(self.config_keys())
            .with_retry_config(CloudRetryConfig {
                max_retries: Some(self.max_retries as usize),
                retry_timeout: Some(self.retry_timeout),
                retry_init_backoff: Some(self.backoff),
                retry_max_backoff: Some(self.max_backoff),
                retry_base_multiplier: None,
            })
    }

    /// The settings as object store configuration keys.
    pub(super) fn config_keys(&self) -> Vec<(AmazonS3ConfigKey, String)> {
        let mut keys: Vec<(AmazonS3ConfigKey, String)> = vec![
            (AmazonS3ConfigKey::Region, self.region.clone()),
            (
                AmazonS3ConfigKey::VirtualHostedStyleRequest,
                (!self.path_style).to_string(),
            ),
            (
                AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp),
                self.allow_http.to_string(),
            ),
            (
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                format!("{}s", self.connect_timeout.as_secs()),
            ),
            (
                AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                format!("{}s", self.request_timeout.as_secs()),
            ),
        ];
        if let Some(endpoint) = &self.endpoint {
            keys.push((AmazonS3ConfigKey::Endpoint, endpoint.clone()));
        }
        // Keys the chain found go to every client explicitly, so that no
        // client falls back on a chain of its own.
        if let Some(c) = &self.chain.credentials {
            keys.push((AmazonS3ConfigKey::AccessKeyId, c.access_key_id.clone()));
            keys.push((
                AmazonS3ConfigKey::SecretAccessKey,
                c.secret_access_key.clone(),
            ));
            if let Some(token) = &c.session_token {
                keys.push((AmazonS3ConfigKey::Token, token.clone()));
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_have_defaults_and_checks() {
        let s = S3Settings::from_config(None);
        assert!(!s.path_style);
        assert_eq!(s.max_retries, 3);
        let config = S3Config {
            endpoint: Some("http://127.0.0.1:9000/".into()),
            ..Default::default()
        };
        let s = S3Settings::from_config(Some(&config));
        assert!(s.path_style, "an endpoint defaults to path-style");
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s.problems()[0].contains("allow_http"));
        let config = S3Config {
            endpoint: Some("  ".into()),
            ..Default::default()
        };
        assert!(S3Settings::from_config(Some(&config)).endpoint.is_none());
    }
}
