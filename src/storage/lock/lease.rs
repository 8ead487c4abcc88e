//! The S3 lease: an object created with a conditional put, renewed by a
//! thread, taken over once its holder stopped renewing it, and the fence of
//! every write that publishes (docs/OPERATING.md, "Locks").
//!
//! - **Expiry on the watcher's clock.** A run that finds the lease watches
//!   its ETag; the holder is presumed dead only once that ETag has stayed the
//!   same for `lock_expiry_secs` of the watcher's own monotonic clock (a live
//!   holder rewrites it every third of that time). Two hosts' clocks are
//!   never compared.
//! - **Fencing.** Before each write that publishes, the holder rewrites the
//!   lease with `If-Match` its last ETag ([`Lease::confirm`]): a run whose
//!   lease was taken over learns it there and writes nothing more. The
//!   objects a run commits with ([`Lease::put`]: the manifest, `_SUCCESS`,
//!   the store's day files) are written with `If-Match` the ETag they had
//!   when this run looked after taking the lease (`If-None-Match: *` where
//!   there was none), so that a write delayed past a takeover fails instead
//!   of landing over the new holder's. The holder's open multipart uploads
//!   are recorded in the lease, and the run that takes it over aborts them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;

use super::watch::{describe, Watch};
use super::{timestamp, Holder, LockRequest, POLL};
use crate::error::{Error, Result};
use crate::storage::s3::{Condition, Conditional, S3};

/// How many times a fenced write is tried when its object was changed by
/// another run between this run's look and its write.
const FENCED_TRIES: u32 = 3;

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
    /// Each object this run commits with, and its ETag as this run last saw
    /// or wrote it (None: there was none).
    seen: Mutex<HashMap<String, Option<String>>>,
}

