//! Operational failures (not lint findings) and the one place that maps
//! outcomes to exit codes: 0 clean, 1 findings, 2 `orch` could not do its job.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments or a request that cannot be met.
    #[error("{message}")]
    Usage {
        message: String,
        help: Option<String>,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A git operation failed; the message says how to fix it.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    /// Writing to stdout failed (a closed pipe ends quietly).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(message: impl Into<String>, help: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn help(&self) -> Option<&str> {
        match self {
            Error::Usage { help, .. } => help.as_deref(),
            _ => None,
        }
    }

    /// A broken pipe (`orch status | head`) is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong (warnings allowed).
    Clean,
    /// Errors found, or warnings with `--deny-warnings`.
    Findings,
}

/// The process exit code for a command's result.
pub fn exit_code(result: &Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}
