//! Minimal structured logging on stderr: one line per stage, `text` or `json`.
//! Quiet (`-q`) prints only warnings and errors; verbose (`-v`) adds debug lines.

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

struct Settings {
    format: Format,
    min_level: Level,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Sets the format and verbosity once, at start-up.
pub fn init(format: Format, quiet: bool, verbose: bool) {
    let min_level = if quiet {
        Level::Warn
    } else if verbose {
        Level::Debug
    } else {
        Level::Info
    };
    let _ = SETTINGS.set(Settings { format, min_level });
}

pub fn format() -> Format {
    SETTINGS.get().map(|s| s.format).unwrap_or(Format::Text)
}

/// Writes one log line for `stage` when `level` passes the verbosity filter.
pub fn emit(level: Level, stage: &str, message: &str) {
    let (format, min_level) = SETTINGS
        .get()
        .map(|s| (s.format, s.min_level))
        .unwrap_or((Format::Text, Level::Info));
    if level < min_level {
        return;
    }
    let message = &crate::redact::redact(message);
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    // Hold the progress lock so that the live line never interleaves.
    let _live = PROGRESS.get().map(|p| {
        let mut guard = p.lock().unwrap_or_else(|e| e.into_inner());
        guard.erase();
        guard
    });
    match format {
        Format::Text => eprintln!("{ts} {:<5} {stage}: {message}", level.name()),
        Format::Json => {
            let line = serde_json::json!({
                "ts": ts.to_string(),
                "level": level.name().to_lowercase(),
                "stage": stage,
                "message": message,
            });
            eprintln!("{line}");
        }
    }
}

pub fn info(stage: &str, message: &str) {
    emit(Level::Info, stage, message)
}

pub fn warn(stage: &str, message: &str) {
    emit(Level::Warn, stage, message)
}

pub fn debug(stage: &str, message: &str) {
    emit(Level::Debug, stage, message)
}

/// The live progress line: the running stage and its elapsed time, redrawn
/// in place on a terminal. Nothing is drawn when stderr is not a terminal,
/// in JSON format or with `-q`, so logs and pipes get only the stage lines.
struct Live {
    stage: Option<(String, Instant)>,
    /// Whether a live line is on the screen (and must be erased before a log line).
    shown: bool,
}

impl Live {
    /// Clears the live line from the screen, if one is shown.
    fn erase(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }
}

static PROGRESS: OnceLock<Mutex<Live>> = OnceLock::new();

fn live_enabled() -> bool {
    let (format, min_level) = SETTINGS
        .get()
        .map(|s| (s.format, s.min_level))
        .unwrap_or((Format::Text, Level::Info));
    format == Format::Text && min_level <= Level::Info && std::io::stderr().is_terminal()
}

/// Whether a person reads the log on a terminal (text format, not `-q`):
/// then `run` ends with a short headline table.
pub fn terminal() -> bool {
    live_enabled()
}

/// Marks `stage` as running (`None`: nothing runs) for the live line.
pub fn progress(stage: Option<&str>) {
    if !live_enabled() {
        return;
    }
    let live = PROGRESS.get_or_init(|| {
        std::thread::spawn(redraw);
        Mutex::new(Live {
            stage: None,
            shown: false,
        })
    });
    let mut live = live.lock().unwrap_or_else(|e| e.into_inner());
    live.erase();
    live.stage = stage.map(|s| (s.to_string(), Instant::now()));
}

/// Redraws the live line a few times a second once a stage has run for 1 s.
fn redraw() {
    let frames = ['|', '/', '-', '\\'];
    let mut tick = 0usize;
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let Some(live) = PROGRESS.get() else { continue };
        let mut live = live.lock().unwrap_or_else(|e| e.into_inner());
        let Some((stage, started)) = &live.stage else {
            continue;
        };
        let elapsed = started.elapsed().as_secs_f64();
        if elapsed < 1.0 {
            continue;
        }
        tick += 1;
        eprint!(
            "\r\x1b[2K{} {stage}: running for {elapsed:.0}s",
            frames[tick % 4]
        );
        let _ = std::io::stderr().flush();
        live.shown = true;
    }
}
