//! Credentials from a buyer's licence token, for contract-priced products outside AWS
//! (EKS Anywhere, ECS Anywhere, on-premises Kubernetes): AWS Marketplace's "Anywhere".
//!
//! There is no task role or IRSA there. The buyer creates a licence token in License
//! Manager and stores it, with a role ARN, in the Kubernetes secret
//! `aws-marketplace-license-config`. The container exchanges the token for an access token
//! (License Manager `GetAccessToken`, unsigned), the access token for session credentials
//! (STS `AssumeRoleWithWebIdentity`, unsigned, for a role that trusts
//! `openid-license-manager.amazonaws.com`), and signs its License Manager calls with those.
//!
//! The provider reads the token file again for every exchange, so a buyer who rotates the
//! secret is picked up at the next refresh without a restart. Both calls are made once per
//! exchange (no retries here): the checkout's own loop retries what is transient, within
//! its deadline, as for every other credential source.

use std::path::PathBuf;
use std::time::SystemTime;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials};
use aws_credential_types::Credentials;
use aws_sdk_licensemanager::config::retry::RetryConfig;
use aws_sdk_licensemanager::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::classify::{classify_sdk, retryable_4xx, AttemptError, THROTTLING_CODES};
use crate::credential_source::CredentialSource;
use crate::error::CheckError;
use crate::reason::{Endpoint, RejectReason, Transient, TransientCause};

/// The seller guide's name for the licence token file.
pub(crate) const REFRESH_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE";
/// The name the guide's Go sample reads instead.
pub(crate) const LICENSE_ACCESS_FILE: &str = "AWS_LICENSE_ACCESS_FILE";
/// The role the access token is exchanged for.
const ROLE_ARN: &str = "AWS_ROLE_ARN";
/// The Region the guide names when nothing else does.
pub(crate) const DEFAULT_REGION: &str = "us-east-1";
/// License Manager takes tokens of at most 4096 characters.
const MAX_TOKEN_CHARS: usize = 4096;
/// A bound for reading the file: a token with whitespace around it is far below this.
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;
/// The STS session name, as CloudTrail shows it.
const SESSION_NAME: &str = "entitled-anywhere";

/// Where the licence token and the role come from: the environment, as the seller guide
/// has the buyer's secret mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LicenseTokenSettings {
    /// The variable that named the token file, for messages.
    pub variable: &'static str,
    /// The token file.
    pub token_file: PathBuf,
    /// The role to assume, if set.
    pub role_arn: Option<String>,
}

impl LicenseTokenSettings {
    /// The Anywhere settings, when the environment names a licence token file.
    pub fn from_env() -> Option<Self> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        let (variable, file) = [REFRESH_TOKEN_FILE, LICENSE_ACCESS_FILE]
            .into_iter()
            .find_map(|name| var(name).map(|file| (name, file)))?;
        Some(LicenseTokenSettings {
            variable,
            token_file: PathBuf::from(file),
            role_arn: std::env::var(ROLE_ARN).ok().filter(|v| !v.is_empty()),
        })
    }

    /// The refusal for a token or role that cannot be used: names the file, the role and
    /// (through the reason's hint) the buyer's secret.
    fn refused(&self, message: impl std::fmt::Display) -> AnywhereFailure {
        AnywhereFailure::Refused(format!(
            "{message} (licence token file {}={}, role {ROLE_ARN}={})",
            self.variable,
            self.token_file.display(),
            self.role_arn.as_deref().unwrap_or("(unset)")
        ))
    }
}

/// Where the two exchanges go, and how they travel.
pub(crate) struct Exchange {
    /// The HTTP client of the connection: its trust store and loopback rules.
    pub http: SharedHttpClient,
    /// The Region (the guide's default when nothing named one).
    pub region: Region,
    /// License Manager's endpoint override, if any.
    pub license_manager_url: Option<String>,
    /// STS's endpoint override, if any.
    pub sts_url: Option<String>,
    /// Each call's time limit.
    pub timeouts: aws_sdk_licensemanager::config::timeout::TimeoutConfig,
}

/// A failed exchange, in a form that survives the trip through the SDK's credentials
/// error: [`crate::signing_credentials`] takes it back out, typed.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum AnywhereFailure {
    /// Worth another attempt.
    #[error("{0}")]
    Transient(Transient),
    /// The token, the role or the configuration was refused.
    #[error("{0}")]
    Refused(String),
    /// Refused for another reason than the token (an untrusted certificate).
    #[error("{1}")]
    Rejected(RejectReason, String),
}

