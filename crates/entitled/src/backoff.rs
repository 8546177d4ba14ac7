//! How long to wait between attempts: AWS's decorrelated jitter by default,
//! full jitter on request.
//!
//! RegisterUsage allows 5 calls/s per account and Region, so a fleet that
//! starts at once is mostly throttled on its first call. Decorrelated jitter
//! (base 1 s, cap 10 s) lets such a fleet finish sooner and call less than
//! full jitter (first 1 s, cap 20 s) at every size from 20 guards up;
//! BENCHMARKS.md has the simulation and the storm measurements.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

/// The shape of the waits between attempts.
///
/// The default is AWS's decorrelated jitter with base 1 s and cap 10 s: the
/// first wait is uniform in `[1 s, 3 s]`, each later one uniform in
/// `[1 s, 3 × the previous wait]`, never over 10 s.
///
/// ```
/// use std::time::Duration;
/// let backoff = entitled::Backoff::default();
/// let mut waits = backoff.waits();
/// let first = waits.next_wait();
/// assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(3));
/// assert!((0..50).all(|_| waits.next_wait() <= Duration::from_secs(10)));
/// assert_eq!(backoff.ceiling(30), Duration::from_secs(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    jitter: Jitter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Jitter {
    /// Wait `n` is uniform in `[0, min(cap, base × 2^(n-1))]`.
    Full,
    /// Wait `n` is `min(cap, uniform[base, 3 × wait n-1])`, wait 0 = base.
    Decorrelated,
}

impl Default for Backoff {
    /// Decorrelated jitter, base 1 s, cap 10 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(10))
    }
}

impl Backoff {
    /// Decorrelated jitter: waits of at least `base`, each at most three
    /// times the one before, never over `cap` (raised to `base` if lower).
    ///
    /// ```
    /// use std::time::Duration;
    /// let backoff = entitled::Backoff::new(Duration::from_millis(10), Duration::from_millis(40));
    /// assert_eq!(backoff.ceiling(1), Duration::from_millis(30));
    /// assert_eq!(backoff.ceiling(2), Duration::from_millis(40));
    /// ```
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap: cap.max(base),
            jitter: Jitter::Decorrelated,
        }
    }

    /// Full jitter, the SDK's standard retry shape and this library's
    /// default before decorrelated jitter: wait `n` is uniform in
    /// `[0, min(cap, first × 2^(n-1))]`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let backoff = entitled::Backoff::full_jitter(Duration::from_millis(500), Duration::from_secs(20));
    /// assert_eq!(backoff.ceiling(1), Duration::from_millis(500));
    /// assert_eq!(backoff.ceiling(3), Duration::from_secs(2));
    /// assert_eq!(backoff.ceiling(30), Duration::from_secs(20));
    /// ```
    pub fn full_jitter(first: Duration, cap: Duration) -> Self {
        Self {
            base: first,
            cap: cap.max(first),
            jitter: Jitter::Full,
        }
    }

    /// The largest wait before retry `retry` (1-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let (factor, steps) = match self.jitter {
            Jitter::Full => (2, retry.saturating_sub(1)),
            Jitter::Decorrelated => (3, retry),
        };
        let mut ceiling = self.base;
        for _ in 0..steps {
            // Stops within a few dozen steps, however large `retry` is.
            if ceiling.is_zero() || ceiling >= self.cap {
                break;
            }
            ceiling = ceiling.saturating_mul(factor);
        }
        ceiling.min(self.cap)
    }

    /// The waits of one check, one per retry, each drawn afresh.
    pub fn waits(&self) -> Waits {
        Waits {
            backoff: *self,
            retry: 0,
            previous: self.base,
        }
    }
}

/// The successive waits of one check; see [`Backoff::waits`].
///
/// ```
/// use std::time::Duration;
/// let backoff = entitled::Backoff::full_jitter(Duration::from_secs(1), Duration::from_secs(20));
/// let waits: Vec<Duration> = backoff.waits().take(3).collect();
/// assert!(waits.iter().zip(1..).all(|(w, n)| *w <= backoff.ceiling(n)));
/// ```
#[derive(Clone, Debug)]
pub struct Waits {
    backoff: Backoff,
    retry: u32,
    previous: Duration,
}

impl Waits {
    /// The wait before the next retry.
    pub fn next_wait(&mut self) -> Duration {
        self.retry = self.retry.saturating_add(1);
        let Backoff { base, cap, jitter } = self.backoff;
        let wait = match jitter {
            Jitter::Full => self.backoff.ceiling(self.retry).mul_f64(unit_random()),
            Jitter::Decorrelated => {
                let high = self.previous.saturating_mul(3).max(base);
                (base + (high - base).mul_f64(unit_random())).min(cap)
            }
        };
        self.previous = wait;
        wait
    }
}

impl Iterator for Waits {
    type Item = Duration;

    /// Never `None`: a check stops retrying at its deadline, not here.
    fn next(&mut self) -> Option<Duration> {
        Some(self.next_wait())
    }
}

/// A uniform draw in [0, 1). Jitter needs no secrecy, but ring's OS source is
/// already linked, and a failure just means the longest wait.
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
    fn full_jitter_ceilings_double_then_stop_at_the_cap() {
        let b = Backoff::full_jitter(Duration::from_millis(100), Duration::from_secs(1));
        let ceilings: Vec<_> = (1..=6).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(1));
        let long = Backoff::full_jitter(Duration::from_millis(1), Duration::from_secs(3600));
        assert_eq!(long.ceiling(u32::MAX), Duration::from_secs(3600));
    }

    #[test]
    fn decorrelated_ceilings_triple_then_stop_at_the_cap() {
        let b = Backoff::default();
        let ceilings: Vec<_> = (1..=4).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [3, 9, 10, 10]);
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn full_jitter_waits_stay_within_their_ceiling_and_vary() {
        let b = Backoff::full_jitter(Duration::from_secs(1), Duration::from_secs(20));
        let waits: Vec<_> = b.waits().take(8).collect();
        assert!(waits.iter().zip(1..).all(|(w, n)| *w <= b.ceiling(n)));
        let fourth: Vec<_> = (0..200).map(|_| b.waits().nth(3).unwrap()).collect();
        assert!(
            fourth.iter().any(|d| *d != fourth[0]),
            "full jitter draws differ"
        );
        assert!(
            fourth.iter().any(|d| *d < Duration::from_secs(1)),
            "full jitter can wait less than the first ceiling"
        );
    }

    #[test]
    fn decorrelated_waits_are_at_least_base_at_most_three_times_the_last_and_capped() {
        let b = Backoff::default();
        for _ in 0..200 {
            let mut previous = Duration::from_secs(1);
            for wait in b.waits().take(10) {
                assert!(wait >= Duration::from_secs(1), "{wait:?} under the base");
                assert!(wait <= Duration::from_secs(10), "{wait:?} over the cap");
                assert!(wait <= previous * 3, "{wait:?} over 3 x {previous:?}");
                previous = wait;
            }
        }
        let firsts: Vec<_> = (0..200).map(|_| b.waits().next_wait()).collect();
        assert!(firsts.iter().any(|d| *d != firsts[0]), "draws differ");
        assert!(
            firsts.iter().any(|d| *d > Duration::from_secs(2)),
            "the first wait reaches past 2 s: decorrelated, not full jitter"
        );
    }

    #[test]
    fn the_default_is_decorrelated_base_1s_cap_10s() {
        assert_eq!(
            Backoff::default(),
            Backoff::new(Duration::from_secs(1), Duration::from_secs(10))
        );
    }
}
