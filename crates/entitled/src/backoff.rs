//! Exponential backoff with full jitter, for retrying transient failures.
//!
//! Full jitter spreads a fleet that starts at once across the whole window,
//! so a scale-out of hundreds of tasks does not retry in lockstep against
//! RegisterUsage's 5 calls/s per account and Region.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

/// How long to wait between attempts.
///
/// The wait before retry `n` (1-based) is uniform in
/// `[0, min(cap, first × 2^(n-1))]`.
///
/// ```
/// use std::time::Duration;
/// let backoff = entitled::Backoff::new(Duration::from_millis(500), Duration::from_secs(20));
/// assert_eq!(backoff.ceiling(1), Duration::from_millis(500));
/// assert_eq!(backoff.ceiling(3), Duration::from_secs(2));
/// assert_eq!(backoff.ceiling(30), Duration::from_secs(20));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
}

impl Default for Backoff {
    /// One second first, capped at 20 s: the SDK's standard retry shape.
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(20))
    }
}

impl Backoff {
    /// A backoff whose first ceiling is `first`, doubling up to `cap`.
    pub fn new(first: Duration, cap: Duration) -> Self {
        Self {
            first,
            cap: cap.max(first),
        }
    }

    /// The largest wait before retry `retry` (1-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.first
            .checked_mul(1u32 << doublings)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// The wait before retry `retry`, drawn with full jitter.
    pub fn delay(&self, retry: u32) -> Duration {
        self.ceiling(retry).mul_f64(unit_random())
    }
}

/// A uniform draw in [0, 1). Jitter needs no secrecy, but ring's OS source is
/// already linked, and a failure just means no jitter.
fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    match SystemRandom::new().fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_then_stop_at_the_cap() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let ceilings: Vec<_> = (1..=6).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn delays_stay_within_their_ceiling_and_vary() {
        let b = Backoff::default();
        let delays: Vec<_> = (0..200).map(|_| b.delay(4)).collect();
        assert!(delays.iter().all(|d| *d <= b.ceiling(4)));
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "full jitter draws differ"
        );
    }
}
