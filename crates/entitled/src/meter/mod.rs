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
mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

pub use clock::{rfc3339, Clock, ManualClock, SystemClock};
pub use error::MeterError;
pub use events::{EventLevel, MeterEvent};
pub use idempotency::{IdempotencyKey, MAX_IDEMPOTENCY_KEY_LEN};
pub use identity::{client_token, POD_UID_ENV};
pub use journal::JOURNAL_FILE;
pub use keys::KEY_WINDOW;
pub use status::{LastError, MeterMetrics, MeterStatus, PendingUsage};
pub use usage::{Tags, UsageRecord, MAX_QUANTITY, MAX_TAGS};

use crate::connection::{metering_client, Connection};
use crate::signing_credentials::SigningCredentials;
use crate::Backoff;
use entitled_verify::{ProductCode, ProductCodeError};
use events::EventHook;
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

/// Configures a [`Meter`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use entitled::meter::{Meter, UsageRecord};
/// let emulator = entitled_emulator::Emulator::start(entitled_emulator::Config::new()).await?;
/// let journal = tempfile::tempdir()?;
/// let meter = Meter::builder()
///     .product_code("prod-1")
///     .dimension("users")
///     .journal_dir(journal.path())
///     .endpoint_url(emulator.endpoint_url())
///     .region("us-east-1")
///     .static_credentials(entitled::StaticCredentials {
///         access_key_id: entitled_emulator::DEFAULT_ACCESS_KEY_ID.into(),
///         secret_access_key: entitled_emulator::DEFAULT_SECRET_ACCESS_KEY.into(),
///         session_token: None,
///     })
///     .build()
///     .await?;
/// meter.record(UsageRecord::new("users", 3).tag("team", "a")).await?;
/// assert_eq!(meter.status().pending[0].quantity, 3);
/// // Shutdown reports the partial hour.
/// let left = meter.shutdown(std::time::Duration::from_secs(10)).await;
/// assert!(left.is_empty());
/// assert_eq!(emulator.usage()[0].quantity, 3.0);
/// # Ok(()) }
/// ```
pub struct MeterBuilder {
    product_code: Option<Result<ProductCode, ProductCodeError>>,
    dimensions: Vec<String>,
    journal_dir: Option<PathBuf>,
    identity: Option<String>,
    clock: Arc<dyn Clock>,
    report_delay_max: Duration,
    backoff: Backoff,
    attempt_timeout: Duration,
    poll: Duration,
    connection: Connection,
    events: EventHook,
}

impl Default for MeterBuilder {
    fn default() -> Self {
        MeterBuilder {
            product_code: None,
            dimensions: Vec::new(),
            journal_dir: None,
            identity: None,
            clock: Arc::new(SystemClock),
            report_delay_max: DEFAULT_REPORT_DELAY_MAX,
            backoff: Backoff::full_jitter(Duration::from_secs(1), Duration::from_secs(5 * 60)),
            attempt_timeout: crate::DEFAULT_ATTEMPT_TIMEOUT,
            poll: Duration::from_secs(5),
            connection: Connection::default(),
            events: EventHook::default(),
        }
    }
}

