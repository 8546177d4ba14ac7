//! The usage error: its own module because both the parser (`cli`) and the
//! exit-code mapping (`exit`) need it, and `exit` already feeds `--help`.

use crate::log::Format;

/// A bad command line. Exit 64; no call is made.
#[derive(Debug, thiserror::Error)]
#[error("{message}; see `entitled --help`")]
pub struct UsageError {
    /// What is wrong and how to fix it.
    pub message: String,
    /// The log format asked for anywhere among the guard's own arguments,
    /// so the error line is written in it.
    pub format: Format,
}
