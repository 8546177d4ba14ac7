//! Wall-clock time for the meter, injectable so tests can move through hours and the
//! 6-hour window without waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The meter's source of "now", in whole seconds since the Unix epoch (UTC).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// A clock that moves only when told to, for tests.
///
/// ```
/// use entitled::meter::{Clock, ManualClock};
/// let clock = ManualClock::new(7200);
/// clock.advance(90);
/// assert_eq!(clock.now(), 7290);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock reading `now`.
    pub fn new(now: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(now)))
    }

    /// Sets the time.
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The UTC hour (its first second) containing `t`.
pub(crate) fn hour_of(t: u64) -> u64 {
    t - t % 3600
}

/// `YYYY-MM-DDTHH:MM:SSZ` for epoch seconds (UTC).
///
/// ```
/// assert_eq!(entitled::meter::rfc3339(0), "1970-01-01T00:00:00Z");
/// assert_eq!(entitled::meter::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
/// ```
pub fn rfc3339(t: u64) -> String {
    // The one calendar: the verification crate's.
    crate::calendar::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))
}
