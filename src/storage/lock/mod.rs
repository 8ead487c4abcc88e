//! One run at a time writes a directory or S3 prefix: the output partition
//! (taken before anything is staged and held until the publish ends) or
//! the activity store. docs/OPERATING.md, "Locks".
//!
//! - **Local disk**: an advisory `flock` on `<output>/.as_of=DATE.lock`. The
//!   kernel releases it when the holder exits, killed or not, so the next
//!   run takes over at once. The file holds the holder (run id, host, pid,
//!   start) for the message of a run that finds it taken. The holder
//!   removes the file before it lets go, so a finished run leaves nothing;
//!   a run that gets the lock checks that the path still names the file it
//!   locked (else it locked a removed file and tries again).
//! - **S3**: a lease object `<prefix>/.as_of=DATE.lock`, created with a
//!   conditional put (`If-None-Match: *`), holding the run id, host, pid,
//!   start and the multipart uploads the run has open. A thread renews it
//!   (`If-Match` its ETag) every third of `lock_expiry_secs`; the run
//!   deletes it at the end. A lease whose ETag stays unchanged for
//!   `lock_expiry_secs` of the watching run's own clock belongs to a dead
//!   run: it is taken over (again `If-Match`, so only one run wins), with a
//!   warning naming the dead run, and its open uploads are aborted. Every
//!   write that publishes is fenced by the lease ([`lease`]).
//! - `output.lock: none`: no lock.
//!
//! A run that finds the lock taken waits up to `--wait-lock` seconds for a
//! live holder, then stops with exit code 5 and a message naming the holder
//! (on S3 it first watches the lease until its holder shows it is alive).

mod lease;
mod local;
mod watch;

pub use lease::Lease;
pub(crate) use local::try_flock;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::s3::S3;
use crate::storage::Location;

/// Whether runs lock what they write (`output.lock`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LockSetting {
    #[default]
    Auto,
    None,
}

/// How long a waiting run sleeps between two tries.
pub(super) const POLL: Duration = Duration::from_millis(200);

/// How a run asks for the lock.
#[derive(Debug, Clone)]
pub struct LockRequest<'a> {
    pub setting: LockSetting,
    pub run_id: &'a str,
    /// How long to wait for a lock another run holds (`--wait-lock`).
    pub wait: Duration,
    /// Lifetime of an S3 lease without renewal.
    pub expiry: Duration,
}

/// Who holds a lock: written into the lock file or lease object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holder {
    pub run_id: String,
    pub host: String,
    pub pid: u32,
    pub started_at: String,
    /// S3 only: when the lease ends unless renewed, on the holder's clock:
    /// for people reading the lease; runs judge expiry on their own clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// S3 only: multipart uploads this run has open (key, upload id), so
    /// that the run that takes over a dead run's lease can abort them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<(String, String)>,
}

impl Holder {
    pub(super) fn new(run_id: &str) -> Holder {
        Holder {
            run_id: run_id.to_string(),
            host: host_name(),
            pid: std::process::id(),
            started_at: timestamp(Utc::now()),
            expires_at: None,
            uploads: Vec::new(),
        }
    }

    pub(super) fn describe(&self) -> String {
        let mut text = format!(
            "run `{}` (host `{}`, pid {}, since {}",
            self.run_id, self.host, self.pid, self.started_at
        );
        if let Some(expires) = &self.expires_at {
            text.push_str(&format!(", lease until {expires} on its clock"));
        }
        text.push(')');
        text
    }
}

/// A held lock (of an output partition or of the activity store), held
/// until dropped or released.
pub struct Lock {
    held: Held,
}

enum Held {
    None,
    /// Held for its `Drop`, which releases the lock.
    Local(#[allow(dead_code)] local::LockFile),
    S3(lease::Lease),
}

impl Lock {
    /// Takes the lock `name` under `target` (a local lock file, or an S3
    /// lease): the partition's, or another directory's (the activity store).
    pub fn acquire(
        target: &Location,
        name: &str,
        s3: Option<&Arc<S3>>,
        request: &LockRequest,
    ) -> Result<Lock> {
        let held = match (request.setting, target) {
            (LockSetting::None, _) => Held::None,
            (LockSetting::Auto, Location::Local(dir)) => {
                Held::Local(local::lock_file(dir, name, request)?)
            }
            (LockSetting::Auto, Location::S3 { bucket, key }) => {
                let s3 = s3.ok_or_else(|| Error::other("S3 client missing for an s3:// output"))?;
                let key = if key.is_empty() || key.ends_with('/') {
                    format!("{key}{name}")
                } else {
                    format!("{key}/{name}")
                };
                Held::S3(lease::Lease::acquire(s3.clone(), bucket, &key, request)?)
            }
        };
        Ok(Lock { held })
    }

    /// The S3 lease, when the lock is one.
    pub fn lease(&self) -> Option<&lease::Lease> {
        match &self.held {
            Held::S3(lease) => Some(lease),
            _ => None,
        }
    }

    /// Proves the lock is still this run's right before a write that
    /// publishes (an S3 lease is rewritten with `If-Match`, see
    /// [`lease`]); fails with exit 5 when another run took it over.
    pub fn confirm(&self) -> Result<()> {
        match &self.held {
            Held::S3(lease) => lease.confirm(),
            _ => Ok(()),
        }
    }

    /// Fails when the lock is already known to be lost (no request).
    pub fn check(&self) -> Result<()> {
        match &self.held {
            Held::S3(lease) => lease.check(),
            _ => Ok(()),
        }
    }

    /// Records the ETag of every object under `location` (S3 with a lease):
    /// the conditions of this run's fenced writes there ([`Lock::put`]).
    pub fn guard(&self, location: &Location) -> Result<()> {
        match (&self.held, location) {
            (Held::S3(lease), Location::S3 { key, .. }) => lease.guard(key),
            _ => Ok(()),
        }
    }

    /// Writes a small object that publishes to S3: fenced by the lease
    /// ([`lease::Lease::put`]), or a plain write without one.
    pub fn put(&self, s3: &S3, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<()> {
        match &self.held {
            Held::S3(lease) => lease.put(key, &bytes),
            _ => s3.put_bytes(bucket, key, bytes),
        }
    }

    /// Deletes an object that publishing removes from S3, after confirming
    /// the lease when there is one.
    pub fn delete(&self, s3: &S3, bucket: &str, key: &str) -> Result<()> {
        match &self.held {
            Held::S3(lease) => lease.delete(key),
            _ => s3.delete(bucket, key),
        }
    }

    /// Releases the lock (also done on drop, ignoring errors).
    pub fn release(mut self) -> Result<()> {
        match std::mem::replace(&mut self.held, Held::None) {
            Held::S3(lease) => lease.release(),
            _ => Ok(()),
        }
    }
}

pub(super) fn locked(what: &str, holder: &str, waited: Duration) -> Error {
    Error::Locked(format!(
        "the output partition is locked by {holder} (`{what}`); waited {}s. Another run is publishing \
         it: try again later, or pass `--wait-lock SECONDS` to wait for it",
        waited.as_secs()
    ))
}

pub(super) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most buffer.len() bytes into the buffer.
    let rc = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buffer.iter().position(|b| *b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).to_string()
}
