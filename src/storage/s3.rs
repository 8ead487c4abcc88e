//! The S3 client: one set of settings (`storage.s3` of the pipeline plus the
//! environment) for polars' reads and for our own listing and writes.
//!
//! Polars keeps one object store per bucket and settings in a cache; we take
//! our store from that same cache ([`build_object_store`] with the same
//! [`CloudOptions`]), so our listing and uploads and polars' scans share one
//! client per bucket: one connection pool, one retry policy, one set of
//! credentials.
//!
//! Credentials never come from the pipeline file: they are read by the
//! object store from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
//! `AWS_SESSION_TOKEN`, from `~/.aws/credentials` and `~/.aws/config`, from
//! web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`, EKS) or from the instance
//! metadata service, in that order. No message carries them (see
//! [`crate::redact`]).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, MultipartId, RetryConfig};
use object_store::{
    ClientConfigKey, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion,
};
use polars::io::cloud::{build_object_store, CloudOptions, CloudRetryConfig};
use polars::prelude::PlRefPath;

use crate::config::S3Config;
use crate::error::{Error, Result};
use crate::redact::redact;

/// Files larger than this are uploaded in parts of this size.
pub const MULTIPART_PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts of one upload in flight at once.
const MULTIPART_CONCURRENCY: usize = 4;

/// Settings in effect, with the defaults filled in.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub region: String,
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
        let region = c
            .region
            .clone()
            .filter(|r| !r.trim().is_empty())
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "us-east-1".to_string());
        S3Settings {
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
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                problems.push(format!(
                    "`storage.s3.endpoint`: `{endpoint}` must start with `https://` (or `http://` with `allow_http: true`)"
                ));
            } else if endpoint.starts_with("http://") && !self.allow_http {
                problems.push(format!(
                    "`storage.s3.endpoint`: `{endpoint}` is plain http; set `allow_http: true` to allow it"
                ));
            }
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            problems.push("`storage.s3`: timeouts must be at least 1 second".into());
        }
        problems
    }

    /// The same settings as polars' cloud options (and so as our own store).
    fn cloud_options(&self) -> CloudOptions {
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
    fn config_keys(&self) -> Vec<(AmazonS3ConfigKey, String)> {
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
        keys
    }
}

/// The S3 client of a run.
pub struct S3 {
    settings: S3Settings,
    options: CloudOptions,
    /// Per bucket, the client of the multipart commit (see [`S3::multipart`]).
    multipart: std::sync::Mutex<std::collections::HashMap<String, Arc<AmazonS3>>>,
}

impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the settings: nothing that could hold a credential.
        f.debug_struct("S3")
            .field("settings", &self.settings)
            .finish()
    }
}

/// The condition of [`S3::put_if`].
#[derive(Debug, Clone)]
pub enum Condition {
    /// No object exists at the key.
    Absent,
    /// The object at the key has this ETag.
    Is(String),
}

/// What [`S3::put_if`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// Written; the new object's ETag.
    Written(Option<String>),
    /// The condition did not hold: nothing was written.
    Conflict,
}

/// One object found by a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
}

impl S3 {
    pub fn new(settings: S3Settings) -> Arc<S3> {
        let options = settings.cloud_options();
        Arc::new(S3 {
            settings,
            options,
            multipart: Default::default(),
        })
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    /// Options to hand to polars' scans.
    pub fn cloud_options(&self) -> &CloudOptions {
        &self.options
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        polars_async::ASYNC.block_on(future)
    }

    async fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        let url = PlRefPath::new(format!("s3://{bucket}/").as_str());
        let (_, store) = build_object_store(url, Some(&self.options), false)
            .await
            .map_err(|e| {
                Error::Io(redact(&format!(
                    "S3 bucket `{bucket}`: cannot set up the client: {e}"
                )))
            })?;
        Ok(store.to_dyn_object_store().await.into_owned())
    }

