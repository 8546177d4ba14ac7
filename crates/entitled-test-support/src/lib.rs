//! Tests only: what the tests of the `entitled` crates share, so that each is written once.
//!
//! - [`process`]: running a binary under test with a deadline and reading its output;
//! - [`log`]: the log line shape all three binaries share (`crates/entitled-shell`), as a
//!   test checks it.
//!
//! A dev-dependency of the crates whose tests use it; never part of a release.

pub mod log;
pub mod process;
