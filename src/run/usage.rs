//! What a stage used besides wall time (docs/OUTPUTS.md#_manifestjson,
//! `resources`): the process's CPU seconds (user and system, every thread)
//! and its peak resident memory while the stage ran.
//!
//! CPU comes from `getrusage(RUSAGE_SELF)`. The peak is the kernel's
//! high-water mark of the process's resident set (`VmHWM`), reset when a
//! stage starts (`/proc/self/clear_refs`, Linux); where it cannot be reset,
//! or there is no `/proc`, each stage reports the process's peak so far
//! (`ru_maxrss`), which the manifest says (`peak_rss_scope`).

/// The process's CPU time so far, user plus system, in seconds.
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct it is given and
    // reads nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Resets the high-water mark of the resident set to the current size, so
/// that the next [`peak_rss_bytes`] is the peak of what runs in between.
/// Returns false where the kernel offers no reset.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The peak resident set since the last [`reset_peak`] (`VmHWM`), or the
/// process's peak so far (`ru_maxrss`) where `/proc` is not there.
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kib) = vm_hwm_kib(&status) {
        return kib * 1024;
    }
    // SAFETY: as in cpu_seconds.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0;
    }
    // Kilobytes on Linux, bytes on macOS.
    let max = usage.ru_maxrss.max(0) as u64;
    if cfg!(target_os = "macos") {
        max
    } else {
        max * 1024
    }
}

/// `VmHWM:   123456 kB` of `/proc/self/status`, in KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:")
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
        assert_eq!(vm_hwm_kib(status), Some(4321));
        assert_eq!(vm_hwm_kib("Name:\tx\n"), None);
    }

    #[test]
    fn work_shows_in_cpu_seconds_and_a_large_buffer_in_the_peak() {
        let before = cpu_seconds();
        // About 0.05 s of arithmetic the optimizer cannot drop.
        let mut x = 0u64;
        let started = std::time::Instant::now();
        while started.elapsed().as_millis() < 50 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        assert!(cpu_seconds() - before >= 0.02, "{x}");
        if reset_peak() {
            let low = peak_rss_bytes();
            // 256 MiB touched page by page raise the high-water mark by
            // about that much.
            let buffer = std::hint::black_box(vec![1u8; 256 << 20]);
            let high = peak_rss_bytes();
            assert!(high >= low + (200 << 20), "{low} → {high}");
            drop(buffer);
            assert!(reset_peak());
            assert!(peak_rss_bytes() < high - (100 << 20));
        }
    }
}
