//! The entitlement check: call RegisterUsage with a fresh nonce, retry what is
//! transient until the deadline, and verify the token that comes back.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_marketplacemetering::Client;

use crate::backoff::Backoff;
use crate::classify::{classify_call, AttemptError};
use crate::connection::{metering_client, Connection};
use crate::credential_source::AnsweredBy;
use crate::entitlement::Entitlement;
use crate::error::{CheckError, ConfigError};
use crate::reason::{Endpoint, Transient, TransientCause};
use crate::signing_credentials::SigningCredentials;
use crate::trust::Warning;
use entitled_verify::Nonce;
use entitled_verify::{verify, Expected, VerifyError};
use entitled_verify::{KeySet, KeyVersion, KeyVersionError, ProductCode, ProductCodeError};

/// AWS advises retrying transient failures for up to 30 minutes.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// Long enough for a cold TLS handshake and credential fetch, short enough to
/// notice a stalled connection.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Told after each transient failure, so callers can log progress: before
/// each retry, and once more when the deadline leaves no time for another
/// attempt ([`no_time_left`](Self::no_time_left)).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryEvent {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// Why it failed, as text.
    pub reason: String,
    /// Why it failed: the endpoint and the cause, for logs keyed by cause.
    pub cause: Transient,
    /// How long until the next attempt; with `no_time_left`, how long until
    /// the deadline, which ends the check without another attempt.
    pub delay: Duration,
    /// The backoff's next wait reaches past the deadline: no attempt
    /// follows, and the check ends with [`CheckError::Unavailable`].
    pub no_time_left: bool,
}

impl std::fmt::Display for RetryEvent {
    /// `attempt 2 failed: <reason>; retrying in 830 ms`, or with no time
    /// left, `...; no time left before the deadline for another attempt`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attempt {} failed: {}; ", self.attempt, self.reason)?;
        if self.no_time_left {
            f.write_str("no time left before the deadline for another attempt")
        } else {
            write!(f, "retrying in {} ms", self.delay.as_millis())
        }
    }
}

pub(crate) type RetryHook = Arc<dyn Fn(&RetryEvent) + Send + Sync>;
pub(crate) type WarningHook = Arc<dyn Fn(&Warning) + Send + Sync>;

/// Configures an entitlement check.
///
/// In production, set the product code, keys and key version only: the
/// endpoint, Region and credentials come from the ECS task or EKS pod, and
/// the program exits with [`CheckError::exit_code`] on failure (the crate
/// documentation shows that whole program). To test an app against the
/// local emulator, four builder methods replace the environment, so the test
/// needs no `aws-config` or `aws-credential-types` dependency:
/// [`endpoint_url`](Self::endpoint_url), [`region`](Self::region),
/// [`static_credentials`](Self::static_credentials) and, for the emulator's
/// HTTPS, [`extra_root_certificates`](Self::extra_root_certificates). This
/// is such a test, not an app's `main`:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use entitled::{Check, KeySet, KeyVersion, PublicKey, StaticCredentials};
/// use entitled_emulator::{Config, Emulator, Product};
///
/// let fixtures = "../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072";
/// let private_pem = std::fs::read_to_string(format!("{fixtures}.private.pem"))?;
/// let emulator = Emulator::start(
///     Config::new()
///         .region("us-east-1")
///         .static_credentials("AKIDEXAMPLE", "secret")
///         .product(Product::new("prod-abc123").key_pem(1, &private_pem)?),
/// )
/// .await?;
///
/// let key = PublicKey::from_file(format!("{fixtures}.public.pem"))?;
/// let entitlement = Check::builder()
///     .product_code("prod-abc123")
///     .keys(KeySet::new().with(KeyVersion::FIRST, key))
///     .key_version(1)
///     .endpoint_url(emulator.endpoint_url())
///     .region("us-east-1")
///     .static_credentials(StaticCredentials {
///         access_key_id: "AKIDEXAMPLE".into(),
///         secret_access_key: "secret".into(),
///         session_token: None,
///     })
///     .run()
///     .await?;
/// assert_eq!(entitlement.product_code(), "prod-abc123");
/// assert_eq!(entitlement.attempts(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct CheckBuilder {
    product_code: Option<Result<ProductCode, ProductCodeError>>,
    keys: KeySet,
    key_version: Result<KeyVersion, KeyVersionError>,
    deadline: Duration,
    attempt_timeout: Duration,
    backoff: Backoff,
    connection: Connection,
    on_retry: Option<RetryHook>,
    on_warning: Option<WarningHook>,
}

impl fmt::Debug for CheckBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckBuilder")
            .field("product_code", &self.product_code)
            .field("key_version", &self.key_version)
            .field("deadline", &self.deadline)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl Default for CheckBuilder {
    fn default() -> Self {
        Self {
            product_code: None,
            keys: KeySet::new(),
            key_version: Ok(KeyVersion::FIRST),
            deadline: DEFAULT_DEADLINE,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            backoff: Backoff::default(),
            connection: Connection::default(),
            on_retry: None,
            on_warning: None,
        }
    }
}

