//! What a stage used besides wall time (docs/OUTPUTS.md#_manifestjson,
//! `resources`): the process's CPU seconds (user and system, every thread)
//! and its resident memory.
//!
//! CPU comes from `getrusage(RUSAGE_SELF)`. The process's peak is the
//! kernel's high-water mark of the resident set (`VmHWM` in
//! `/proc/self/status`, else `ru_maxrss`); it is never reset, so what a
//! parent measures (`/usr/bin/time`, a container's limit) stays true. A
//! stage's own peak is sampled: a thread reads the resident set
//! (`/proc/self/statm`) every [`SAMPLE`] and keeps the largest since the
//! stage began; a spike shorter than that can be missed, which the process
//! peak never misses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

/// How often the sampler reads the resident set.
pub const SAMPLE: Duration = Duration::from_millis(10);

/// The largest resident set sampled since the last [`take_stage_peak`].
static STAGE_PEAK: AtomicU64 = AtomicU64::new(0);
static SAMPLER: Once = Once::new();

/// The process's CPU time so far, user plus system, in seconds.
pub fn cpu_seconds() -> f64 {
    let Some(usage) = rusage() else {
        return 0.0;
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn rusage() -> Option<libc::rusage> {
    // SAFETY: getrusage writes into the zeroed struct it is given and
    // reads nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    (unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0).then_some(usage)
}

/// The process's peak resident set so far, in bytes. The kernel counts
/// resident pages per CPU and sums them approximately, so a sample of the
/// resident set can pass this mark by a few hundred KiB.
pub fn process_peak_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kib) = status_kib(&status, "VmHWM:") {
        return kib * 1024;
    }
    let max = rusage().map_or(0, |u| u.ru_maxrss.max(0) as u64);
    // Kilobytes on Linux and the BSDs, bytes on macOS.
    if cfg!(target_os = "macos") {
        max
    } else {
        max * 1024
    }
}

/// The resident set now, in bytes (None without `/proc`).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// Starts the sampler (once per process); false where the resident set
/// cannot be read, and then a stage's peak is the process's peak so far.
pub fn start_sampler() -> bool {
    if resident_bytes().is_none() {
        return false;
    }
    SAMPLER.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(|| loop {
                if let Some(now) = resident_bytes() {
                    STAGE_PEAK.fetch_max(now, Ordering::Relaxed);
                }
                std::thread::sleep(SAMPLE);
            });
    });
    true
}

/// The largest resident set sampled since the last call (the resident set
/// now included), and starts the next stage's from the resident set now.
pub fn take_stage_peak() -> u64 {
    let now = resident_bytes().unwrap_or(0);
    STAGE_PEAK.swap(now, Ordering::Relaxed).max(now)
}

/// `KEY   123456 kB` of `/proc/self/status`, in KiB.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_high_water_mark_is_read_in_kib() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    4321 kB\nVmRSS:\t  1000 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(4321));
        assert_eq!(status_kib("Name:\tx\n", "VmHWM:"), None);
    }

    #[test]
    fn work_shows_in_cpu_seconds_and_a_buffer_in_the_sampled_and_the_process_peak() {
        let before = cpu_seconds();
        // About 0.05 s of arithmetic the optimizer cannot drop.
        let mut x = 0u64;
        let started = std::time::Instant::now();
        while started.elapsed().as_millis() < 50 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        assert!(cpu_seconds() - before >= 0.02, "{x}");
        if start_sampler() {
            // A stage peak taken now could hold the past peaks of tests
            // running beside this one.
            take_stage_peak();
            // 512 MiB, every page written, held for ten samples.
            let buffer = std::hint::black_box(vec![1u8; 512 << 20]);
            let held = resident_bytes().unwrap_or(0);
            std::thread::sleep(SAMPLE * 10);
            drop(buffer);
            let peak = take_stage_peak();
            // The samples taken while the buffer was held: the resident set
            // seen then, less what the tests beside this one may have freed
            // in the meantime: they move it both ways, by up to 73 MiB
            // seen here; a missed buffer is 512 MiB.
            assert!(held >= 512 << 20, "{held}");
            assert!(peak + (192 << 20) >= held, "held {held} → peak {peak}");
            // The kernel's counters are approximate by a few hundred KiB
            // (per-CPU counts): the two agree within 1 MiB.
            assert!(process_peak_bytes() + (1 << 20) >= peak, "{peak}");
        }
    }
}
