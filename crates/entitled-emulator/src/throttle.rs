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
        let rate = if calls_per_second.is_finite() && calls_per_second > 0.0 {
            calls_per_second
        } else {
            0.0
        };
        let burst = rate.max(1.0);
        TokenBucket {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes a token if one is available.
    pub fn try_acquire(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
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

    #[test]
    fn burst_then_refuses() {
        let b = TokenBucket::new(3.0);
        assert!(b.try_acquire() && b.try_acquire() && b.try_acquire());
        assert!(!b.try_acquire());
        let zero = TokenBucket::new(0.0);
        assert!(zero.try_acquire());
        assert!(!zero.try_acquire());
    }
}
