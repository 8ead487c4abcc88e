//! One error type for the whole job. Each variant knows its exit code (SPEC §8):
//! 2 invalid command line or pipeline file, 3 input data broke a rule of §4,
//! 4 an input or output could not be read or written, 5 another run holds
//! the output partition's lock, 1 anything else; 128 + N when signal N
//! (SIGINT, SIGTERM) stopped the run where it could still clean up.

use polars::prelude::PolarsError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline file or the command line is invalid (exit 2).
    #[error("{message}")]
    Config {
        message: String,
        hint: Option<String>,
    },
    /// Input data broke a rule of SPEC §4 (exit 3).
    #[error("{0}")]
    Data(String),
    /// An input or output could not be read or written (exit 4).
    #[error("{0}")]
    Io(String),
    /// Another run holds the lock of the output partition (exit 5): a
    /// scheduler can tell "another run is publishing" from a failure.
    #[error("{0}")]
    Locked(String),
    /// Anything else (exit 1): a bug or an engine failure.
    #[error("{0}")]
    Other(String),
    /// SIGINT or SIGTERM stopped the run during a step that cleans up
    /// (the Spark steps): exit 128 + the signal, as a shell reports it.
    #[error("stopped by signal {0} (SIGINT is 2, SIGTERM 15); nothing was published")]
    Interrupted(i32),
}

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            hint: None,
        }
    }

    pub fn config_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } => 2,
            Error::Data(_) => 3,
            Error::Io(_) => 4,
            Error::Locked(_) => 5,
            Error::Other(_) => 1,
            Error::Interrupted(signal) => 128 + signal,
        }
    }

    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Config { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// Wraps a polars error raised while working on `what` (a source, a table).
    pub fn engine(what: &str, err: PolarsError) -> Self {
        match err {
            PolarsError::IO { .. } => Error::Io(format!("{what}: {err}")),
            // A read that failed inside the engine (the streaming engine
            // wraps errors in context): still an I/O error, exit 4.
            PolarsError::Context { .. } if is_io(&err) => Error::Io(format!("{what}: {err}")),
            PolarsError::NoData(_) => Error::Io(format!("{what}: no data: {err}")),
            other => Error::Other(format!("{what}: {other}")),
        }
    }

    pub fn io(what: impl std::fmt::Display, err: std::io::Error) -> Self {
        Error::Io(format!("{what}: {err}"))
    }
}

/// Whether a polars error is, underneath its context, an I/O error.
fn is_io(err: &PolarsError) -> bool {
    match err {
        PolarsError::IO { .. } => true,
        PolarsError::Context { error, .. } => is_io(error),
        _ => false,
    }
}
