//! Exit codes, from the guard's table.

use entitled::meter::{MeterRefusal, MeterStatus, PendingUsage};

/// Clean shutdown, nothing pending.
pub const OK: u8 = 0;
/// Bad command line or configuration.
pub const USAGE: u8 = 64;
/// Shutdown timed out with records left in the journal.
pub const TEMPFAIL: u8 = 75;
/// `CustomerNotEntitledException`.
pub const NOT_ENTITLED: u8 = 77;
/// Reporting refused (product code, platform, access, Region).
pub const REJECTED: u8 = 78;

/// The exit code after shutdown.
pub fn after_shutdown(status: &MeterStatus, left: &[PendingUsage]) -> u8 {
    match (&status.stopped, status.entitled, left.is_empty()) {
        (Some((MeterRefusal::NotEntitled, _)), _, _) | (None, false, _) => NOT_ENTITLED,
        (Some(_), _, _) => REJECTED,
        (None, true, false) => TEMPFAIL,
        (None, true, true) => OK,
    }
}
