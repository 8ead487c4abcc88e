//! The local lock: an advisory `flock` on a lock file that names its
//! holder; the kernel releases it when the holder exits, killed or not.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{locked, Holder, LockRequest, POLL};
use crate::error::{Error, Result};

/// A locked lock file: removed, then closed (which releases the `flock`),
/// on drop; the output directory too when this run created it and it is
/// still empty (a run that failed before publishing leaves nothing).
pub(super) struct LockFile {
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

/// Opens `dir/name` and takes an exclusive `flock` on it, waiting up to
/// `request.wait`; then writes this run as the holder.
pub(super) fn lock_file(dir: &Path, name: &str, request: &LockRequest) -> Result<LockFile> {
    let created_dir = (!dir.exists()).then(|| dir.to_path_buf());
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            format!("cannot create output directory `{}`", dir.display()),
            e,
        )
    })?;
    let path: PathBuf = dir.join(name);
    let open = || {
        use std::os::unix::fs::OpenOptionsExt;
        // Never through a symlink: a link planted at the lock's name would
        // have this run write its holder into the file it points to.
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ELOOP) {
                    Error::io_failed(format!(
                        "the lock file `{}` is a symbolic link: refused (a lock file is always a plain file this                          program creates); remove the link",
                        path.display()
                    ))
                } else {
                    Error::io(format!("cannot open the lock file `{}`", path.display()), e)
                }
            })
    };
    let mut file = open()?;
    let started = Instant::now();
    let deadline = started + request.wait;
    let mut replaced = 0u32;
    loop {
        match try_flock(&file) {
            Ok(true) if same_file(&file, &path) => break,
            // The holder removed the file as we locked it: lock the new one
            // (each holder removes it once, so this ends; bounded all the same).
            Ok(true) => {
                replaced += 1;
                if replaced > 100 && Instant::now() >= deadline {
                    return Err(Error::Locked(format!(
                        "gave up on the lock file `{}` after {replaced} attempts over {}s: it was removed and                          created again under this run each time (another program is removing it)",
                        path.display(),
                        started.elapsed().as_secs()
                    )));
                }
                file = open()?;
            }
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
        .map_err(|e| Error::other(format!("lock holder: {e}")))?;
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
pub(crate) fn try_flock(file: &File) -> std::io::Result<bool> {
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
