//! Tests only: what the tests of the `entitled` crates share, so that each is written once.
//!
//! - [`process`]: running a binary under test with a deadline and reading its output;
//! - [`log`]: the log line shape all three binaries share (`crates/entitled-shell`), as a
//!   test checks it;
//! - [`shell`]: the command-line rules all three binaries share, checked the same way;
//! - [`http`]: a raw HTTP/1.1 client, for the emulator's admin API and the sidecar;
//! - [`sidecar`]: the `entitled-meter` binary against the emulator, for its tests and its
//!   benchmark.
//!
//! A dev-dependency of the crates whose tests use it; never part of a release.

pub mod http;
pub mod log;
pub mod process;
pub mod shell;
pub mod sidecar;
