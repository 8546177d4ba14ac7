//! Where and how the check reaches the Metering Service: endpoint, Region,
//! credentials and trust roots, and the SDK client built from them.
//!
//! Callers set these through [`CheckBuilder`](crate::CheckBuilder) methods
//! that take plain values, so no aws-config or aws-credential-types type is
//! part of this crate's API and its semver is its own.

use std::fmt;
use std::time::Duration;

use aws_config::provider_config::ProviderConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_marketplacemetering::config::{retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_marketplacemetering::Client;

use crate::credential_source::{AnsweredBy, CredentialSource, Tagged};
use crate::credentials::credentials_chain;
use crate::env_files::check_named_files;
use crate::error::CheckError;
use crate::reason::RejectReason;
use crate::region::region_chain;
use crate::transport::Warning;

/// Fixed AWS credentials, instead of the ECS task role or EKS IRSA chain.
///
/// For tests against a local Metering Service emulator: AWS Marketplace
/// refuses long-term keys for RegisterUsage (`PlatformNotSupportedException`).
/// Named fields, so the key id and the secret cannot be swapped.
///
/// ```
/// let creds = entitled::StaticCredentials {
///     access_key_id: "AKIDEXAMPLE".into(),
///     secret_access_key: "secret".into(),
///     session_token: None,
/// };
/// assert!(!format!("{creds:?}").contains("secret"), "the secret is never printed");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The AWS services the library calls, for their endpoint variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    /// The AWS Marketplace Metering Service.
    Metering,
    /// AWS License Manager.
    LicenseManager,
}

impl Service {
    /// The SDK's service-specific endpoint variable.
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Service::Metering => "AWS_ENDPOINT_URL_MARKETPLACE_METERING",
            Service::LicenseManager => "AWS_ENDPOINT_URL_LICENSE_MANAGER",
        }
    }
}

/// The caller's overrides; `None` means the AWS default for that part.
#[derive(Clone, Debug, Default)]
pub(crate) struct Connection {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub credentials: Option<StaticCredentials>,
    pub extra_roots_pem: Option<Vec<u8>>,
}

impl Connection {
    /// aws-config's defaults with our HTTP client, our Region chain, and SDK
    /// retries off: the check owns its retry loop, because the SDK's shared
    /// retry-token bucket drains during a long throttling episode.
    /// The credential provider records in `answered_by` which source answered.
    ///
    /// Also returns what was skipped on the way, as warnings.
    pub async fn load(
        &self,
        attempt_timeout: Duration,
        answered_by: &AnsweredBy,
    ) -> Result<(SdkConfig, Vec<Warning>), CheckError> {
        self.load_for(Service::Metering, attempt_timeout, answered_by)
            .await
    }

    /// The endpoint override in effect for `service`: the builder's, else the
    /// SDK's variables, with the precedence aws-config applies.
    pub fn endpoint_for(&self, service: Service) -> Option<String> {
        self.endpoint_url.clone().or_else(|| {
            [service.endpoint_variable(), "AWS_ENDPOINT_URL"]
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        })
    }

    /// As [`load`](Self::load), for the client of `service`.
    pub async fn load_for(
        &self,
        service: Service,
        attempt_timeout: Duration,
        answered_by: &AnsweredBy,
    ) -> Result<(SdkConfig, Vec<Warning>), CheckError> {
        // Needed here to decide whether the system trust store must be read
        // at all.
        let endpoint = self.endpoint_for(service);
        // File reads block, even bounded ones (a hung network mount): off the
        // async thread, so the caller's deadline and cancellation still work.
        let extra_roots = self.extra_roots_pem.clone();
        let (http, warnings) = tokio::task::spawn_blocking(move || {
            check_named_files()?;
            crate::transport::http_client_for_endpoint(endpoint.as_deref(), extra_roots.as_deref())
                .map_err(|e| CheckError::rejected(RejectReason::TlsSetup, e.to_string()))
        })
        .await
        .map_err(|e| CheckError::rejected(RejectReason::TlsSetup, e.to_string()))??;
        // The Region first: the credential providers need it (STS for IRSA).
        let region = match &self.region {
            Some(region) => Some(Region::new(region.clone())),
            None => {
                let ecs_metadata = std::env::var("ECS_CONTAINER_METADATA_URI_V4").ok();
                region_chain(ecs_metadata, http.clone()).region().await
            }
        };
        let credentials = match &self.credentials {
            Some(c) => SharedCredentialsProvider::new(Tagged::new(
                Credentials::new(
                    c.access_key_id.clone(),
                    c.secret_access_key.clone(),
                    c.session_token.clone(),
                    None,
                    "entitled-static",
                ),
                CredentialSource::Static,
                answered_by,
            )),
            None => {
                // No retries inside the providers either (STS for IRSA): the
                // check's own loop retries what is transient, so one check
                // makes exactly the credential calls it needs.
                let provider_config = ProviderConfig::default()
                    .with_http_client(http.clone())
                    .with_region(region.clone())
                    .with_retry_config(RetryConfig::disabled());
                SharedCredentialsProvider::new(credentials_chain(&provider_config, answered_by))
            }
        };
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(region)
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts(attempt_timeout));
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        Ok((loader.load().await, warnings))
    }
}

pub(crate) fn timeouts(attempt_timeout: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(attempt_timeout.min(Duration::from_secs(5)))
        .operation_attempt_timeout(attempt_timeout)
        .build()
}

/// The Metering client, with the check's retry and timeout policy and the
/// response body limit.
pub(crate) fn metering_client(sdk_config: &SdkConfig, attempt_timeout: Duration) -> Client {
    let config = aws_sdk_marketplacemetering::config::Builder::from(sdk_config)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts(attempt_timeout))
        .interceptor(crate::body_limit::ResponseBodyLimit)
        .build();
    Client::from_conf(config)
}
