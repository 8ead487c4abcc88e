//! One error type for the whole job. Each variant knows its exit code
//! (docs/OPERATING.md, "Exit codes"): 2 invalid command line or pipeline
//! file, 3 input data broke a rule of docs/INPUTS.md, 4 an input or output
//! could not be read or written, 5 another run holds the lock, 1 anything
//! else; 128 + N when signal N (SIGINT, SIGTERM) stopped the run where it
//! could still clean up.
//!
//! The message is complete for a person (it names the source, file,
//! column, rule and examples, and the underlying error's text). The error
//! it was built from stays attached as [`std::error::Error::source`] for
//! programs that walk the chain. A hint (what the user can do) is a field
//! of its own, never part of the message: `main` prints it on a line of its
//! own after `hint:`.

use polars::prelude::PolarsError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error a message was built from.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline file or the command line is invalid (exit 2).
    #[error("{message}")]
    Config {
        message: String,
        hint: Option<String>,
    },
    /// Input data broke a rule of docs/INPUTS.md (exit 3).
    #[error("{message}")]
    Data {
        message: String,
        hint: Option<String>,
    },
    /// An input or output could not be read or written (exit 4).
    #[error("{message}")]
    Io {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// Another run holds the lock of the output partition (exit 5): a
    /// scheduler can tell "another run is publishing" from a failure.
    #[error("{0}")]
    Locked(String),
    /// Anything else (exit 1): a bug or an engine failure.
    #[error("{message}")]
    Other {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// SIGINT or SIGTERM stopped the run during a step that cleans up
    /// (the Spark steps): exit 128 + the signal, as a shell reports it.
    #[error("stopped by signal {0} (SIGINT is 2, SIGTERM 15); nothing was published")]
    Interrupted(i32),
}

impl Error {
    /// A configuration error (exit 2).
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            hint: None,
        }
    }

    /// A configuration error with what the user can do about it.
    pub fn config_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// Input data that broke a rule (exit 3).
    pub fn data(message: impl Into<String>) -> Self {
        Error::Data {
            message: message.into(),
            hint: None,
        }
    }

    /// Input data that broke a rule, with what the user can do about it.
    pub fn data_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Data {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A read or write that failed (exit 4), described in full by `message`.
    pub fn io_failed(message: impl Into<String>) -> Self {
        Error::Io {
            message: message.into(),
            source: None,
        }
    }

    /// A read or write that failed (exit 4): `message`, and the error it
    /// comes from attached.
    pub fn io_with(message: impl Into<String>, source: impl Into<Source>) -> Self {
        Error::Io {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A local read or write that failed on `what`: `what: the error`.
    pub fn io(what: impl std::fmt::Display, err: std::io::Error) -> Self {
        Error::io_with(format!("{what}: {err}"), err)
    }

    /// Anything else (exit 1).
    pub fn other(message: impl Into<String>) -> Self {
        Error::Other {
            message: message.into(),
            source: None,
        }
    }

    /// Anything else (exit 1), with the error it comes from attached.
    pub fn other_with(message: impl Into<String>, source: impl Into<Source>) -> Self {
        Error::Other {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } => 2,
            Error::Data { .. } => 3,
            Error::Io { .. } => 4,
            Error::Locked(_) => 5,
            Error::Other { .. } => 1,
            Error::Interrupted(signal) => 128 + signal,
        }
    }

    /// What the user can do, for the `hint:` line.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Config { hint, .. } | Error::Data { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// Every problem the checks found, as one error (docs/INPUTS.md#the-checks:
    /// a failing rule stops nothing that does not depend on it). One problem
    /// is itself; several are listed, numbered, each with its hint, under the
    /// exit code of the first (the inputs are checked in order: files, then
    /// columns, then rows).
    pub fn all(mut problems: Vec<Error>) -> Option<Error> {
        if problems.len() < 2 {
            return problems.pop();
        }
        let mut message = format!(
            "{} problem(s) in the inputs, each found on its own:",
            problems.len()
        );
        for (i, problem) in problems.iter().enumerate() {
            let text = problem.to_string().replace('\n', "\n     ");
            message.push_str(&format!("\n  {}. {text}", i + 1));
            if let Some(hint) = problem.hint() {
                message.push_str(&format!("\n     hint: {hint}"));
            }
        }
        // Another run holding a lock is not a fault of these inputs: exit 5
        // wherever it is listed; otherwise the first problem's code.
        let code = if problems.iter().any(|p| p.exit_code() == 5) {
            5
        } else {
            problems[0].exit_code()
        };
        Some(match code {
            5 => Error::Locked(message),
            2 => Error::config(message),
            3 => Error::data(message),
            4 => Error::io_failed(message),
            _ => Error::other(message),
        })
    }

    /// Wraps a polars error raised while working on `what` (a source, a table).
    pub fn engine(what: &str, err: PolarsError) -> Self {
        let message = match &err {
            PolarsError::NoData(_) => format!("{what}: no data: {err}"),
            _ => format!("{what}: {err}"),
        };
        match err {
            // A read that failed inside the engine (the streaming engine
            // wraps errors in context): still an I/O error, exit 4.
            PolarsError::IO { .. } | PolarsError::NoData(_) => Error::io_with(message, err),
            PolarsError::Context { .. } if is_io(&err) => Error::io_with(message, err),
            other => Error::other_with(message, other),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn the_source_is_kept_and_the_hint_is_not_in_the_message() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = Error::io("cannot read `a.csv`", io);
        assert_eq!(err.to_string(), "cannot read `a.csv`: gone");
        assert_eq!(err.source().map(|s| s.to_string()).as_deref(), Some("gone"));
        assert_eq!(err.exit_code(), 4);
        let err = Error::data_hint("a rule is broken", "fix the export");
        assert_eq!(
            (err.to_string().as_str(), err.hint()),
            ("a rule is broken", Some("fix the export"))
        );
        assert_eq!(err.exit_code(), 3);
        let polars = PolarsError::ComputeError("boom".into());
        let err = Error::engine("computing", polars);
        assert_eq!(err.exit_code(), 1);
        assert!(err.source().is_some() && err.to_string().starts_with("computing: "));
    }

    #[test]
    fn several_problems_are_one_error_under_the_first_problems_exit_code_or_5() {
        assert!(Error::all(Vec::new()).is_none());
        let one = Error::all(vec![Error::data_hint("a", "b")]).unwrap();
        assert_eq!((one.to_string().as_str(), one.hint()), ("a", Some("b")));
        let two = Error::all(vec![
            Error::io_failed("no file"),
            Error::data_hint("two lines\nof text", "fix it"),
        ])
        .unwrap();
        assert_eq!(two.exit_code(), 4);
        assert_eq!(
            two.to_string(),
            "2 problem(s) in the inputs, each found on its own:\n  1. no file\n  2. two lines\n     of text\n     hint: fix it"
        );
        // A lock held by another run is exit 5 wherever it is listed.
        let locked = Error::all(vec![
            Error::data("a rule is broken"),
            Error::Locked("another run holds the lock".into()),
        ])
        .unwrap();
        assert_eq!(locked.exit_code(), 5);
    }
}
