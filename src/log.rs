//! Minimal structured logging on stderr: one line per stage, `text` or `json`.
//! Quiet (`-q`) prints only warnings and errors; verbose (`-v`) adds debug lines.

use std::sync::OnceLock;

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
    let message = &crate::storage::redact(message);
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
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
