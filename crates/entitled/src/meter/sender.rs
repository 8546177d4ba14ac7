//! The reporter: after each hour closes (plus the meter's random delay), one MeterUsage call
//! per dimension with usage, retried while the hour is inside AWS's 6-hour window. Before
//! the first attempt the request is fixed in the journal (its `Timestamp`, and the slot's
//! usage, which no longer changes): every retry, here or after a restart, is the same
//! request under the same `ClientToken`, as AWS's idempotency requires.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_marketplacemetering::primitives::DateTime;
use aws_sdk_marketplacemetering::types::{Tag, UsageAllocation};
use aws_sdk_marketplacemetering::Client;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::book::{Resolution, Slot, SlotKey};
use super::classify::classify_meter_call;
use super::clock::{hour_of, Clock};
use super::events::{EventHook, MeterEvent};
use super::outcome::{scope, Outcome, Scope, NOT_ENTITLED_CLASS};
use super::status::{Board, LastError};
use super::writer::{Command, Shared, KEEP_RESOLVED_SECONDS};
use super::{client_token, rfc3339, WriterHandle};
use crate::reason::{Transient, TransientCause};
use crate::signing_credentials::SigningCredentials;
use crate::{Backoff, Waits};

/// AWS takes usage up to 6 hours old.
pub(crate) const WINDOW_SECONDS: u64 = 6 * 3600;
/// Give up a little before the window closes, so a slow last call is not refused.
const WINDOW_MARGIN_SECONDS: u64 = 5 * 60;

/// What the reporter needs; built by [`super::MeterBuilder`].
pub(crate) struct Reporter {
    pub client: Client,
    /// Resolved by us, so that a credential failure keeps its type as in the check.
    pub credentials: SigningCredentials,
    pub product_code: String,
    pub shared: Arc<Shared>,
    pub writer: WriterHandle,
    pub clock: Arc<dyn Clock>,
    pub delay_seconds: u64,
    pub backoff: Backoff,
    pub attempt_timeout: Duration,
    pub poll: Duration,
    pub board: Arc<Board>,
    pub events: EventHook,
    /// Set by shutdown: report everything now, the current hour included.
    pub flush: Arc<AtomicBool>,
    pub wake: Arc<Notify>,
    /// Set when a flush round finds nothing left it can send.
    pub flushed: Arc<Notify>,
    pub retries: HashMap<SlotKey, (Waits, Instant)>,
    pub refused_dimensions: BTreeSet<String>,
    pub stopped: bool,
}

/// Where one slot stands after a pass.
#[derive(PartialEq, Eq)]
enum Step {
    /// Resolved, or waiting for its hour or delay.
    Settled,
    /// Pending and sendable later (a retry is scheduled).
    Retrying,
    /// Pending but blocked by a refusal.
    Blocked,
}

