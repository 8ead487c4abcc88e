//! How a run that finds an S3 lease taken watches it (docs/OPERATING.md#locks):
//! the holder is presumed dead only when the lease's ETag stays the same
//! for `lock_expiry_secs` of this run's own monotonic clock; a change or a
//! release shows a live holder.

use std::time::{Duration, Instant};

use super::{locked, Holder, LockRequest};
use crate::error::{Error, Result};

/// What a run that finds the lease taken has seen of it.
pub(super) struct Watch {
    started: Instant,
    /// `--wait-lock`: how long to wait for a live holder.
    wait: Duration,
    pub(super) expiry: Duration,
    /// The lease's ETag as first seen, and when (this run's clock).
    seen: Option<(String, Instant)>,
    /// Who holds it, as last read.
    holder: Option<Holder>,
    /// Whether the holder showed it is alive: renewed or released its lease.
    alive: bool,
    /// Whether this run has found the lease held by another run.
    found: bool,
    attempts: u32,
}

impl Watch {
    pub(super) fn new(request: &LockRequest) -> Watch {
        Watch {
            started: Instant::now(),
            wait: request.wait,
            expiry: request.expiry,
            seen: None,
            holder: None,
            alive: false,
            found: false,
            attempts: 0,
        }
    }

    /// Counts an attempt; past the last moment any rule could need (the
    /// wait, or the expiry a dead holder needs, twice over), gives up.
    pub(super) fn attempt(&mut self, shown: &str) -> Result<()> {
        self.attempts += 1;
        let limit = 2 * self.wait.max(self.expiry) + Duration::from_secs(10);
        if self.started.elapsed() > limit {
            return Err(Error::Locked(format!(
                "gave up on the lease `{shown}` after {} attempts over {}s: it kept changing hands",
                self.attempts,
                self.started.elapsed().as_secs()
            )));
        }
        Ok(())
    }

    /// Looks at the lease as read now (`e_tag`); true once it has stayed the
    /// same for the expiry on this run's clock (its holder is presumed dead).
    pub(super) fn expired(&mut self, e_tag: &str, holder: Option<Holder>, shown: &str) -> bool {
        self.found = true;
        match &self.seen {
            Some((seen, since)) if seen == e_tag => {
                self.holder = holder;
                return since.elapsed() >= self.expiry;
            }
            Some(_) => self.alive = true,
            None => crate::log::info(
                "lock",
                &format!(
                    "`{shown}` is held by {}; watching it: it is taken over if it stays unchanged for {}s \
                     (`output.lock_expiry_secs`; a live run renews it every {}s)",
                    describe(holder.as_ref()),
                    self.expiry.as_secs(),
                    (self.expiry / 3).as_secs()
                ),
            ),
        }
        self.seen = Some((e_tag.to_string(), Instant::now()));
        self.holder = holder;
        self.expiry.is_zero()
    }

    /// The holder released the lease as this run looked: it was alive.
    pub(super) fn released(&mut self) {
        self.alive = true;
        self.seen = None;
        self.found = true;
    }

    /// Whether this run found the lease held and its wait is over: it may
    /// then only take over a lease left unchanged for the expiry.
    pub(super) fn only_takeover(&self) -> bool {
        self.found && self.started.elapsed() >= self.wait
    }

    /// Exit 5 once the holder has shown it is alive and `--wait-lock` has
    /// passed; None while this run should keep watching.
    pub(super) fn give_up(&self, shown: &str) -> Option<Error> {
        (self.alive && self.started.elapsed() >= self.wait)
            .then(|| locked(shown, &describe(self.holder.as_ref()), self.wait))
    }
}

pub(super) fn describe(holder: Option<&Holder>) -> String {
    holder
        .map(|h| h.describe())
        .unwrap_or_else(|| "another run".into())
}
