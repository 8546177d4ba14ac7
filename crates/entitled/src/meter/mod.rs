//! Custom metering for container products: usage in, one MeterUsage call per dimension per
//! hour out, nothing lost and nothing billed twice.
//!
//! - Usage is aggregated per (UTC hour, dimension, tag set). After an hour closes, plus a
//!   random delay (up to [`DEFAULT_REPORT_DELAY_MAX`]) so a fleet does not report in the same
//!   second, each dimension with usage in that hour is sent as one MeterUsage call with the
//!   hour's total, a `Timestamp` inside that hour, and `UsageAllocations` when tags were used.
//!   Hours without usage are not sent: AWS bills nothing for an hour it has no record of, and
//!   a fleet of zero reports would spend the account's 10 calls/s MeterUsage quota for nothing.
//! - Every call carries a deterministic `ClientToken` ([`client_token`]) from the task or pod
//!   identity, product, dimension and hour, and the request (its `Timestamp` and the hour's
//!   usage) is fixed in the journal before the first attempt, so every retry, after a crash
//!   too, is the same request. Usage recorded for an hour whose report is fixed goes to the
//!   next hour.
//! - A record is acknowledged only once it is in the append-only journal and `fdatasync`ed
//!   (group commit). A restart on the same journal resumes where it stopped. The journal
//!   directory is locked while open ([`MeterError::JournalInUse`]) and the journal belongs
//!   to one product while it holds unreported usage ([`MeterError::ProductMismatch`]).
//! - Throttling, 5xx, network errors and timeouts are retried with backoff while the hour is
//!   inside AWS's 6-hour window; usage that can no longer be sent is written off loudly
//!   ([`MeterEvent`]) and counted ([`MeterMetrics::lost_quantity`]).
//! - Refusals carry the check's typed reasons ([`RejectReason`](crate::RejectReason), and
//!   [`TransientCause`](crate::TransientCause) for what is retried), classified next to
//!   RegisterUsage's, and are visible in [`MeterStatus`]. Credentials are resolved as the
//!   check resolves them, so a refused or missing credential is a typed refusal too.
//!
//! [`MeterBuilder`] shows a meter against the local emulator.

mod book;
mod builder;
mod classify;
mod clock;
mod error;
mod events;
mod idempotency;
mod identity;
mod journal;
mod keys;
mod lines;
mod outcome;
mod sender;
mod status;
mod usage;
mod verify;
mod writer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

pub use builder::MeterBuilder;
pub use clock::{rfc3339, Clock, ManualClock, SystemClock};
pub use error::MeterError;
pub use events::{EventLevel, MeterEvent};
pub use idempotency::{IdempotencyKey, MAX_IDEMPOTENCY_KEY_LEN};
pub use identity::{client_token, POD_UID_ENV};
pub use journal::JOURNAL_FILE;
pub use keys::KEY_WINDOW;
pub use status::{LastError, MeterMetrics, MeterStatus, PendingUsage, Verification};
pub use usage::{Tags, UsageRecord, MAX_QUANTITY, MAX_TAGS};

use entitled_verify::ProductCode;
use status::Board;
use writer::{Command, Shared};

/// The longest random wait after an hour closes before its report.
pub const DEFAULT_REPORT_DELAY_MAX: Duration = Duration::from_secs(5 * 60);
/// The default shutdown budget: under ECS's default 30 s `stopTimeout`.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(25);

/// The writer thread's inbox.
#[derive(Clone)]
pub(crate) struct WriterHandle(mpsc::Sender<Command>);

impl WriterHandle {
    /// Queues a command; if the writer is gone its reply channel closes, which callers see.
    pub fn send(&self, command: Command) {
        let _ = self.0.send(command);
    }
}

/// A running meter. Record usage with [`Meter::record`]; stop with [`Meter::shutdown`].
pub struct Meter {
    product_code: ProductCode,
    dimensions: Vec<String>,
    clock: Arc<dyn Clock>,
    shared: Arc<Shared>,
    writer: WriterHandle,
    board: Arc<Board>,
    closing: AtomicBool,
    flush: Arc<AtomicBool>,
    wake: Arc<Notify>,
    flushed: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
    /// The start-up check, while it keeps trying in the background.
    verifier: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("product_code", &self.product_code)
            .field("dimensions", &self.dimensions)
            .finish_non_exhaustive()
    }
}

impl Meter {
    /// Starts configuring a meter.
    pub fn builder() -> MeterBuilder {
        MeterBuilder::default()
    }

    /// The configured dimensions.
    pub fn dimensions(&self) -> &[String] {
        &self.dimensions
    }

    /// Checks one record as [`Meter::record`] would, without keeping it: a configured
    /// dimension, a quantity up to 2^31-1, tags MeterUsage takes. For naming the bad record
    /// of a batch.
    ///
    /// # Errors
    /// What [`Meter::record`] would refuse the record with before the journal.
    pub fn check(&self, record: &UsageRecord) -> Result<(), MeterError> {
        record.validate(&self.dimensions)
    }

    /// The identity client tokens derive from.
    pub fn identity(&self) -> &str {
        &self.shared.identity
    }

    /// Records one unit of usage; returns once it is durable.
    ///
    /// # Errors
    /// Invalid records, an hour total past 2^31-1, a journal that cannot be written, or a
    /// meter that is shutting down: nothing was kept.
    pub async fn record(&self, record: UsageRecord) -> Result<(), MeterError> {
        self.record_all(vec![record]).await
    }

