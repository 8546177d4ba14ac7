//! What the three `entitled` binaries share, so that a seller who learns one
//! knows the others: the flag table and the `--help` rows rendered from it,
//! the usage rules (a flag given twice, `-q` with `-v`, errors in the log
//! format asked for), durations, and the logger with its one line shape.
//!
//! It holds no AWS client and no async runtime: the emulator uses it too,
//! and the guard's static size is watched.

mod duration;
mod flags;
mod log;
mod rate_limit;
mod usage;

pub use duration::parse_duration;
pub use flags::{Flag, Program, Repeat, Request, COMMON_FLAGS_HELP_LINE};
pub use log::{Format, Level, Logger, Verbosity};
pub use usage::UsageError;
