//! Repeated identical error lines, counted instead of written: a full disk
//! refuses every request, and one line per request would bury the rest.

use std::time::{Duration, Instant};

/// How long after writing an error line an identical one is only counted.
pub const WINDOW: Duration = Duration::from_secs(10);

/// The last error line written, and how many identical ones were held
/// back since.
#[derive(Debug, Default)]
pub struct RateLimit {
    last: Option<Last>,
}

impl RateLimit {
    /// Nothing written yet.
    pub const fn new() -> Self {
        RateLimit { last: None }
    }
}

#[derive(Debug)]
struct Last {
    key: String,
    written: Instant,
    held: u64,
}

/// What to do with a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Write it; `repeated` identical lines were held back before it (they
    /// are reported with it, or, for a different line, in a line of their
    /// own first: `previous`).
    Write {
        /// Identical lines held back since this one was last written.
        repeated: u64,
        /// A different line held back this many times before this one.
        previous: Option<(String, u64)>,
    },
    /// Count it, do not write it.
    Hold,
}

impl RateLimit {
    /// Decides for the error line `key` at `now`.
    pub fn admit(&mut self, key: &str, now: Instant) -> Verdict {
        match &mut self.last {
            Some(last) if last.key == key => {
                if now.duration_since(last.written) < WINDOW {
                    last.held += 1;
                    return Verdict::Hold;
                }
                let repeated = std::mem::take(&mut last.held);
                last.written = now;
                Verdict::Write {
                    repeated,
                    previous: None,
                }
            }
            other => {
                let previous = other
                    .take()
                    .filter(|last| last.held > 0)
                    .map(|last| (last.key, last.held));
                *other = Some(Last {
                    key: key.to_owned(),
                    written: now,
                    held: 0,
                });
                Verdict::Write {
                    repeated: 0,
                    previous,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_lines_in_the_window_are_counted_then_reported() {
        let mut limit = RateLimit::default();
        let t0 = Instant::now();
        let write = |repeated, previous| Verdict::Write { repeated, previous };
        assert_eq!(limit.admit("disk full", t0), write(0, None));
        for ms in [1, 500, 9_999] {
            assert_eq!(
                limit.admit("disk full", t0 + Duration::from_millis(ms)),
                Verdict::Hold
            );
        }
        assert_eq!(limit.admit("disk full", t0 + WINDOW), write(3, None));
        assert_eq!(limit.admit("disk full", t0 + WINDOW), Verdict::Hold);
        // A different line is written at once, after the count of the held ones.
        assert_eq!(
            limit.admit("refused", t0 + WINDOW),
            write(0, Some(("disk full".into(), 1)))
        );
        assert_eq!(limit.admit("disk full", t0 + WINDOW), write(0, None));
    }
}