impl Reporter {
    pub async fn run(mut self) {
        loop {
            let flush = self.flush.load(Ordering::SeqCst);
            let now = self.clock.now();
            let slots: Vec<(SlotKey, Slot)> = self
                .shared
                .book()
                .slots
                .iter()
                .filter(|(_, s)| s.pending())
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect();
            let mut retrying = false;
            let mut resolved_hours = BTreeSet::new();
            for (key, slot) in slots {
                match self.step(&key, &slot, now, flush).await {
                    Step::Retrying => retrying = true,
                    Step::Settled | Step::Blocked => {}
                }
                if !self
                    .shared
                    .book()
                    .slots
                    .get(&key)
                    .is_some_and(Slot::pending)
                {
                    resolved_hours.insert(key.0);
                }
            }
            if !resolved_hours.is_empty() {
                let oldest_hour = hour_of(now.saturating_sub(KEEP_RESOLVED_SECONDS));
                self.writer.send(Command::Compact { oldest_hour });
            }
            if flush && !retrying {
                self.flushed.notify_waiters();
            }
            // A retry falls due before the next poll: wake for it, not up to a poll later.
            let next_retry = self.retries.values().map(|(_, at)| *at).min();
            let until = next_retry.map_or(Instant::now() + self.poll, |at| {
                at.min(Instant::now() + self.poll)
            });
            tokio::select! {
                () = tokio::time::sleep_until(until) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    async fn step(&mut self, key: &SlotKey, slot: &Slot, now: u64, flush: bool) -> Step {
        let (hour, dimension) = key;
        if let Some(done) = slot.resolved {
            // The hour was reported (a partial hour at shutdown) and usage arrived after:
            // AWS takes one report per hour, so the rest cannot be billed.
            self.lose(
                key,
                slot.total,
                slot.total - done,
                "usage recorded after this hour was reported",
            )
            .await;
            return Step::Settled;
        }
        if *hour > hour_of(now) {
            // Usage carried past an hour already reported: its hour has not begun, and a
            // report cannot name a future hour. It waits (in the journal, over a restart).
            return Step::Settled;
        }
        let closed = hour + 3600 <= now;
        // Fixed at the first attempt; before it, what the first attempt would take.
        let timestamp = slot
            .timestamp
            .unwrap_or(if closed { hour + 3599 } else { now.max(*hour) });
        if now > timestamp + WINDOW_SECONDS - WINDOW_MARGIN_SECONDS {
            self.lose(key, slot.total, slot.total, "the 6-hour window passed")
                .await;
            return Step::Settled;
        }
        if self.stopped || self.refused_dimensions.contains(dimension) {
            return Step::Blocked;
        }
        if !flush && (!closed || now < hour + 3600 + self.delay_seconds) {
            return Step::Settled;
        }
        if let Some((_, at)) = self.retries.get(key) {
            if Instant::now() < *at {
                return Step::Retrying;
            }
        }
        let Some(slot) = self.fixed(key, slot, timestamp).await else {
            self.schedule_retry(key);
            return Step::Retrying;
        };
        let slot = &slot;
        let timestamp = slot.timestamp.unwrap_or(timestamp);
        let outcome = self.send(key, slot, timestamp).await;
        self.board.update(|_, m| {
            *m.calls.entry(outcome.label().into_owned()).or_default() += 1;
        });
        match outcome {
            Outcome::Reported(id) => {
                self.retries.remove(key);
                if self.resolve(key, slot.total, Resolution::Reported).await {
                    self.board.update(|s, m| {
                        s.entitled = true;
                        s.last_report = Some(now);
                        *m.quantity_reported.entry(dimension.clone()).or_default() += slot.total;
                    });
                    self.events.emit(
                        MeterEvent::info(
                            "reported",
                            format!(
                                "reported {dimension}={} for hour {} (record {id})",
                                slot.total,
                                rfc3339(*hour)
                            ),
                        )
                        .usage(dimension, *hour, slot.total),
                    );
                }
                Step::Settled
            }
            Outcome::Duplicate(message) => {
                self.retries.remove(key);
                self.events.emit(
                    MeterEvent::error("duplicate", format!(
                        "DUPLICATE: AWS already holds a report for {dimension} hour {} with another quantity; this meter's quantity is {} and is not billed; AWS said: {message}",
                        rfc3339(*hour),
                        slot.total
                    ))
                    .usage(dimension, *hour, slot.total),
                );
                self.note_error(now, "duplicate", &message);
                self.resolve(key, slot.total, Resolution::Duplicate).await;
                Step::Settled
            }
            Outcome::Unsendable(message) => {
                self.retries.remove(key);
                self.note_error(now, "unsendable", &message);
                self.lose(key, slot.total, slot.total, &message).await;
                Step::Settled
            }
            Outcome::Transient(transient) => {
                self.note_error(now, transient.cause.code(), &transient.to_string());
                self.schedule_retry(key);
                Step::Retrying
            }
            Outcome::NotEntitled(message) => {
                self.note_error(now, NOT_ENTITLED_CLASS, &message);
                self.events.emit(
                    MeterEvent::error(
                        "not_entitled",
                        format!("MeterUsage refused ({NOT_ENTITLED_CLASS}): {message}"),
                    )
                    .usage(dimension, *hour, slot.total)
                    .reason(NOT_ENTITLED_CLASS),
                );
                self.board.update(|s, _| s.entitled = false);
                // A buyer can subscribe again; keep trying slowly inside the window.
                self.schedule_retry(key);
                if flush {
                    Step::Blocked
                } else {
                    Step::Retrying
                }
            }
            Outcome::Refused(reason, message) => {
                self.note_error(now, &reason.code(), &message);
                // A credential or Region failure came before any call.
                let stage = if reason.before_call() {
                    "cannot call MeterUsage"
                } else {
                    "MeterUsage refused"
                };
                self.events.emit(
                    MeterEvent::error(
                        "refused",
                        format!("{stage} ({}): {message}; {}", reason.code(), reason.hint()),
                    )
                    .usage(dimension, *hour, slot.total)
                    .reason(reason.code()),
                );
                match scope(&reason) {
                    Scope::Retry => {
                        self.schedule_retry(key);
                        Step::Retrying
                    }
                    Scope::Dimension => {
                        self.refused_dimensions.insert(dimension.clone());
                        self.board.update(|s, _| {
                            s.refused_dimensions.insert(dimension.clone(), message);
                        });
                        Step::Blocked
                    }
                    Scope::Meter => {
                        self.stopped = true;
                        self.board
                            .update(|s, _| s.stopped = Some((reason, message)));
                        Step::Blocked
                    }
                }
            }
        }
    }

    async fn send(&mut self, key: &SlotKey, slot: &Slot, timestamp: u64) -> Outcome {
        let (hour, dimension) = key;
        let token = client_token(&self.shared.identity, &self.product_code, dimension, *hour);
        let quantity = i32::try_from(slot.total).unwrap_or(i32::MAX);
        let mut request = self
            .client
            .meter_usage()
            .product_code(&self.product_code)
            .timestamp(DateTime::from_secs(timestamp as i64))
            .usage_dimension(dimension)
            .usage_quantity(quantity)
            .client_token(token);
        if slot.by_tags.keys().any(|t| !t.is_empty()) {
            for (tags, q) in &slot.by_tags {
                let tags: Vec<Tag> = tags
                    .iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                    .collect();
                let allocation = UsageAllocation::builder()
                    .allocated_usage_quantity(i32::try_from(*q).unwrap_or(i32::MAX))
                    .set_tags((!tags.is_empty()).then_some(tags))
                    .build();
                match allocation {
                    Ok(a) => request = request.usage_allocations(a),
                    Err(e) => return Outcome::Unsendable(e.to_string()),
                }
            }
        }
        let credentials = &mut self.credentials;
        let product_code = self.product_code.as_str();
        let attempt = async {
            let signing = credentials.get().await.map_err(Outcome::from)?;
            request
                .customize()
                .config_override(
                    aws_sdk_marketplacemetering::config::Builder::default()
                        .credentials_provider(signing),
                )
                .send()
                .await
                .map_err(|err| classify_meter_call(err, product_code))
        };
        match tokio::time::timeout(self.attempt_timeout, attempt).await {
            Ok(Ok(out)) => Outcome::Reported(out.metering_record_id().unwrap_or("").to_owned()),
            Ok(Err(outcome)) => outcome,
            Err(_) => Outcome::Transient(Transient {
                endpoint: self.credentials.waiting_on(),
                cause: TransientCause::Timeout,
                detail: format!(
                    "the call timed out after {} ms",
                    self.attempt_timeout.as_millis()
                ),
            }),
        }
    }

    /// The slot as its request is fixed: journals the `Timestamp` before the first attempt
    /// and reads the slot back (from then on it takes no usage). `None` if the journal could
    /// not be written; nothing was sent, and the next pass tries again.
    async fn fixed(&self, key: &SlotKey, slot: &Slot, timestamp: u64) -> Option<Slot> {
        if slot.timestamp.is_none() {
            let (reply, rx) = tokio::sync::oneshot::channel();
            self.writer.send(Command::Fix {
                key: key.clone(),
                timestamp,
                reply,
            });
            if !matches!(rx.await, Ok(Ok(()))) {
                return None;
            }
        }
        self.shared.book().slots.get(key).cloned()
    }

    fn schedule_retry(&mut self, key: &SlotKey) {
        let backoff = self.backoff;
        let entry = self
            .retries
            .entry(key.clone())
            .or_insert_with(|| (backoff.waits(), Instant::now()));
        entry.1 = Instant::now() + entry.0.next_wait();
    }

    fn note_error(&self, now: u64, class: &str, message: &str) {
        self.board.update(|s, _| {
            s.last_error = Some(LastError {
                class: class.to_owned(),
                message: message.to_owned(),
                at: now,
            });
        });
    }

    /// Journals a resolution; false if the journal could not be written (it is retried on
    /// the next pass, and a resend is the same request).
    async fn resolve(&self, key: &SlotKey, quantity: u64, how: Resolution) -> bool {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.writer.send(Command::Resolve {
            key: key.clone(),
            quantity,
            how,
            reply,
        });
        matches!(rx.await, Ok(Ok(())))
    }

    /// Writes off usage that can no longer be reported: loudly, and counted.
    async fn lose(&self, key: &SlotKey, total: u64, lost: u64, why: &str) {
        let (hour, dimension) = key;
        if self.resolve(key, total, Resolution::Lost).await {
            self.board.update(|s, m| {
                *m.lost_quantity.entry(dimension.clone()).or_default() += lost;
                *s.lost.entry(dimension.clone()).or_default() += lost;
            });
            self.events.emit(
                MeterEvent::error(
                    "lost",
                    format!(
                        "LOST usage: dimension {dimension}, hour {}, quantity {lost}: {why}",
                        rfc3339(*hour)
                    ),
                )
                .usage(dimension, *hour, lost),
            );
        }
    }
}
