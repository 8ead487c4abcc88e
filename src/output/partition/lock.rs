//! One run at a time publishes a partition: a lock per output partition,
//! taken before anything is staged and held until the publish ends.
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
//!   start, expiry and the multipart uploads the run has open. A thread
//!   renews it (`If-Match` its ETag) every third of its lifetime; the run
//!   deletes it at the end. A lease past its expiry belongs to a dead run:
//!   it is taken over (again `If-Match`, so only one run wins), with a
//!   warning naming the dead run, and its open uploads are aborted.
//! - `output.lock: none`: no lock.
//!
//! A run that finds the lock taken waits up to `--wait-lock` seconds, then
//! stops with exit code 5 and a message naming the holder.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::local::partition_name;
use crate::config::LockSetting;
use crate::error::{Error, Result};
use crate::storage::s3::{Condition, Conditional, S3};
use crate::storage::Location;

/// How long a waiting run sleeps between two tries.
const POLL: Duration = Duration::from_millis(200);

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
    /// S3 only: when the lease ends unless renewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// S3 only: multipart uploads this run has open (key, upload id), so
    /// that the run that takes over a dead run's lease can abort them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<(String, String)>,
}

impl Holder {
    fn new(run_id: &str) -> Holder {
        Holder {
            run_id: run_id.to_string(),
            host: host_name(),
            pid: std::process::id(),
            started_at: timestamp(Utc::now()),
            expires_at: None,
            uploads: Vec::new(),
        }
    }

    fn describe(&self) -> String {
        let mut text = format!(
            "run `{}` (host `{}`, pid {}, since {}",
            self.run_id, self.host, self.pid, self.started_at
        );
        if let Some(expires) = &self.expires_at {
            text.push_str(&format!(", lease until {expires}"));
        }
        text.push(')');
        text
    }

    fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| t.with_timezone(&Utc) < now)
    }
}

/// The lock of one output partition, held until dropped or released.
pub struct PartitionLock {
    held: Held,
}

