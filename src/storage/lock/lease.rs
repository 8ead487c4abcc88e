//! The S3 lease: an object created with a conditional put, renewed by a
//! thread, taken over once expired.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{locked, timestamp, Holder, LockRequest, POLL};
use crate::error::{Error, Result};
use crate::storage::s3::{Condition, Conditional, S3};

/// A held S3 lease, renewed by a thread until released.
pub struct Lease {
    shared: Arc<LeaseState>,
    stop: Option<mpsc::Sender<()>>,
    renewer: Option<std::thread::JoinHandle<()>>,
}

struct LeaseState {
    s3: Arc<S3>,
    bucket: String,
    key: String,
    expiry: Duration,
    /// The lease as last written, and its ETag.
    current: Mutex<(Holder, String)>,
    lost: AtomicBool,
}

impl LeaseState {
    /// Rewrites the lease (new expiry, `change` applied) if it is still
    /// ours; marks it lost otherwise.
    fn rewrite(&self, change: &dyn Fn(&mut Holder)) -> Result<()> {
        let mut current = self
            .current
            .lock()
            .map_err(|_| Error::other("lease state poisoned"))?;
        let mut holder = current.0.clone();
        change(&mut holder);
        holder.expires_at = Some(timestamp(Utc::now() + self.expiry));
        let body = serde_json::to_vec(&holder).map_err(|e| Error::other(format!("lease: {e}")))?;
        match self.s3.put_if(
            &self.bucket,
            &self.key,
            body,
            &Condition::Is(current.1.clone()),
        )? {
            Conditional::Written(Some(e_tag)) => {
                *current = (holder, e_tag);
                Ok(())
            }
            Conditional::Written(None) => Err(Error::io_failed(format!(
                "the S3 store gave no ETag for the lease `s3://{}/{}`",
                self.bucket, self.key
            ))),
            Conditional::Conflict => {
                self.lost.store(true, Ordering::SeqCst);
                Err(self.lost_error())
            }
        }
    }

    fn lost_error(&self) -> Error {
        Error::Locked(format!(
            "this run lost its lease `s3://{}/{}`: it was not renewed in time and another run took the partition over; nothing was published by this run",
            self.bucket, self.key
        ))
    }
}

impl Lease {
    pub(super) fn acquire(
        s3: Arc<S3>,
        bucket: &str,
        key: &str,
        request: &LockRequest,
    ) -> Result<Lease> {
        let shown = format!("s3://{bucket}/{key}");
        let deadline = Instant::now() + request.wait;
        let mut holder = Holder::new(request.run_id);
        loop {
            holder.expires_at = Some(timestamp(Utc::now() + request.expiry));
            let body =
                serde_json::to_vec(&holder).map_err(|e| Error::other(format!("lease: {e}")))?;
            let e_tag = match try_lease(&s3, bucket, key, &shown, body.clone())? {
                Attempt::Taken(e_tag) => e_tag.ok_or_else(|| {
                    Error::io_failed(format!("the S3 store gave no ETag for the lease `{shown}`"))
                })?,
                Attempt::Again => continue,
                Attempt::Held(other) => {
                    if Instant::now() >= deadline {
                        let holder = other
                            .map(|h| h.describe())
                            .unwrap_or_else(|| "another run".into());
                        return Err(locked(&shown, &holder, request.wait));
                    }
                    std::thread::sleep(POLL.min(deadline - Instant::now()));
                    continue;
                }
            };
            // A store that ignores `If-None-Match` would let a second run
            // overwrite this lease: a second create must be refused.
            if let Conditional::Written(_) = s3.put_if(bucket, key, body, &Condition::Absent)? {
                let _ = s3.delete(bucket, key);
                return Err(s3.refuses_conditions(&format!(
                    "a second create of `{shown}` with `If-None-Match: *` was accepted"
                )));
            }
            return Ok(Lease::start(s3, bucket, key, request.expiry, holder, e_tag));
        }
    }

