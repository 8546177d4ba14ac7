//! [`MeterBuilder`]: what a meter reports and where, checked before anything starts.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use entitled_verify::{ProductCode, ProductCodeError};
use tokio::sync::Notify;

use crate::connection::{metering_client, Connection};
use crate::signing_credentials::SigningCredentials;
use crate::Backoff;

use super::clock::{Clock, SystemClock};
use super::events::EventHook;
use super::status::Board;
use super::writer::Shared;
use super::{
    check_product, identity, journal, lines, sender, verify, writer, Meter, MeterError, MeterEvent,
    WriterHandle, DEFAULT_REPORT_DELAY_MAX,
};

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
    verify_within: Option<Duration>,
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
            verify_within: None,
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

    /// Checks at `build`, with a MeterUsage `DryRun` per dimension, that AWS would take the
    /// reports, waiting at most `within` for the answers (the sidecar waits 5 s).
    ///
    /// - A refusal of every report (invalid product code, platform not supported, access
    ///   denied, wrong Region, refused or missing credentials) or of a dimension
    ///   (`InvalidUsageDimensionException`) fails `build` with [`MeterError::Refused`]
    ///   (exit code 78): a misconfiguration shows at start, not when the hour is reported.
    /// - `CustomerNotEntitledException` builds the meter with
    ///   [`Verification::NotEntitled`] and checks again in the background.
    /// - A transient failure, or no answer within `within`, builds it with
    ///   [`Verification::Unknown`] and keeps trying in the background with the meter's
    ///   backoff until AWS answers.
    ///
    /// Without this option the status stays unknown until a report goes through.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use entitled::meter::{Meter, MeterError, Verification};
    /// let emulator = entitled_emulator::Emulator::start(entitled_emulator::Config::new()
    ///     .product(entitled_emulator::Product::new("prod-1").dimensions(["users"]))).await?;
    /// let journal = tempfile::tempdir()?;
    /// let meter = |dimension: &str| Meter::builder().product_code("prod-1").dimension(dimension)
    ///     .journal_dir(journal.path()).endpoint_url(emulator.endpoint_url()).region("us-east-1")
    ///     .static_credentials(entitled::StaticCredentials {
    ///         access_key_id: entitled_emulator::DEFAULT_ACCESS_KEY_ID.into(),
    ///         secret_access_key: entitled_emulator::DEFAULT_SECRET_ACCESS_KEY.into(),
    ///         session_token: None,
    ///     })
    ///     .verify_within(std::time::Duration::from_secs(5)).build();
    /// let refused = meter("hosts").await.unwrap_err();
    /// assert!(matches!(&refused, MeterError::Refused { dimension: Some(d), .. } if d == "hosts"));
    /// assert_eq!(refused.exit_code(), 78);
    /// assert_eq!(meter("users").await?.verification(), Verification::Verified);
    /// assert!(emulator.usage().is_empty(), "a DryRun records nothing");
    /// # Ok(()) }
    /// ```
    pub fn verify_within(mut self, within: Duration) -> Self {
        self.verify_within = Some(within);
        self
    }

    /// Opens the journal, resolves identity, Region and credentials, and starts reporting
    /// (on the current tokio runtime; the journal has its own thread).
    ///
    /// # Errors
    /// [`MeterError::Config`] for missing pieces, [`MeterError::Journal`] when the journal
    /// cannot be opened, [`MeterError::Refused`] when the start-up check
    /// ([`MeterBuilder::verify_within`]) was refused.
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
        let board = Arc::new(Board::default());
        let verifier = match self.verify_within {
            Some(within) => {
                let check = verify::Verifier {
                    client: client.clone(),
                    credentials: SigningCredentials::new(provider.clone(), answered_by.clone()),
                    product_code: product_code.as_str().to_owned(),
                    unverified: self.dimensions.clone(),
                    first_dimension: self.dimensions[0].clone(),
                    clock: self.clock.clone(),
                    attempt_timeout: self.attempt_timeout,
                    backoff: self.backoff,
                    board: board.clone(),
                    events: self.events.clone(),
                };
                verify::at_start(check, within).await?
            }
            None => None,
        };

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
            verifier,
        })
    }
}
