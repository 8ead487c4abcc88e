//! The S3 client: one set of settings (`storage.s3` of the pipeline plus the
//! environment) for polars' reads and for our own listing and writes.
//!
//! Polars keeps one object store per bucket and settings in a cache; we take
//! our store from that same cache ([`build_object_store`] with the same
//! [`CloudOptions`]), so our listing and uploads and polars' scans share one
//! client per bucket: one connection pool, one retry policy, one set of
//! credentials.
//!
//! Credentials never come from the pipeline file: one chain
//! ([`credentials`]) reads `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
//! `AWS_SESSION_TOKEN`, then the profile `AWS_PROFILE` of the shared
//! credentials and config files, and hands the keys to every client; without
//! them the object store uses web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`,
//! EKS) or the instance metadata service. No message carries them (see
//! [`crate::redact`]).

pub mod credentials;
mod multipart;
mod settings;

pub use settings::{S3Config, S3Settings};

use std::path::Path;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::aws::AmazonS3;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use polars::io::cloud::{build_object_store, CloudOptions};
use polars::prelude::PlRefPath;

use crate::error::{Error, Result};
use crate::redact::redact;

/// Files larger than this are uploaded in parts of this size.
pub const MULTIPART_PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts of one upload in flight at once.
const MULTIPART_CONCURRENCY: usize = 4;

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
    /// The object's ETag, where the store gives one.
    pub e_tag: Option<String>,
    /// When the store last wrote it (the store's clock).
    pub modified: Option<std::time::SystemTime>,
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
                Error::io_failed(redact(&format!(
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

    /// The ETag of `s3://bucket/key`: `None` when there is no such object,
    /// `Some(None)` when the store gives no ETag.
    pub fn e_tag(&self, bucket: &str, key: &str) -> Result<Option<Option<String>>> {
        self.block_on(async {
            let store = self.store(bucket).await?;
            match store.head(&ObjectPath::from(key)).await {
                Ok(meta) => Ok(Some(meta.e_tag)),
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
                    e_tag: m.e_tag,
                    modified: Some(m.last_modified.into()),
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
            // either; its lifecycle rule cleans up (docs/OPERATING.md, "Publishing to S3").
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
                | Err(object_store::Error::Precondition { .. }) => Ok(Conditional::Conflict),
                // `If-Match` on an object that is gone is a conflict; a 404
                // to a create, or one naming the bucket, is a missing bucket:
                // no retry can help.
                Err(e @ object_store::Error::NotFound { .. })
                    if matches!(condition, Condition::Absent)
                        || e.to_string().contains("NoSuchBucket") =>
                {
                    Err(self.no_bucket(bucket, &e))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(Conditional::Conflict),
                Err(e) if refuses_conditions(&e) => Err(self.refuses_conditions(&e.to_string())),
                Err(e) => Err(self.error("conditional write", bucket, key, e)),
            }
        })
    }

    /// The error for a store that refuses (or ignores) conditional writes.
    pub fn refuses_conditions(&self, detail: &str) -> Error {
        Error::io_failed(redact(&format!(
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

    /// The error for a bucket that does not exist (exit 4, at once).
    fn no_bucket(&self, bucket: &str, err: &object_store::Error) -> Error {
        Error::io_failed(redact(&format!(
            "S3 bucket `{bucket}` does not exist{} ({}): create it, or fix the bucket in the pipeline's path",
            self.settings
                .endpoint
                .as_deref()
                .map(|e| format!(" at `{e}`"))
                .unwrap_or_default(),
            server_message(&err.to_string())
        )))
    }

    /// An I/O error (exit 4) naming the operation, bucket and key, the
    /// retries allowed and the server's answer, with secrets removed. The
    /// object store's error is not attached as the source: it may echo
    /// request details, so only its redacted code and message are kept.
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
        Error::io_failed(redact(&format!(
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
    fn xml_error_bodies_are_reduced_to_code_and_message() {
        let body = "Client error with status 403 Forbidden: <?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature does not match</Message><StringToSign>AWS4-HMAC secret-ish</StringToSign></Error>";
        assert_eq!(
            server_message(body),
            "Client error with status 403 Forbidden: SignatureDoesNotMatch: The request signature does not match"
        );
        assert_eq!(server_message("plain"), "plain");
    }
}