enum Held {
    None,
    /// Held for its `Drop`, which releases the lock.
    Local(#[allow(dead_code)] LockFile),
    S3(Lease),
}

/// A locked lock file: removed, then closed (which releases the `flock`),
/// on drop; the output directory too when this run created it and it is
/// still empty (a run that failed before publishing leaves nothing).
struct LockFile {
    path: PathBuf,
    file: Option<File>,
    created_dir: Option<PathBuf>,
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        self.file.take();
        if let Some(dir) = &self.created_dir {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

impl PartitionLock {
    /// Takes the lock of `as_of`'s partition under `target`, waiting up to
    /// `request.wait` for a run that holds it.
    pub fn acquire(
        target: &Location,
        as_of: chrono::NaiveDate,
        s3: Option<&Arc<S3>>,
        request: &LockRequest,
    ) -> Result<PartitionLock> {
        let name = format!(".{}.lock", partition_name(as_of));
        Self::acquire_named(target, &name, s3, request)
    }

    /// Takes the lock `name` under `target` (a local lock file, or an S3
    /// lease): the partition's, or another directory's (the activity store).
    pub fn acquire_named(
        target: &Location,
        name: &str,
        s3: Option<&Arc<S3>>,
        request: &LockRequest,
    ) -> Result<PartitionLock> {
        let held = match (request.setting, target) {
            (LockSetting::None, _) => Held::None,
            (LockSetting::Auto, Location::Local(dir)) => {
                Held::Local(lock_file(dir, name, request)?)
            }
            (LockSetting::Auto, Location::S3 { bucket, key }) => {
                let s3 =
                    s3.ok_or_else(|| Error::Other("S3 client missing for an s3:// output".into()))?;
                let key = if key.is_empty() || key.ends_with('/') {
                    format!("{key}{name}")
                } else {
                    format!("{key}/{name}")
                };
                Held::S3(Lease::acquire(s3.clone(), bucket, &key, request)?)
            }
        };
        Ok(PartitionLock { held })
    }

    /// The S3 lease, when the lock is one.
    pub fn lease(&self) -> Option<&Lease> {
        match &self.held {
            Held::S3(lease) => Some(lease),
            _ => None,
        }
    }

    /// Fails when the lock was lost (an S3 lease that another run took over
    /// after it expired): this run must not publish.
    pub fn check(&self) -> Result<()> {
        match &self.held {
            Held::S3(lease) => lease.check(),
            _ => Ok(()),
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

/// Opens `dir/name` and takes an exclusive `flock` on it, waiting up to
/// `request.wait`; then writes this run as the holder.
fn lock_file(dir: &Path, name: &str, request: &LockRequest) -> Result<LockFile> {
    let created_dir = (!dir.exists()).then(|| dir.to_path_buf());
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            format!("cannot create output directory `{}`", dir.display()),
            e,
        )
    })?;
    let path: PathBuf = dir.join(name);
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open the lock file `{}`", path.display()), e))
    };
    let mut file = open()?;
    let deadline = Instant::now() + request.wait;
    loop {
        match try_flock(&file) {
            Ok(true) if same_file(&file, &path) => break,
            // The holder removed the file as we locked it: lock the new one.
            Ok(true) => file = open()?,
            Ok(false) => {
                if Instant::now() >= deadline {
                    let holder = read_holder(&mut file)
                        .map(|h| h.describe())
                        .unwrap_or_else(|| "another run".to_string());
                    return Err(locked(&path.display().to_string(), &holder, request.wait));
                }
                std::thread::sleep(POLL.min(deadline - Instant::now()));
            }
            Err(e) => return Err(Error::io(format!("cannot lock `{}`", path.display()), e)),
        }
    }
    let text = serde_json::to_string(&Holder::new(request.run_id))
        .map_err(|e| Error::Other(format!("lock holder: {e}")))?;
    file.set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| file.write_all(text.as_bytes()))
        .and_then(|_| file.sync_all())
        .map_err(|e| {
            Error::io(
                format!("cannot write the lock file `{}`", path.display()),
                e,
            )
        })?;
    Ok(LockFile {
        path,
        file: Some(file),
        created_dir,
    })
}

/// The holder written in a lock file. A run writes itself there right after
/// it takes the lock: a file still empty is read again for up to a second.
fn read_holder(file: &mut File) -> Option<Holder> {
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        let mut text = String::new();
        let read = file.rewind().and_then(|_| file.read_to_string(&mut text));
        if let Ok(holder) = serde_json::from_str::<Holder>(&text) {
            return Some(holder);
        }
        if read.is_err() || Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `path` still names the open `file` (same device and inode).
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// `flock(LOCK_EX | LOCK_NB)`: Ok(false) when another process holds it.
fn try_flock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor this File owns.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        Some(libc::EINTR) => try_flock(file),
        _ => Err(err),
    }
}

fn locked(what: &str, holder: &str, waited: Duration) -> Error {
    Error::Locked(format!(
        "the output partition is locked by {holder} (`{what}`); waited {}s. Another run is publishing \
         it: try again later, or pass `--wait-lock SECONDS` to wait for it",
        waited.as_secs()
    ))
}

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
            .map_err(|_| Error::Other("lease state poisoned".into()))?;
        let mut holder = current.0.clone();
        change(&mut holder);
        holder.expires_at = Some(timestamp(Utc::now() + self.expiry));
        let body = serde_json::to_vec(&holder).map_err(|e| Error::Other(format!("lease: {e}")))?;
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
            Conditional::Written(None) => Err(Error::Io(format!(
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
    fn acquire(s3: Arc<S3>, bucket: &str, key: &str, request: &LockRequest) -> Result<Lease> {
        let shown = format!("s3://{bucket}/{key}");
        let deadline = Instant::now() + request.wait;
        let mut holder = Holder::new(request.run_id);
        loop {
            holder.expires_at = Some(timestamp(Utc::now() + request.expiry));
            let body =
                serde_json::to_vec(&holder).map_err(|e| Error::Other(format!("lease: {e}")))?;
            let e_tag = match try_lease(&s3, bucket, key, &shown, body.clone())? {
                Attempt::Taken(e_tag) => e_tag.ok_or_else(|| {
                    Error::Io(format!("the S3 store gave no ETag for the lease `{shown}`"))
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

    fn check(&self) -> Result<()> {
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
    fn release(mut self) -> Result<()> {
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

fn timestamp(t: DateTime<Utc>) -> String {
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