    fn start(
        s3: Arc<S3>,
        bucket: &str,
        key: &str,
        expiry: Duration,
        holder: Holder,
        e_tag: String,
    ) -> Lease {
        let shared = Arc::new(LeaseState {
            s3,
            bucket: bucket.to_string(),
            key: key.to_string(),
            expiry,
            current: Mutex::new((holder, e_tag)),
            lost: AtomicBool::new(false),
        });
        let (stop, stopped) = mpsc::channel::<()>();
        let state = shared.clone();
        let renewer = std::thread::spawn(move || loop {
            match stopped.recv_timeout(state.expiry / 3) {
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = state.rewrite(&|_| {}) {
                        crate::log::warn("publish", &format!("cannot renew the lease: {e}"));
                        if state.lost.load(Ordering::SeqCst) {
                            return;
                        }
                    }
                }
                _ => return,
            }
        });
        Lease {
            shared,
            stop: Some(stop),
            renewer: Some(renewer),
        }
    }

    /// Records the multipart uploads this run has open (replacing the list).
    pub fn record_uploads(&self, uploads: Vec<(String, String)>) -> Result<()> {
        self.shared.rewrite(&|h| h.uploads = uploads.clone())
    }

    pub(super) fn check(&self) -> Result<()> {
        if self.shared.lost.load(Ordering::SeqCst) {
            return Err(self.shared.lost_error());
        }
        Ok(())
    }

    fn stop_renewing(&mut self) {
        self.stop.take();
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.join();
        }
    }

    /// Releases the lease at the end of a run ([`Lease::end`]).
    pub(super) fn release(mut self) -> Result<()> {
        self.end()
    }

    /// Stops renewing and deletes the lease if it is still ours (its ETag
    /// is the one this run last wrote).
    fn end(&mut self) -> Result<()> {
        self.stop_renewing();
        let state = &self.shared;
        if state.lost.load(Ordering::SeqCst) {
            return Ok(());
        }
        let ours = state
            .current
            .lock()
            .map(|c| c.1.clone())
            .unwrap_or_default();
        match state.s3.get_tagged(&state.bucket, &state.key)? {
            Some((_, Some(e_tag))) if e_tag == ours => state.s3.delete(&state.bucket, &state.key),
            _ => Ok(()),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Not released (a failed run): best effort, errors ignored.
        if self.renewer.is_some() {
            let _ = self.end();
        }
    }
}

/// What one try for a lease gave.
enum Attempt {
    /// The lease is ours; its ETag.
    Taken(Option<String>),
    /// A live run holds it (its holder, when readable).
    Held(Option<Holder>),
    /// It changed hands meanwhile: try again at once.
    Again,
}

/// One try: create the lease; when it exists and has expired, take it over
/// (`If-Match` its ETag, so only one run wins).
fn try_lease(s3: &S3, bucket: &str, key: &str, shown: &str, body: Vec<u8>) -> Result<Attempt> {
    if let Conditional::Written(e_tag) = s3.put_if(bucket, key, body.clone(), &Condition::Absent)? {
        return Ok(Attempt::Taken(e_tag));
    }
    let Some((text, e_tag)) = s3.get_tagged(bucket, key)? else {
        return Ok(Attempt::Again);
    };
    let other: Option<Holder> = serde_json::from_slice(&text).ok();
    let expired = other.as_ref().is_none_or(|h| h.expired(Utc::now()));
    let (true, Some(e_tag)) = (expired, e_tag) else {
        return Ok(Attempt::Held(other));
    };
    Ok(match s3.put_if(bucket, key, body, &Condition::Is(e_tag))? {
        Conditional::Written(e_tag) => {
            take_over(s3, bucket, shown, other.as_ref());
            Attempt::Taken(e_tag)
        }
        Conditional::Conflict => Attempt::Again,
    })
}

/// After taking over an expired lease: warn naming the dead run and abort
/// the multipart uploads it left open.
fn take_over(s3: &S3, bucket: &str, shown: &str, dead: Option<&Holder>) {
    let who = dead
        .map(|h| h.describe())
        .unwrap_or_else(|| "an unreadable holder".into());
    crate::log::warn(
        "publish",
        &format!("took over the expired lease `{shown}` of {who}: that run is presumed dead"),
    );
    for (key, upload_id) in dead.map(|h| h.uploads.as_slice()).unwrap_or_default() {
        match s3.abort_upload(bucket, key, upload_id) {
            Ok(()) => crate::log::info(
                "publish",
                &format!("aborted the upload of `s3://{bucket}/{key}` the dead run left open"),
            ),
            Err(e) => crate::log::warn("publish", &format!("{e}")),
        }
    }
}