impl MeterBuilder {
    crate::builder_setters::product_code_setter!();
    /// A pricing dimension (up to 24); records for other dimensions are refused.
    pub fn dimension(mut self, name: impl Into<String>) -> Self {
        self.dimensions.push(name.into());
        self
    }
    /// The directory holding the journal; it must exist and survive container restarts.
    pub fn journal_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.journal_dir = Some(dir.into());
        self
    }
    /// The identity for client tokens, instead of the ECS task ARN or pod identity.
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = Some(identity.into());
        self
    }
    /// The clock (tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// The longest random wait after an hour closes; zero reports at once.
    pub fn report_delay_max(mut self, max: Duration) -> Self {
        self.report_delay_max = max;
        self
    }
    crate::builder_setters::attempt_setters!(
        attempt_timeout: "The budget of one MeterUsage call, credentials included (default 10 s).",
        backoff: "The waits between retries of one hour's report (default full jitter, 1 s doubling to 5 minutes)."
    );
    /// How often the reporter looks for due hours and retries.
    pub fn poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }
    crate::builder_setters::connection_setters!();
    /// Where events go (default: errors to stderr).
    pub fn on_event(mut self, hook: impl Fn(&MeterEvent) + Send + Sync + 'static) -> Self {
        self.events = EventHook(Arc::new(hook));
        self
    }

    /// Opens the journal, resolves identity, Region and credentials, and starts reporting
    /// (on the current tokio runtime; the journal has its own thread).
    ///
    /// # Errors
    /// [`MeterError::Config`] for missing pieces, [`MeterError::Journal`] when the journal
    /// cannot be opened.
    pub async fn build(self) -> Result<Meter, MeterError> {
        let product_code = self
            .product_code
            .ok_or(crate::ConfigError::NoProductCode)?
            .map_err(crate::ConfigError::from)?;
        // The check's rules for what both take.
        if self.attempt_timeout.is_zero() {
            return Err(crate::ConfigError::ZeroDuration("the attempt timeout").into());
        }
        if self.poll.is_zero() {
            return Err(crate::ConfigError::ZeroDuration("the poll interval").into());
        }
        self.connection.validate()?;
        if self.dimensions.is_empty() || self.dimensions.len() > 24 {
            return Err(MeterError::Config(format!(
                "{} dimensions configured; give 1 to 24, as the product's listing defines them",
                self.dimensions.len()
            )));
        }
        if let Some(d) = self
            .dimensions
            .iter()
            .find(|d| d.is_empty() || d.len() > 255)
        {
            return Err(MeterError::Config(format!(
                "dimension {d:?} must be 1-255 characters"
            )));
        }
        let dir = self
            .journal_dir
            .ok_or_else(|| MeterError::Config("a journal directory is required".into()))?;
        let (mut journal, replayed) = journal::Journal::open(&dir)?;
        check_product(&dir, &replayed, product_code.as_str())?;
        let identity = match (self.identity, replayed.identity) {
            (Some(explicit), _) => explicit,
            (None, Some(kept)) => kept,
            (None, None) => match identity::from_environment().await {
                Some(found) => found,
                None => identity::random()
                    .map_err(|_| MeterError::Config("the OS random source failed".into()))?,
            },
        };
        if journal.len() == 0 {
            journal.append(lines::identity_line(&identity, product_code.as_str()).as_bytes())?;
        } else if replayed.product_code.as_deref() != Some(product_code.as_str()) {
            journal.append(lines::product_line(product_code.as_str()).as_bytes())?;
        }
        let answered_by = crate::credential_source::AnsweredBy::default();
        // A CA file skipped on the way must reach the operator, as the
        // check's `on_warning` does.
        let events = self.events.clone();
        let sdk_config = self
            .connection
            .load(
                self.attempt_timeout,
                &answered_by,
                Arc::new(move |warning: &crate::Warning| {
                    events.emit(MeterEvent::error("skipped", warning.to_string()))
                }),
            )
            .await?;
        let provider = crate::connection::region_and_credentials(&sdk_config)?;
        let client = metering_client(&sdk_config, self.attempt_timeout);

        let shared = Arc::new(Shared::new(
            identity,
            product_code.as_str().to_owned(),
            replayed.book,
            journal.len(),
        ));
        let (tx, rx) = mpsc::channel();
        let writer_shared = shared.clone();
        std::thread::Builder::new()
            .name("entitled-meter-journal".into())
            .spawn(move || writer::run(journal, writer_shared, rx))
            .map_err(|e| MeterError::Config(format!("cannot start the journal thread: {e}")))?;
        let writer = WriterHandle(tx);
        let board = Arc::new(Board::default());
        let flush = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(Notify::new());
        let flushed = Arc::new(Notify::new());
        let delay_max = self.report_delay_max.as_secs();
        let delay_seconds = if delay_max == 0 {
            0
        } else {
            // Uniform in [0, max]: the first wait of full jitter.
            (Backoff::full_jitter(self.report_delay_max, self.report_delay_max)
                .waits()
                .next_wait()
                .as_secs())
            .min(delay_max)
        };
        let reporter = sender::Reporter {
            client,
            credentials: SigningCredentials::new(provider, answered_by),
            product_code: product_code.as_str().to_owned(),
            shared: shared.clone(),
            writer: writer.clone(),
            clock: self.clock.clone(),
            delay_seconds,
            backoff: self.backoff,
            attempt_timeout: self.attempt_timeout,
            poll: self.poll,
            board: board.clone(),
            events: self.events,
            flush: flush.clone(),
            wake: wake.clone(),
            flushed: flushed.clone(),
            retries: Default::default(),
            refused_dimensions: Default::default(),
            stopped: false,
        };
        let task = tokio::spawn(reporter.run());
        Ok(Meter {
            product_code,
            dimensions: self.dimensions,
            clock: self.clock,
            shared,
            writer,
            board,
            closing: AtomicBool::new(false),
            flush,
            wake,
            flushed,
            task,
        })
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

    /// The meter's state now, with pending usage from the journal.
    pub fn status(&self) -> MeterStatus {
        let (mut status, _) = self.board.snapshot();
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
        let (closed, wait) = mpsc::channel();
        self.writer.send(Command::Close(closed));
        let _ = wait.recv();
    }
}
