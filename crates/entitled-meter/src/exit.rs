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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_table() {
        let pending = [PendingUsage {
            hour: 0,
            dimension: "users".into(),
            quantity: 1,
        }];
        let ok = MeterStatus::default();
        let not_entitled = MeterStatus {
            entitled: false,
            ..MeterStatus::default()
        };
        let rejected = MeterStatus {
            stopped: Some((MeterRefusal::PlatformNotSupported, "no".into())),
            ..MeterStatus::default()
        };
        let cases = [
            (&ok, &[][..], OK),
            (&ok, &pending[..], TEMPFAIL),
            (&not_entitled, &pending[..], NOT_ENTITLED),
            (&not_entitled, &[][..], NOT_ENTITLED),
            (&rejected, &pending[..], REJECTED),
        ];
        for (status, left, code) in cases {
            assert_eq!(after_shutdown(status, left), code, "{status:?} {left:?}");
        }
    }
}
