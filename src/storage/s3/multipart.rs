//! The multipart uploads of the S3 commit (docs/OPERATING.md, "Publishing
//! to S3"): an upload is opened per table, its parts sent, and all uploads
//! completed together; an open upload is invisible to readers.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, MultipartId, PutPayload, RetryConfig};

use super::{MULTIPART_CONCURRENCY, MULTIPART_PART_SIZE, S3};
use crate::error::{Error, Result};
use crate::redact::redact;

impl S3 {
    /// The client of the multipart commit: the one client whose uploads have
    /// ids, so that an upload can be left open (invisible to readers),
    /// completed later, or aborted by another run. Built from the same
    /// settings as polars' client for the scans, credentials included (the
    /// one chain of [`super::credentials`]), so both sign as one identity.
    fn multipart(&self, bucket: &str) -> Result<Arc<AmazonS3>> {
        let mut clients = self
            .multipart
            .lock()
            .map_err(|_| Error::other("S3 client cache poisoned"))?;
        if let Some(client) = clients.get(bucket) {
            return Ok(client.clone());
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
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
                Error::io_failed(redact(&format!(
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
                    .map(|_| Err(Error::io_failed(e.to_string())))
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
}