impl LeaseState {
    /// Rewrites the lease (its holder's expiry estimate renewed, `change`
    /// applied) if it is still ours; marks it lost otherwise.
    fn rewrite(&self, change: &dyn Fn(&mut Holder)) -> Result<()> {
        let mut current = self
            .current
            .lock()
            .map_err(|_| Error::other("lease state poisoned"))?;
        if self.lost.load(Ordering::SeqCst) {
            return Err(self.lost_error());
        }
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
            "this run lost its lease `s3://{}/{}`: it went unrenewed for `output.lock_expiry_secs` ({}s) as another run \
             watched it (this run was paused, or cut off from the store), and that run took the partition over; this \
             run stopped before its next write",
            self.bucket,
            self.key,
            self.expiry.as_secs()
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
        let mut watch = Watch::new(request);
        let mut holder = Holder::new(request.run_id);
        loop {
            watch.attempt(&shown)?;
            holder.expires_at = Some(timestamp(Utc::now() + request.expiry));
            let body =
                serde_json::to_vec(&holder).map_err(|e| Error::other(format!("lease: {e}")))?;
            let e_tag = match try_lease(&s3, bucket, key, body.clone(), &mut watch, &shown)? {
                Attempt::Taken(e_tag) => e_tag.ok_or_else(|| {
                    Error::io_failed(format!("the S3 store gave no ETag for the lease `{shown}`"))
                })?,
                Attempt::Again => continue,
                Attempt::Held => {
                    if let Some(error) = watch.give_up(&shown) {
                        return Err(error);
                    }
                    std::thread::sleep(POLL);
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
            seen: Mutex::new(HashMap::new()),
        });
        let (stop, stopped) = mpsc::channel::<()>();
        let state = shared.clone();
        let renewer = std::thread::spawn(move || loop {
            match stopped.recv_timeout(state.expiry / 3) {
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = state.rewrite(&|_| {}) {
                        crate::log::warn("lock", &format!("cannot renew the lease: {e}"));
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

    /// Proves the lease is still this run's right before a write that
    /// publishes: rewrites it with `If-Match` its last ETag (which also
    /// renews it). A lease taken over is exit 5 and nothing more is written.
    pub(super) fn confirm(&self) -> Result<()> {
        self.shared.rewrite(&|_| {})
    }

    /// Records the ETag of every object under `prefix`: the conditions of
    /// this run's fenced writes there ([`Lease::put`]).
    pub(super) fn guard(&self, prefix: &str) -> Result<()> {
        let state = &self.shared;
        let listed = state.s3.list(&state.bucket, prefix)?;
        let mut seen = state
            .seen
            .lock()
            .map_err(|_| Error::other("lease state poisoned"))?;
        for object in listed {
            seen.insert(object.key, object.e_tag);
        }
        Ok(())
    }

    /// Writes a small object that publishes, fenced: the lease confirmed
    /// first, then the object written with `If-Match` the ETag this run saw
    /// (`If-None-Match: *` where it saw none). When the object changed
    /// meanwhile, the lease decides: taken over, this run stops (exit 5);
    /// still ours, a run that had lost the lease wrote it late, and this
    /// run looks again and writes over it (at most [`FENCED_TRIES`] times).
    pub(super) fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let state = &self.shared;
        let seen = |key: &str| -> Result<Option<String>> {
            let seen = state
                .seen
                .lock()
                .map_err(|_| Error::other("lease state poisoned"))?;
            Ok(seen.get(key).cloned().flatten())
        };
        let remember = |key: &str, e_tag: Option<String>| {
            if let Ok(mut seen) = state.seen.lock() {
                seen.insert(key.to_string(), e_tag);
            }
        };
        for _ in 0..FENCED_TRIES {
            self.confirm()?;
            let condition = seen(key)?.map_or(Condition::Absent, Condition::Is);
            match state
                .s3
                .put_if(&state.bucket, key, bytes.to_vec(), &condition)?
            {
                Conditional::Written(e_tag) => {
                    remember(key, e_tag);
                    return Ok(());
                }
                Conditional::Conflict => {
                    self.confirm()?;
                    let now = state.s3.e_tag(&state.bucket, key)?;
                    crate::log::warn(
                        "lock",
                        &format!(
                            "`s3://{}/{key}` was written by another run after this run looked (a run that had lost \
                             this lease); this run holds the lease and writes it again",
                            state.bucket
                        ),
                    );
                    remember(key, now.flatten());
                }
            }
        }
        Err(Error::io_failed(format!(
            "`s3://{}/{key}` changed under this run {FENCED_TRIES} times while it held the lease `s3://{}/{}`: another \
             process writes into this output without the lock; nothing more was written",
            state.bucket, state.bucket, state.key
        )))
    }

    /// Deletes an object that publishing removes, after confirming the lease.
    pub(super) fn delete(&self, key: &str) -> Result<()> {
        self.confirm()?;
        let state = &self.shared;
        state.s3.delete(&state.bucket, key)?;
        if let Ok(mut seen) = state.seen.lock() {
            seen.insert(key.to_string(), None);
        }
        Ok(())
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
        match state.s3.e_tag(&state.bucket, &state.key)? {
            Some(Some(e_tag)) if e_tag == ours => state.s3.delete(&state.bucket, &state.key),
            Some(_) => {
                // Every write of this run was fenced and succeeded; another
                // run took the lease over after the last of them.
                crate::log::warn(
                    "lock",
                    &format!(
                        "the lease `s3://{}/{}` was taken over by another run after this run's last write (this run                          was paused or cut off for longer than `output.lock_expiry_secs`); that run publishes after it",
                        state.bucket, state.key
                    ),
                );
                Ok(())
            }
            None => Ok(()),
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
    /// Another run holds it.
    Held,
    /// It changed hands meanwhile: try again at once.
    Again,
}

/// One try: create the lease; when it exists and has stayed unchanged for
/// the expiry on this run's clock, take it over (`If-Match` its ETag, so
/// only one run wins).
fn try_lease(
    s3: &S3,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    watch: &mut Watch,
    shown: &str,
) -> Result<Attempt> {
    // Once this run has found the lease held and its wait is over, it takes
    // the lease only from a dead holder: a lease that vanished was released
    // by a live one, as on local disk, where such a run stops at once.
    if !watch.only_takeover() {
        if let Conditional::Written(e_tag) =
            s3.put_if(bucket, key, body.clone(), &Condition::Absent)?
        {
            return Ok(Attempt::Taken(e_tag));
        }
    }
    let Some((text, e_tag)) = s3.get_tagged(bucket, key)? else {
        watch.released();
        return Ok(match watch.give_up(shown) {
            Some(_) => Attempt::Held,
            None => Attempt::Again,
        });
    };
    let other: Option<Holder> = serde_json::from_slice(&text).ok();
    let Some(e_tag) = e_tag else {
        return Err(Error::io_failed(format!(
            "the S3 store gave no ETag for the lease `{shown}`: it cannot be watched"
        )));
    };
    if !watch.expired(&e_tag, other.clone(), shown) {
        return Ok(Attempt::Held);
    }
    Ok(match s3.put_if(bucket, key, body, &Condition::Is(e_tag))? {
        Conditional::Written(e_tag) => {
            take_over(s3, bucket, shown, other.as_ref(), watch.expiry);
            Attempt::Taken(e_tag)
        }
        Conditional::Conflict => Attempt::Again,
    })
}

/// After taking over a lease left unchanged for its expiry: warn naming the
/// dead run and abort the multipart uploads it left open (so that none of
/// them can be completed by that run if it was only paused).
fn take_over(s3: &S3, bucket: &str, shown: &str, dead: Option<&Holder>, expiry: Duration) {
    crate::log::warn(
        "lock",
        &format!(
            "took over the lease `{shown}` of {}: it stayed unchanged for {}s, so that run is presumed dead",
            describe(dead),
            expiry.as_secs()
        ),
    );
    for (key, upload_id) in dead.map(|h| h.uploads.as_slice()).unwrap_or_default() {
        match s3.abort_upload(bucket, key, upload_id) {
            Ok(()) => crate::log::info(
                "lock",
                &format!("aborted the upload of `s3://{bucket}/{key}` the dead run left open"),
            ),
            Err(e) => crate::log::warn("lock", &format!("{e}")),
        }
    }
}