    /// Size of `s3://bucket/key`, or `None` when there is no such object.
    pub fn head(&self, bucket: &str, key: &str) -> Result<Option<u64>> {
        self.block_on(async {
            let store = self.store(bucket).await?;
            match store.head(&ObjectPath::from(key)).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.error("read", bucket, key, e)),
            }
        })
    }

    /// Every object under `prefix` (recursively), sorted by key.
    pub fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>> {
        self.block_on(async {
            let store = self.store(bucket).await?;
            let path = ObjectPath::from(prefix);
            let listed: Vec<_> = store
                .list((!prefix.is_empty()).then_some(&path))
                .try_collect()
                .await
                .map_err(|e| self.error("list", bucket, prefix, e))?;
            let mut out: Vec<ObjectInfo> = listed
                .into_iter()
                .map(|m| ObjectInfo {
                    key: m.location.to_string(),
                    size: m.size,
                })
                .collect();
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
    }

    /// The whole object.
    pub fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>> {
        self.block_on(async {
            let store = self.store(bucket).await?;
            let result = store
                .get(&ObjectPath::from(key))
                .await
                .map_err(|e| self.error("read", bucket, key, e))?;
            let bytes = result
                .bytes()
                .await
                .map_err(|e| self.error("read", bucket, key, e))?;
            Ok(bytes.to_vec())
        })
    }

    /// Reads an object `chunk` bytes at a time (ranged requests), handing
    /// each piece to `each` until it returns false: memory stays at one
    /// chunk whatever the object's size. False when there is no such object.
    pub fn read_chunks(
        &self,
        bucket: &str,
        key: &str,
        chunk: u64,
        each: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<bool> {
        let Some(size) = self.head(bucket, key)? else {
            return Ok(false);
        };
        let path = ObjectPath::from(key);
        let mut start = 0u64;
        while start < size {
            let end = (start + chunk).min(size);
            let bytes = self.block_on(async {
                let store = self.store(bucket).await?;
                store
                    .get_range(&path, start..end)
                    .await
                    .map_err(|e| self.error("read", bucket, key, e))
            })?;
            if !each(&bytes) {
                break;
            }
            start = end;
        }
        Ok(true)
    }

    /// Uploads a small in-memory object in one request.
    pub fn put_bytes(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<()> {
        self.block_on(async {
            let store = self.store(bucket).await?;
            store
                .put(&ObjectPath::from(key), PutPayload::from(bytes))
                .await
                .map_err(|e| self.error("write", bucket, key, e))?;
            Ok(())
        })
    }

    /// Uploads a local file: one request up to [`MULTIPART_PART_SIZE`], a
    /// multipart upload above it, read from the file one part at a time and
    /// aborted if any part fails, so that no half-written object appears.
    pub fn put_file(&self, bucket: &str, key: &str, file: &Path) -> Result<()> {
        let size = std::fs::metadata(file)
            .map_err(|e| Error::io(format!("cannot read `{}`", file.display()), e))?
            .len();
        if size <= MULTIPART_PART_SIZE as u64 {
            let bytes = std::fs::read(file)
                .map_err(|e| Error::io(format!("cannot read `{}`", file.display()), e))?;
            return self.put_bytes(bucket, key, bytes);
        }
        let upload_id = self.start_upload(bucket, key)?;
        let done = self
            .upload_parts(bucket, key, &upload_id, file)
            .and_then(|parts| self.complete_upload(bucket, key, &upload_id, parts));
        if done.is_err() {
            // Best effort: a store that cannot be reached cannot be told
            // either; its lifecycle rule cleans up (see the README).
            let _ = self.abort_upload(bucket, key, &upload_id);
        }
        done
    }

    /// Writes a small object only under a condition (HTTP `If-None-Match: *`
    /// for [`Condition::Absent`], `If-Match: ETAG` for [`Condition::Is`]):
    /// the one atomic primitive S3 offers for a lock. A store that refuses
    /// conditional writes gives an I/O error naming the store.
    pub fn put_if(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        condition: &Condition,
    ) -> Result<Conditional> {
        let mode = match condition {
            Condition::Absent => PutMode::Create,
            Condition::Is(e_tag) => PutMode::Update(UpdateVersion {
                e_tag: Some(e_tag.clone()),
                version: None,
            }),
        };
        self.block_on(async {
            let store = self.store(bucket).await?;
            match store
                .put_opts(
                    &ObjectPath::from(key),
                    PutPayload::from(bytes),
                    PutOptions::from(mode),
                )
                .await
            {
                Ok(result) => Ok(Conditional::Written(result.e_tag)),
                Err(object_store::Error::AlreadyExists { .. })
                | Err(object_store::Error::Precondition { .. })
                | Err(object_store::Error::NotFound { .. }) => Ok(Conditional::Conflict),
                Err(e) if refuses_conditions(&e) => Err(self.refuses_conditions(&e.to_string())),
                Err(e) => Err(self.error("conditional write", bucket, key, e)),
            }
        })
    }

    /// The error for a store that refuses (or ignores) conditional writes.
    pub fn refuses_conditions(&self, detail: &str) -> Error {
        Error::Io(redact(&format!(
            "the S3 store{} does not honour conditional writes (`If-None-Match`/`If-Match`), which the partition lock needs: {}; \
             set `output.lock: none` to publish without a lock (and never start two runs on one output)",
            self.settings
                .endpoint
                .as_deref()
                .map(|e| format!(" at `{e}`"))
                .unwrap_or_default(),
            server_message(detail)
        )))
    }

    /// A small object and its ETag, or `None` when there is none.
    pub fn get_tagged(&self, bucket: &str, key: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
        self.block_on(async {
            let store = self.store(bucket).await?;
            let result = match store.get(&ObjectPath::from(key)).await {
                Ok(result) => result,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(self.error("read", bucket, key, e)),
            };
            let e_tag = result.meta.e_tag.clone();
            let bytes = result
                .bytes()
                .await
                .map_err(|e| self.error("read", bucket, key, e))?;
            Ok(Some((bytes.to_vec(), e_tag)))
        })
    }

    /// The client of the multipart commit: the one client whose uploads have
    /// ids, so that an upload can be left open (invisible to readers),
    /// completed later, or aborted by another run. Built like polars' client
    /// for the scans (environment, then `~/.aws/credentials` and
    /// `~/.aws/config` where the environment has nothing, then the settings),
    /// so both use the same credentials and endpoint.
    fn multipart(&self, bucket: &str) -> Result<Arc<AmazonS3>> {
        let mut clients = self
            .multipart
            .lock()
            .map_err(|_| Error::Other("S3 client cache poisoned".into()))?;
        if let Some(client) = clients.get(bucket) {
            return Ok(client.clone());
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let from_files = [
            (".aws/config", "region", AmazonS3ConfigKey::Region),
            (
                ".aws/credentials",
                "aws_access_key_id",
                AmazonS3ConfigKey::AccessKeyId,
            ),
            (
                ".aws/credentials",
                "aws_secret_access_key",
                AmazonS3ConfigKey::SecretAccessKey,
            ),
            (
                ".aws/credentials",
                "aws_session_token",
                AmazonS3ConfigKey::Token,
            ),
        ];
        for (file, name, key) in from_files {
            if builder.get_config_value(&key).is_some() {
                continue;
            }
            let text = home
                .as_ref()
                .and_then(|h| std::fs::read_to_string(h.join(file)).ok())
                .unwrap_or_default();
            let value = text.lines().find_map(|line| {
                let (k, v) = line.split_once('=')?;
                (k.trim() == name).then(|| v.trim().to_string())
            });
            if let Some(value) = value {
                builder = builder.with_config(key, value);
            }
        }
        for (key, value) in self.settings.config_keys() {
            builder = builder.with_config(key, value);
        }
        let client = builder
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: self.settings.backoff,
                    max_backoff: self.settings.max_backoff,
                    base: 2.0,
                },
                max_retries: self.settings.max_retries as usize,
                retry_timeout: self.settings.retry_timeout,
            })
            .build()
            .map_err(|e| {
                Error::Io(redact(&format!(
                    "S3 bucket `{bucket}`: cannot set up the client: {e}"
                )))
            })?;
        let client = Arc::new(client);
        clients.insert(bucket.to_string(), client.clone());
        Ok(client)
    }

    /// Starts a multipart upload to `key`; returns its upload id. Nothing is
    /// visible at `key` until [`S3::complete_upload`].
    pub fn start_upload(&self, bucket: &str, key: &str) -> Result<String> {
        let client = self.multipart(bucket)?;
        self.block_on(async {
            client
                .create_multipart(&ObjectPath::from(key))
                .await
                .map_err(|e| self.error("write", bucket, key, e))
        })
    }

    /// Uploads a local file as the parts of an open upload, reading it one
    /// part at a time ([`MULTIPART_PART_SIZE`]; at most
    /// [`MULTIPART_CONCURRENCY`] parts in memory and in flight).
    pub fn upload_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        file: &Path,
    ) -> Result<Vec<PartId>> {
        let client = self.multipart(bucket)?;
        let mut reader = std::fs::File::open(file)
            .map_err(|e| Error::io(format!("cannot read `{}`", file.display()), e))?;
        let path = ObjectPath::from(key);
        let id: MultipartId = upload_id.to_string();
        let mut parts: Vec<PartId> = Vec::new();
        let mut index = 0usize;
        loop {
            // One batch: up to MULTIPART_CONCURRENCY parts read, then sent together.
            let mut batch = Vec::new();
            for _ in 0..MULTIPART_CONCURRENCY {
                let mut chunk = Vec::with_capacity(MULTIPART_PART_SIZE);
                (&mut reader)
                    .take(MULTIPART_PART_SIZE as u64)
                    .read_to_end(&mut chunk)
                    .map_err(|e| Error::io(format!("cannot read `{}`", file.display()), e))?;
                if chunk.is_empty() && !(index == 0 && batch.is_empty()) {
                    break;
                }
                let last = chunk.len() < MULTIPART_PART_SIZE;
                batch.push((index, chunk));
                index += 1;
                if last {
                    break;
                }
            }
            if batch.is_empty() {
                break;
            }
            let done = batch
                .last()
                .is_some_and(|(_, c)| c.len() < MULTIPART_PART_SIZE);
            let sent: Vec<PartId> = self.block_on(async {
                futures::future::try_join_all(
                    batch
                        .into_iter()
                        .map(|(i, chunk)| client.put_part(&path, &id, i, PutPayload::from(chunk))),
                )
                .await
                .map_err(|e| self.error("write", bucket, key, e))
            })?;
            parts.extend(sent);
            if done {
                break;
            }
        }
        Ok(parts)
    }

    /// Completes an open upload: the object appears at `key` at once.
    pub fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: Vec<PartId>,
    ) -> Result<()> {
        self.complete_uploads(
            bucket,
            vec![(key.to_string(), upload_id.to_string(), parts)],
        )
        .into_iter()
        .next()
        .unwrap_or(Ok(()))
    }

    /// Completes open uploads (key, upload id, parts) all at once, so that
    /// they appear together as far as S3 allows: one round trip apart at
    /// most. One result per upload, in order.
    pub fn complete_uploads(
        &self,
        bucket: &str,
        uploads: Vec<(String, String, Vec<PartId>)>,
    ) -> Vec<Result<()>> {
        let client = match self.multipart(bucket) {
            Ok(client) => client,
            Err(e) => {
                return uploads
                    .iter()
                    .map(|_| Err(Error::Io(e.to_string())))
                    .collect()
            }
        };
        self.block_on(async {
            futures::future::join_all(uploads.into_iter().map(|(key, id, parts)| {
                let client = client.clone();
                async move {
                    client
                        .complete_multipart(&ObjectPath::from(key.as_str()), &id, parts)
                        .await
                        .map(|_| ())
                        .map_err(|e| self.error("write", bucket, &key, e))
                }
            }))
            .await
        })
    }

    /// Aborts an open upload (its parts are discarded); one that is already
    /// gone is not an error.
    pub fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        let client = self.multipart(bucket)?;
        self.block_on(async {
            match client
                .abort_multipart(&ObjectPath::from(key), &upload_id.to_string())
                .await
            {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(self.error("abort the upload of", bucket, key, e)),
            }
        })
    }

    /// Deletes an object; a missing one is not an error.
    pub fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        self.block_on(async {
            let store = self.store(bucket).await?;
            match store.delete(&ObjectPath::from(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(self.error("delete", bucket, key, e)),
            }
        })
    }

    /// An I/O error (exit 4) naming the operation, bucket and key, the
    /// retries allowed and the server's answer, with secrets removed.
    fn error(&self, op: &str, bucket: &str, key: &str, err: object_store::Error) -> Error {
        let what = match &err {
            object_store::Error::NotFound { .. } => "no such object".to_string(),
            object_store::Error::Unauthenticated { .. }
            | object_store::Error::PermissionDenied { .. } => format!(
                "access denied; check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS profile): {}",
                server_message(&err.to_string())
            ),
            _ => server_message(&err.to_string()),
        };
        Error::Io(redact(&format!(
            "S3 {op} of `s3://{bucket}/{key}` failed (bucket `{bucket}`, key `{key}`, up to {} retries): {what}",
            self.settings.max_retries
        )))
    }
}