    /// Records a batch, all or nothing; returns once it is durable.
    ///
    /// # Errors
    /// As [`Meter::record`], for any record of the batch.
    pub async fn record_all(&self, records: Vec<UsageRecord>) -> Result<(), MeterError> {
        self.record_batch(None, records).await
    }

    /// Records a batch once per `key`, all or nothing; returns once it is durable. A batch
    /// whose key the journal already holds is acknowledged again without adding usage, so a
    /// client that lost an acknowledgement (a crash between the journal write and the reply)
    /// resends with the same key safely. Keys are remembered (as hashes, in memory and in the
    /// journal) for [`KEY_WINDOW`] after their batch was kept; a key resent later is recorded
    /// as new usage.
    ///
    /// # Errors
    /// As [`Meter::record`], for any record of the batch.
    pub async fn record_once(
        &self,
        key: IdempotencyKey,
        records: Vec<UsageRecord>,
    ) -> Result<(), MeterError> {
        self.record_batch(Some(key), records).await
    }

    async fn record_batch(
        &self,
        key: Option<IdempotencyKey>,
        records: Vec<UsageRecord>,
    ) -> Result<(), MeterError> {
        if self.closing.load(Ordering::SeqCst) {
            return Err(MeterError::ShuttingDown);
        }
        for r in &records {
            r.validate(&self.dimensions)?;
        }
        let n = records.len() as u64;
        let (reply, rx) = oneshot::channel();
        let now = self.clock.now();
        self.writer.send(Command::Record {
            hour: clock::hour_of(now),
            at: now,
            key: key.as_ref().map(keys::key_hash),
            records,
            reply,
        });
        let result = rx.await.unwrap_or(Err(MeterError::ShuttingDown));
        match &result {
            Ok(()) => self.board.update(|s, m| {
                s.journal_failing = false;
                m.records_accepted += n;
            }),
            Err(MeterError::Journal { .. }) => self.board.update(|s, _| s.journal_failing = true),
            Err(_) => {}
        }
        result
    }

    /// True unless the last report was refused with `CustomerNotEntitledException`.
    pub fn is_entitled(&self) -> bool {
        self.board.snapshot().0.entitled
    }

    /// Whether AWS has answered yet, and how: see [`MeterBuilder::verify_within`].
    pub fn verification(&self) -> Verification {
        self.status().verification
    }

    /// The meter's state now, with pending usage from the journal.
    pub fn status(&self) -> MeterStatus {
        let (mut status, _) = self.board.snapshot();
        status.settle_verification();
        status.accepting = !self.closing.load(Ordering::SeqCst);
        status.pending = self
            .shared
            .book()
            .slots
            .iter()
            .filter(|(_, s)| s.pending())
            .map(|((hour, dimension), s)| PendingUsage {
                hour: *hour,
                dimension: dimension.clone(),
                quantity: s.total - s.resolved.unwrap_or(0),
            })
            .collect();
        status
    }

    /// Counters since start.
    pub fn metrics(&self) -> MeterMetrics {
        let (_, mut metrics) = self.board.snapshot();
        metrics.journal_bytes = self.shared.journal_bytes.load(Ordering::Relaxed);
        metrics.idempotent_replays = self.shared.idempotent_replays.load(Ordering::Relaxed);
        metrics
    }

    /// Resolves when the status or metrics change next.
    pub async fn changed(&self) {
        self.board.changed.notified().await;
    }

    /// Stops accepting, reports everything pending (the current partial hour included) and
    /// returns what is still unsent after `timeout`; that stays in the journal for a restart.
    pub async fn shutdown(&self, timeout: Duration) -> Vec<PendingUsage> {
        self.closing.store(true, Ordering::SeqCst);
        self.board.update(|s, _| s.accepting = false);
        let (tx, rx) = oneshot::channel();
        self.writer.send(Command::Barrier(tx));
        let drained = async {
            let _ = rx.await;
            loop {
                let flushed = self.flushed.notified();
                self.flush.store(true, Ordering::SeqCst);
                self.wake.notify_one();
                flushed.await;
                // One more pass may be needed when a report resolved while it ran.
                if self.status().pending.is_empty() || self.blocked() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, drained).await;
        self.task.abort();
        if let Some(v) = &self.verifier {
            v.abort();
        }
        self.status().pending
    }

    /// True when nothing pending can be sent now: stopped, not entitled, refused
    /// dimensions, or usage carried into an hour that has not begun.
    fn blocked(&self) -> bool {
        let status = self.status();
        let this_hour = clock::hour_of(self.clock.now());
        status.stopped.is_some()
            || !status.entitled
            || status
                .pending
                .iter()
                .all(|p| status.refused_dimensions.contains_key(&p.dimension) || p.hour > this_hour)
    }
}

/// Refuses a journal holding unreported usage of another product: it would be billed to
/// the wrong one. A journal with nothing pending may change product.
fn check_product(
    dir: &std::path::Path,
    replayed: &lines::Replayed,
    configured: &str,
) -> Result<(), MeterError> {
    match &replayed.product_code {
        Some(kept) if kept != configured && replayed.book.has_pending() => {
            Err(MeterError::ProductMismatch {
                dir: dir.display().to_string(),
                journal: kept.clone(),
                configured: configured.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

impl Drop for Meter {
    /// Stops reporting and closes the journal before returning, so the directory's lock is
    /// free for the next meter (a restart in the same process). Waits at most for the
    /// journal's current write.
    fn drop(&mut self) {
        self.task.abort();
        if let Some(v) = &self.verifier {
            v.abort();
        }
        let (closed, wait) = mpsc::channel();
        self.writer.send(Command::Close(closed));
        let _ = wait.recv();
    }
}
