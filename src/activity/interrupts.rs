//! SIGINT and SIGTERM during the Spark steps (docs/OPERATING.md, "Signals"):
//! while an [`Interrupts`] guard is alive, the signal only sets a flag and a
//! watcher thread interrupts the run's tagged Spark operations, so the run
//! exits through its cleanup with 128 + the signal. Outside the guard the
//! signals keep their default action (the process ends at once).
//!
//! The handlers are signal-hook's flag actions, registered once per process
//! and never removed: one records the signal, the other runs the default
//! action whenever no guard is alive.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;
use spark_connect::SparkSession;

use crate::error::{Error, Result};
use crate::log;

/// The flags the signal handlers set and read.
struct Flags {
    /// The last signal that arrived (0: none).
    signalled: Arc<AtomicUsize>,
    /// True while no guard is alive: a signal then takes its default action.
    default_action: Arc<AtomicBool>,
}

/// The handlers, registered on first use; None when registration failed
/// (the signals then keep their default action throughout).
fn flags() -> Option<&'static Flags> {
    static FLAGS: OnceLock<Option<Flags>> = OnceLock::new();
    FLAGS
        .get_or_init(|| {
            let flags = Flags {
                signalled: Arc::new(AtomicUsize::new(0)),
                default_action: Arc::new(AtomicBool::new(true)),
            };
            for signal in [SIGINT, SIGTERM] {
                let registered = flag::register_usize(signal, flags.signalled.clone(), signal as usize)
                    .and_then(|_| flag::register_conditional_default(signal, flags.default_action.clone()));
                if let Err(e) = registered {
                    log::warn(
                        "spark",
                        &format!("cannot catch signal {signal} ({e}): a signal stops the run without interrupting Spark"),
                    );
                    return None;
                }
            }
            Some(flags)
        })
        .as_ref()
}

/// An error when SIGINT or SIGTERM arrived during the Spark steps.
pub(super) fn interrupted() -> Result<()> {
    match flags().map_or(0, |f| f.signalled.load(Ordering::SeqCst)) {
        0 => Ok(()),
        signal => Err(Error::Interrupted(signal as i32)),
    }
}

/// While alive: SIGINT and SIGTERM interrupt the run's Spark operations
/// (every operation carries the run's tag) instead of killing the process,
/// so that the run exits through its usual cleanup.
pub(super) struct Interrupts {
    done: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

impl Interrupts {
    pub(super) fn watch(session: SparkSession, tag: String, remote: String) -> Interrupts {
        let done = Arc::new(AtomicBool::new(false));
        let Some(flags) = flags() else {
            return Interrupts {
                done,
                watcher: None,
            };
        };
        flags.default_action.store(false, Ordering::SeqCst);
        let watching = done.clone();
        let signalled = flags.signalled.clone();
        let watcher = std::thread::spawn(move || {
            while !watching.load(Ordering::SeqCst) {
                let signal = signalled.load(Ordering::SeqCst);
                if signal != 0 {
                    let message = match session.interrupt_tag(&tag) {
                        Ok(ids) if ids.is_empty() => format!(
                            "signal {signal}: interrupted the Spark operation(s) (none was running) at {remote}"
                        ),
                        Ok(ids) => format!(
                            "signal {signal}: interrupted the Spark operation(s) {} at {remote}",
                            ids.join(", ")
                        ),
                        Err(e) => format!(
                            "signal {signal}: could not interrupt the Spark operations at {remote}: {e}"
                        ),
                    };
                    log::warn("spark", &message);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Interrupts {
            done,
            watcher: Some(watcher),
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        if let Some(flags) = flags() {
            flags.default_action.store(true, Ordering::SeqCst);
        }
    }
}
