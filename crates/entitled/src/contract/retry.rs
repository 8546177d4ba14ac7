//! The check's retry policy, for License Manager calls: the same backoff,
//! the same deadline rule (an attempt starts only before it), the same
//! [`RetryEvent`] to the caller's hook.

use std::time::{Duration, Instant};

use crate::backoff::{Backoff, Waits};
use crate::check::{RetryEvent, RetryHook};
use crate::error::CheckError;
use crate::reason::{Endpoint, Transient, TransientCause};

/// The attempts of one logical call, up to its deadline.
pub(crate) struct Retry<'a> {
    started: Instant,
    deadline_at: Instant,
    waits: Waits,
    attempts: u32,
    hook: Option<&'a RetryHook>,
    last: Transient,
}

impl<'a> Retry<'a> {
    pub fn new(backoff: Backoff, deadline_at: Instant, hook: Option<&'a RetryHook>) -> Self {
        Retry {
            started: Instant::now(),
            deadline_at,
            waits: backoff.waits(),
            attempts: 0,
            hook,
            last: Transient {
                endpoint: Endpoint::LicenseManager,
                cause: TransientCause::Timeout,
                detail: "no attempt finished before the deadline".into(),
            },
        }
    }

    /// Starts an attempt: the time it may take, or `Unavailable` when the
    /// deadline has passed.
    pub fn begin(&mut self, attempt_timeout: Duration) -> Result<Duration, CheckError> {
        let remaining = self.deadline_at.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(self.unavailable());
        }
        self.attempts += 1;
        Ok(attempt_timeout.min(remaining))
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Records a transient failure, tells the hook, and waits for the next
    /// attempt (or for the deadline, when the next wait reaches past it).
    pub async fn failed(&mut self, cause: Transient) {
        let wait = self.waits.next_wait();
        let remaining = self.deadline_at.saturating_duration_since(Instant::now());
        let no_time_left = wait >= remaining;
        let delay = wait.min(remaining);
        if let Some(hook) = self.hook {
            hook(&RetryEvent {
                attempt: self.attempts,
                reason: cause.to_string(),
                cause: cause.clone(),
                delay,
                no_time_left,
            });
        }
        self.last = cause;
        tokio::time::sleep(delay).await;
    }

    /// The deadline passed with every failure transient.
    pub fn unavailable(&self) -> CheckError {
        CheckError::Unavailable {
            attempts: self.attempts,
            elapsed: self.started.elapsed(),
            last: self.last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn attempts_stop_at_the_deadline_with_the_last_cause_and_tell_the_hook_each_time() {
        let backoff = Backoff::new(Duration::from_millis(1), Duration::from_millis(2));
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = events.clone();
        let hook: RetryHook = std::sync::Arc::new(move |e: &RetryEvent| {
            seen.lock().unwrap().push((e.attempt, e.no_time_left))
        });
        let deadline_at = Instant::now() + Duration::from_millis(40);
        let mut retry = Retry::new(backoff, deadline_at, Some(&hook));
        let cause = Transient {
            endpoint: Endpoint::LicenseManager,
            cause: TransientCause::Throttled,
            detail: "429".into(),
        };
        let err = loop {
            match retry.begin(Duration::from_secs(10)) {
                Ok(budget) => assert!(budget <= Duration::from_millis(40)),
                Err(err) => break err,
            }
            retry.failed(cause.clone()).await;
        };
        assert!(Instant::now() >= deadline_at);
        let events = events.lock().unwrap();
        assert!(events.len() >= 2, "{events:?}");
        assert_eq!(
            events.iter().map(|e| e.0).collect::<Vec<_>>(),
            (1..=events.len() as u32).collect::<Vec<_>>(),
            "one event per failed attempt, numbered from 1"
        );
        match err {
            CheckError::Unavailable { attempts, last, .. } => {
                assert_eq!(attempts as usize, events.len());
                assert_eq!(last, cause);
                assert_eq!(
                    CheckError::Unavailable {
                        attempts,
                        elapsed: Duration::ZERO,
                        last
                    }
                    .exit_code(),
                    75
                );
            }
            other => panic!("{other}"),
        }
    }
}
