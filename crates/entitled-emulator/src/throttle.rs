//! A token bucket for RegisterUsage, standing in for AWS's per-account quota (5 calls/s).
//!
//! The bucket holds at most `max(1, rate)` tokens and starts full, so a burst of that many
//! calls passes at once; afterwards calls pass at `rate` per second. A call that finds no token
//! gets `ThrottlingException`; it is never queued.

use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(calls_per_second: f64) -> TokenBucket {
        Self::new_at(calls_per_second, Instant::now())
    }

    /// A bucket that starts full at `now`.
    fn new_at(calls_per_second: f64, now: Instant) -> TokenBucket {
        let rate = if calls_per_second.is_finite() && calls_per_second > 0.0 {
            calls_per_second
        } else {
            0.0
        };
        let burst = rate.max(1.0);
        TokenBucket {
            rate,
            burst,
            state: Mutex::new((burst, now)),
        }
    }

    /// Takes a token if one is available.
    pub fn try_acquire(&self) -> bool {
        self.try_acquire_at(Instant::now())
    }

    /// Takes a token if one is available at `now` (not before the last call's).
    fn try_acquire_at(&self, now: Instant) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = now.max(s.1);
        let refill = now.duration_since(s.1).as_secs_f64() * self.rate;
        s.0 = (s.0 + refill).min(self.burst);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    /// On a fixed clock, so a loaded machine's slow calls cannot refill the bucket
    /// between them.
    #[test]
    fn burst_then_refuses_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let b = TokenBucket::new_at(3.0, t0);
        assert!(b.try_acquire_at(t0) && b.try_acquire_at(t0) && b.try_acquire_at(t0));
        assert!(!b.try_acquire_at(t0));
        assert!(!b.try_acquire_at(t0 + Duration::from_millis(300)));
        assert!(b.try_acquire_at(t0 + Duration::from_millis(334)));
        assert!(!b.try_acquire_at(t0 + Duration::from_millis(334)));
        let zero = TokenBucket::new_at(0.0, t0);
        assert!(zero.try_acquire_at(t0));
        assert!(!zero.try_acquire_at(t0 + Duration::from_secs(3600)));
    }
}