impl AnywhereFailure {
    /// The check's own error for this failure.
    pub fn to_attempt(&self) -> AttemptError {
        match self {
            AnywhereFailure::Transient(t) => AttemptError::Transient(t.clone()),
            AnywhereFailure::Refused(message) => {
                AttemptError::Fatal(CheckError::license_token_refused(message))
            }
            AnywhereFailure::Rejected(reason, message) => AttemptError::Fatal(
                CheckError::rejected(reason.clone(), message.clone())
                    .with_credential_source(Some(CredentialSource::LicenseToken)),
            ),
        }
    }

    /// The failure a credentials error carries, if it came from this provider.
    pub fn carried_by(err: &CredentialsError) -> Option<&AnywhereFailure> {
        std::error::Error::source(err)?.downcast_ref::<AnywhereFailure>()
    }
}

/// The credentials provider: licence token → access token → session credentials.
#[derive(Debug)]
pub(crate) struct LicenseTokenProvider {
    settings: LicenseTokenSettings,
    license_manager: aws_sdk_licensemanager::Client,
    sts: aws_sdk_sts::Client,
}

impl LicenseTokenProvider {
    pub fn new(settings: LicenseTokenSettings, exchange: Exchange) -> Self {
        let mut license_manager = aws_sdk_licensemanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(exchange.http.clone())
            .region(exchange.region.clone())
            .retry_config(RetryConfig::disabled())
            .timeout_config(exchange.timeouts.clone())
            .interceptor(crate::body_limit::ResponseBodyLimit)
            // GetAccessToken is the call that gets credentials: it has none to sign with.
            .allow_no_auth();
        license_manager.set_endpoint_url(exchange.license_manager_url);
        let mut sts = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(exchange.http)
            .region(exchange.region)
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .timeout_config(exchange.timeouts)
            .interceptor(crate::body_limit::ResponseBodyLimit);
        sts.set_endpoint_url(exchange.sts_url);
        LicenseTokenProvider {
            settings,
            license_manager: aws_sdk_licensemanager::Client::from_conf(license_manager.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
        }
    }

    async fn exchange(&self) -> Result<Credentials, AnywhereFailure> {
        let role_arn = self.settings.role_arn.clone().ok_or_else(|| {
            self.settings.refused(format!(
                "{ROLE_ARN} is not set: the role comes from the secret's iam_role key"
            ))
        })?;
        let token = self.read_token().await?;
        let access_token = self.access_token(token).await?;
        self.assume(&role_arn, access_token).await
    }

    /// The token, read bounded and off the async threads (the file may be on a mount that
    /// hangs).
    async fn read_token(&self) -> Result<String, AnywhereFailure> {
        let path = self.settings.token_file.clone();
        let read = tokio::task::spawn_blocking(move || {
            entitled_verify::bounded::read_regular_file(&path, MAX_TOKEN_FILE_BYTES)
        })
        .await
        .map_err(|e| {
            self.settings
                .refused(format!("reading the licence token: {e}"))
        })?;
        let bytes = read.map_err(|e| {
            self.settings
                .refused(format!("the licence token file cannot be used: {e}"))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            self.settings
                .refused("the licence token file is not UTF-8 text")
        })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(self.settings.refused("the licence token file is empty"));
        }
        if token.chars().count() > MAX_TOKEN_CHARS {
            return Err(self.settings.refused(format!(
                "the licence token is longer than the {MAX_TOKEN_CHARS} characters License Manager takes"
            )));
        }
        Ok(token.to_owned())
    }