/// Whether a write failed because the store does not implement conditional
/// requests (HTTP 501 `NotImplemented`, or a client configured without them).
fn refuses_conditions(err: &object_store::Error) -> bool {
    matches!(err, object_store::Error::NotImplemented { .. }) || {
        let text = err.to_string();
        text.contains("NotImplemented") || text.contains("501 Not Implemented")
    }
}

/// The useful part of an object store error: an S3 XML error body is
/// reduced to its `Code` and `Message` (it may echo request details).
fn server_message(text: &str) -> String {
    let tag = |name: &str| -> Option<String> {
        let start = text.find(&format!("<{name}>"))? + name.len() + 2;
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].to_string())
    };
    if let Some(code) = tag("Code") {
        let before = text.split('<').next().unwrap_or("").trim();
        let message = tag("Message").unwrap_or_default();
        return format!("{before} {code}: {message}").trim().to_string();
    }
    text.to_string()
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

    #[test]
    fn xml_error_bodies_are_reduced_to_code_and_message() {
        let body = "Client error with status 403 Forbidden: <?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature does not match</Message><StringToSign>AWS4-HMAC secret-ish</StringToSign></Error>";
        assert_eq!(
            server_message(body),
            "Client error with status 403 Forbidden: SignatureDoesNotMatch: The request signature does not match"
        );
        assert_eq!(server_message("plain"), "plain");
    }
}
