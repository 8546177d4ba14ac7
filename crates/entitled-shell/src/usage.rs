//! The usage error: a bad command line, refused with 64 before anything
//! else is done, in the log format the command line asked for.

use serde_json::Value;

use crate::log::{Format, Level, Logger, Verbosity};

/// A bad command line. Exit 64 (sysexits EX_USAGE); nothing was done.
///
/// ```
/// use entitled_shell::{Format, UsageError};
/// let err = UsageError { program: "demo", message: "--x is given twice; give it once".into(), format: Format::Text };
/// assert_eq!(err.to_string(), "--x is given twice; give it once; see `demo --help`");
/// assert_eq!(UsageError::EXIT_CODE, 64);
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{message}; see `{program} --help`")]
pub struct UsageError {
    /// The program whose command line it is.
    pub program: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The log format asked for anywhere among the program's own
    /// arguments, so the error line is written in it.
    pub format: Format,
}

impl UsageError {
    /// The exit code of a usage error, in every binary.
    pub const EXIT_CODE: u8 = 64;

    /// Writes the error line (event `failed`, class `usage`) and returns
    /// [`UsageError::EXIT_CODE`].
    pub fn report(&self) -> u8 {
        let logger = Logger {
            program: self.program,
            format: self.format,
            verbosity: Verbosity::Normal,
        };
        logger.log(
            Level::Error,
            "failed",
            &self.to_string(),
            &[
                ("class", Value::from("usage")),
                ("exit_code", Value::from(Self::EXIT_CODE)),
            ],
        );
        Self::EXIT_CODE
    }
}