impl CheckBuilder {
    crate::builder_setters::product_code_setter!();
    /// The product's trusted public keys.
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.keys = keys;
        self
    }
    /// The key version to ask for and verify against (default 1): a
    /// [`KeyVersion`], or an integer that [`build`](Self::build) validates
    /// into one.
    pub fn key_version<V>(mut self, version: V) -> Self
    where
        V: TryInto<KeyVersion>,
        V::Error: Into<KeyVersionError>,
    {
        self.key_version = version.try_into().map_err(Into::into);
        self
    }
    /// Total time for the check, retries included (default 30 minutes).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
    crate::builder_setters::attempt_setters!(
        attempt_timeout: "Time for one attempt: credentials plus the call (default 10 s).",
        backoff: "The waits between attempts (default [`Backoff::default`]: AWS's decorrelated jitter, base 1 s, cap 10 s)."
    );
    crate::builder_setters::connection_setters!();
    /// Locks the check to AWS's own endpoints and the Amazon Trust Services
    /// roots, for a buyer who controls the environment: an
    /// `AWS_ENDPOINT_URL*` variable is refused (a rejection with
    /// [`RejectReason::Locked`](crate::RejectReason::Locked), exit code 78),
    /// `AWS_CA_BUNDLE`, `SSL_CERT_FILE` and `SSL_CERT_DIR` are ignored, and
    /// RegisterUsage goes to `metering.marketplace.<region>.amazonaws.com`.
    /// Contract pricing's licence answers carry no signature a seller can
    /// check, so this is what keeps a fake answer out. Cannot be combined
    /// with [`endpoint_url`](Self::endpoint_url) or
    /// [`extra_root_certificates`](Self::extra_root_certificates).
    ///
    /// ```
    /// use entitled::{Check, ConfigError, KeySet, KeyVersion, PublicKey};
    /// # let key = PublicKey::from_file("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem").unwrap();
    /// let locked = Check::builder()
    ///     .product_code("prod-abc123")
    ///     .keys(KeySet::new().with(KeyVersion::FIRST, key))
    ///     .locked();
    /// assert!(locked.clone().build().is_ok());
    /// let err = locked.endpoint_url("http://127.0.0.1:9000").build().unwrap_err();
    /// assert!(matches!(err, ConfigError::Locked(_)));
    /// ```
    pub fn locked(mut self) -> Self {
        self.connection.locked = true;
        self
    }
    /// Called after each transient failure: before each retry, and once
    /// more when the deadline leaves no time for another attempt (see
    /// [`RetryEvent`]; its `Display` is a ready log line).
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Called for what the check skipped and went on without, such as a CA
    /// file that is a FIFO.
    pub fn on_warning(mut self, hook: impl Fn(&Warning) + Send + Sync + 'static) -> Self {
        self.on_warning = Some(Arc::new(hook));
        self
    }

    /// Validates the configuration. No call is made.
    pub fn build(self) -> Result<Check, ConfigError> {
        let product_code = self.product_code.ok_or(ConfigError::NoProductCode)??;
        let key_version = self.key_version?;
        if self.keys.get(key_version).is_none() {
            return Err(ConfigError::NoKeyForVersion(key_version));
        }
        if self.deadline.is_zero() {
            return Err(ConfigError::ZeroDuration("the deadline"));
        }
        if self.attempt_timeout.is_zero() {
            return Err(ConfigError::ZeroDuration("the attempt timeout"));
        }
        self.connection.validate()?;
        Ok(Check {
            product_code,
            keys: self.keys,
            key_version,
            deadline: self.deadline,
            attempt_timeout: self.attempt_timeout,
            backoff: self.backoff,
            connection: self.connection,
            on_retry: self.on_retry,
            on_warning: self.on_warning,
        })
    }

    /// Validates, then runs the check.
    pub async fn run(self) -> Result<Entitlement, CheckError> {
        self.build()?.run().await
    }
}

/// A validated entitlement check, ready to run.
#[derive(Clone)]
pub struct Check {
    product_code: ProductCode,
    keys: KeySet,
    key_version: KeyVersion,
    deadline: Duration,
    attempt_timeout: Duration,
    backoff: Backoff,
    connection: Connection,
    on_retry: Option<RetryHook>,
    on_warning: Option<WarningHook>,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("product_code", &self.product_code)
            .field("key_version", &self.key_version)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// What one successful call returned, before verification.
struct Answer {
    token: Option<String>,
    key_rotation: Option<SystemTime>,
}

impl Check {
    /// Starts configuring a check.
    pub fn builder() -> CheckBuilder {
        CheckBuilder::default()
    }