    async fn access_token(&self, token: String) -> Result<String, AnywhereFailure> {
        let answer = self
            .license_manager
            .get_access_token()
            .token(token)
            .send()
            .await
            .map_err(|e| self.failure("License Manager GetAccessToken", &e))?;
        answer
            .access_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                AnywhereFailure::Transient(Transient {
                    endpoint: Endpoint::Credentials,
                    cause: TransientCause::MalformedAnswer,
                    detail: "License Manager GetAccessToken answered without an access token"
                        .into(),
                })
            })
    }

    async fn assume(
        &self,
        role_arn: &str,
        access_token: String,
    ) -> Result<Credentials, AnywhereFailure> {
        let answer = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(role_arn)
            .role_session_name(SESSION_NAME)
            .web_identity_token(access_token)
            .send()
            .await
            .map_err(|e| self.failure("STS AssumeRoleWithWebIdentity", &e))?;
        let creds = answer.credentials().ok_or_else(|| {
            AnywhereFailure::Transient(Transient {
                endpoint: Endpoint::Credentials,
                cause: TransientCause::MalformedAnswer,
                detail: "STS AssumeRoleWithWebIdentity answered without credentials".into(),
            })
        })?;
        let expiry = SystemTime::try_from(*creds.expiration()).ok();
        Ok(Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
            expiry,
            "LicenseToken",
        ))
    }

    /// Classifies a failed exchange call: throttling, 5xx, network and timeouts are
    /// transient at the credentials endpoint; an answer refusing the token or the role is a
    /// licence token refusal.
    fn failure<E>(&self, call: &str, err: &SdkError<E, HttpResponse>) -> AnywhereFailure
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        let attempt: AttemptError = classify_sdk(err, |e, status, message| {
            exchange_answer(call, e.code(), status, message)
        });
        match attempt {
            AttemptError::Transient(t) => AnywhereFailure::Transient(Transient {
                endpoint: Endpoint::Credentials,
                detail: format!("{call}: {}", t.detail),
                ..t
            }),
            AttemptError::Fatal(CheckError::Rejected {
                reason: RejectReason::LicenseTokenRefused,
                message,
                ..
            }) => self.settings.refused(message),
            AttemptError::Fatal(CheckError::Rejected {
                reason, message, ..
            }) => AnywhereFailure::Rejected(reason, format!("{call}: {message}")),
            AttemptError::Fatal(other) => self.settings.refused(format!("{call}: {other}")),
        }
    }
}

/// An error answer from GetAccessToken or AssumeRoleWithWebIdentity: later for the
/// services' own "busy" codes, 5xx and 429; a refusal of the token for everything else.
fn exchange_answer(call: &str, code: Option<&str>, status: u16, message: String) -> AttemptError {
    let code_text = code.unwrap_or("no error code");
    let busy = matches!(
        code,
        Some("RateLimitExceededException" | "ServerInternalException" | "IDPCommunicationError")
    ) || code.is_some_and(|c| THROTTLING_CODES.contains(&c))
        || status >= 500
        || retryable_4xx(status);
    if busy {
        let server = status >= 500
            || matches!(
                code,
                Some("ServerInternalException" | "IDPCommunicationError")
            );
        let cause = if server {
            TransientCause::ServerError
        } else {
            TransientCause::Throttled
        };
        return AttemptError::Transient(Transient {
            endpoint: Endpoint::Credentials,
            cause,
            detail: format!("{code_text} (HTTP {status}): {message}"),
        });
    }
    AttemptError::Fatal(CheckError::rejected(
        RejectReason::LicenseTokenRefused,
        format!("{call} refused it: {code_text} (HTTP {status}): {message}"),
    ))
}

impl ProvideCredentials for LicenseTokenProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.exchange()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(err: AttemptError) -> String {
        match err {
            AttemptError::Transient(t) => format!("75:{}", t.cause),
            AttemptError::Fatal(e) => format!("{}:{}", e.exit_code(), e),
        }
    }

    #[test]
    fn busy_answers_are_transient_and_refusals_name_the_call() {
        let table: &[(Option<&str>, u16, &str)] = &[
            (Some("RateLimitExceededException"), 429, "75:throttled"),
            (Some("ServerInternalException"), 500, "75:server_error"),
            (Some("IDPCommunicationError"), 400, "75:server_error"),
            (Some("Throttling"), 400, "75:throttled"),
            (None, 503, "75:server_error"),
            (None, 429, "75:throttled"),
        ];
        for (code, status, want) in table {
            assert_eq!(
                name(exchange_answer(
                    "GetAccessToken",
                    *code,
                    *status,
                    "m".into()
                )),
                *want,
                "{code:?}"
            );
        }
        for (code, status) in [
            ("AuthorizationException", 403),
            ("ValidationException", 400),
            ("AccessDenied", 403),
            ("InvalidIdentityToken", 400),
            ("ExpiredTokenException", 400),
        ] {
            let text = name(exchange_answer(
                "GetAccessToken",
                Some(code),
                status,
                "m".into(),
            ));
            assert!(text.starts_with("78:"), "{code}: {text}");
            assert!(text.contains("GetAccessToken refused it: "), "{text}");
            assert!(text.contains("aws-marketplace-license-config"), "{text}");
        }
    }

    #[test]
    fn a_failure_survives_the_trip_through_a_credentials_error() {
        let failure = AnywhereFailure::Refused("the licence token file is empty".into());
        let err = CredentialsError::provider_error(failure);
        let carried = AnywhereFailure::carried_by(&err).expect("carried");
        match carried.to_attempt() {
            AttemptError::Fatal(e) => {
                assert_eq!(e.exit_code(), 78);
                assert_eq!(e.credential_source(), Some(CredentialSource::LicenseToken));
            }
            other => panic!("{other:?}"),
        }
    }
}
