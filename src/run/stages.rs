//! The stage timer of a run: each stage logged with its duration, kept for
//! the manifest; on a terminal a live line shows the running stage.

use std::time::Instant;

use super::usage;
use crate::error::Result;
use crate::log;
use crate::output::partition::manifest::StageResources;

/// The stages of a run, in order: the live progress line (on a terminal)
/// names the one after the last finished stage.
const STAGE_ORDER: [&str; 11] = [
    "config",
    "store",
    "spark",
    "scan",
    "check",
    "activity",
    "plan",
    "execute",
    "statistics",
    "write",
    "publish",
];

impl Drop for Stages {
    fn drop(&mut self) {
        log::progress(None);
    }
}

/// Stage timer: logs each stage and keeps the durations for the manifest;
/// on a terminal a live line shows the running stage.
pub(super) struct Stages {
    started: Instant,
    pub(super) last: Instant,
    pub(super) timings: Vec<(String, f64)>,
    /// CPU seconds and peak memory of each stage, in the order of `timings`.
    pub(super) resources: Vec<StageResources>,
    /// The process's CPU seconds when the running stage started.
    cpu: f64,
    /// Whether a stage's own peak is sampled (else it is the process's).
    sampled: bool,
}

impl Stages {
    pub(super) fn new() -> Self {
        let now = Instant::now();
        log::progress(Some(STAGE_ORDER[0]));
        Stages {
            started: now,
            last: now,
            timings: Vec::new(),
            resources: Vec::new(),
            cpu: usage::cpu_seconds(),
            sampled: usage::start_sampler() && {
                usage::take_stage_peak();
                true
            },
        }
    }

    pub(super) fn done(&mut self, stage: &str, message: &str) {
        let now = Instant::now();
        let seconds = (now - self.last).as_secs_f64();
        self.last = now;
        self.timings
            .push((stage.to_string(), (seconds * 1000.0).round() / 1000.0));
        let cpu = usage::cpu_seconds();
        let peak = if self.sampled {
            usage::take_stage_peak()
        } else {
            usage::process_peak_bytes()
        };
        // Never below a sample or an earlier stage's (the kernel's counts
        // are approximate by a few hundred KiB).
        let process = self
            .resources
            .last()
            .map_or(0, |r| r.process_peak_rss_bytes)
            .max(peak)
            .max(usage::process_peak_bytes());
        self.resources.push(StageResources {
            stage: stage.to_string(),
            cpu_seconds: ((cpu - self.cpu) * 1000.0).round() / 1000.0,
            peak_rss_bytes: peak,
            process_peak_rss_bytes: process,
        });
        self.cpu = cpu;
        log::info(stage, &format!("{message} ({seconds:.2}s)"));
        let next = STAGE_ORDER
            .iter()
            .position(|s| *s == stage)
            .and_then(|i| STAGE_ORDER.get(i + 1));
        log::progress(next.copied());
    }

    pub(super) fn total(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// Runs one part of a stage, logging its duration at debug level (`-v`).
pub(super) fn timed<T>(stage: &str, part: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let result = work();
    log::debug(
        stage,
        &format!("{part}: {:.2}s", started.elapsed().as_secs_f64()),
    );
    result
}