    /// Calls RegisterUsage until it answers or the deadline passes, and
    /// verifies the answer.
    pub async fn run(&self) -> Result<Entitlement, CheckError> {
        let started = Instant::now();
        let deadline_at = started + self.deadline;
        let answered_by = AnsweredBy::default();
        let on_warning = self
            .on_warning
            .clone()
            .unwrap_or_else(|| Arc::new(|_: &Warning| {}));
        let sdk_config = tokio::time::timeout_at(
            deadline_at.into(),
            self.connection
                .load(self.attempt_timeout, &answered_by, on_warning),
        )
        .await
        .map_err(|_| {
            unavailable(
                0,
                started,
                Transient {
                    endpoint: Endpoint::Region,
                    cause: TransientCause::Timeout,
                    detail: "resolving the Region took until the deadline".into(),
                },
            )
        })??;
        let credentials = crate::connection::region_and_credentials(&sdk_config)?;
        let client = metering_client(&sdk_config, self.attempt_timeout);
        let mut session = Session {
            client,
            credentials: SigningCredentials::new(credentials, answered_by),
        };

        let mut attempts = 0u32;
        let mut waits = self.backoff.waits();
        let mut last = Transient {
            endpoint: Endpoint::Metering,
            cause: TransientCause::Timeout,
            detail: "no attempt finished before the deadline".into(),
        };
        loop {
            let remaining = deadline_at.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(unavailable(attempts, started, last));
            }
            attempts += 1;
            let nonce = Nonce::generate().map_err(ConfigError::from)?;
            let budget = self.attempt_timeout.min(remaining);
            let cause = match tokio::time::timeout(budget, session.attempt(self, &nonce)).await {
                Ok(Ok(answer)) => return self.accept(answer, &nonce, attempts),
                Ok(Err(AttemptError::Fatal(err))) => {
                    return Err(err.with_credential_source(session.credentials.answered_by.get()))
                }
                Ok(Err(AttemptError::Transient(cause))) => cause,
                Err(_) => Transient {
                    endpoint: session.credentials.waiting_on(),
                    cause: TransientCause::Timeout,
                    detail: format!("attempt timed out after {} ms", budget.as_millis()),
                },
            };
            let wait = waits.next_wait();
            let remaining = deadline_at.saturating_duration_since(Instant::now());
            // An attempt can only start before the deadline: a wait that
            // reaches it leaves none, and the loop ends after the sleep.
            let no_time_left = wait >= remaining;
            let delay = wait.min(remaining);
            if let Some(hook) = &self.on_retry {
                hook(&RetryEvent {
                    attempt: attempts,
                    reason: cause.to_string(),
                    cause: cause.clone(),
                    delay,
                    no_time_left,
                });
            }
            last = cause;
            tokio::time::sleep(delay).await;
        }
    }

    fn accept(
        &self,
        answer: Answer,
        nonce: &Nonce,
        attempts: u32,
    ) -> Result<Entitlement, CheckError> {
        let token = answer.token.ok_or(VerifyError::NoToken)?;
        let expected = Expected::new(&self.product_code, self.key_version, nonce.as_str());
        let verified = verify(&token, &self.keys, &expected)?;
        Ok(Entitlement::new(verified, attempts, answer.key_rotation))
    }
}

fn unavailable(attempts: u32, started: Instant, last: Transient) -> CheckError {
    CheckError::Unavailable {
        attempts,
        elapsed: started.elapsed(),
        last,
    }
}

/// The client and the credentials it signs with across attempts.
struct Session {
    client: Client,
    credentials: SigningCredentials,
}

impl Session {
    async fn attempt(&mut self, check: &Check, nonce: &Nonce) -> Result<Answer, AttemptError> {
        let credentials = self.credentials.get().await?;
        let result = self
            .client
            .register_usage()
            .product_code(check.product_code.as_str())
            .public_key_version(i32::from(check.key_version))
            .nonce(nonce.as_str())
            .customize()
            .config_override(
                aws_sdk_marketplacemetering::config::Builder::default()
                    .credentials_provider(credentials),
            )
            .send()
            .await;
        match result {
            Ok(output) => Ok(Answer {
                token: output.signature().map(str::to_owned),
                key_rotation: output
                    .public_key_rotation_timestamp()
                    .and_then(|t| SystemTime::try_from(*t).ok()),
            }),
            Err(err) => Err(classify_call(err, check.product_code.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_refuses_missing_pieces_before_any_call() {
        let err = Check::builder().build().unwrap_err();
        assert!(matches!(err, ConfigError::NoProductCode));
        let err = Check::builder().product_code("p").build().unwrap_err();
        assert!(matches!(err, ConfigError::NoKeyForVersion(v) if v.get() == 1));
        let err = Check::builder()
            .product_code("p")
            .key_version(0)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::KeyVersion(_)), "{err}");
        let err = Check::builder()
            .product_code("p")
            .key_version(3_000_000_000u32)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::KeyVersion(_)), "{err}");
        let err = Check::builder()
            .product_code("has space")
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::ProductCode(_)), "{err}");
    }

    #[test]
    fn extra_roots_without_a_usable_certificate_are_a_configuration_error() {
        let key =
            include_bytes!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
        let keys = KeySet::new().with(
            KeyVersion::FIRST,
            entitled_verify::PublicKey::from_pem(key).unwrap(),
        );
        let err = Check::builder()
            .product_code("p")
            .keys(keys)
            .extra_root_certificates(key.to_vec())
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::ExtraRoots), "{err}");
    }
}
