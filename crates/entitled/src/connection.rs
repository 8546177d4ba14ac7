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

use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::anywhere::{Exchange, LicenseTokenProvider, LicenseTokenSettings};
use crate::credential_source::{AnsweredBy, CredentialSource, Tagged};
use crate::credentials::credentials_chain;
use crate::env_files::check_named_files;
use crate::error::CheckError;
use crate::reason::RejectReason;
use crate::region::region_chain;
use crate::transport::{TrustPolicy, WarningSink};

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
    /// AWS STS, for the Anywhere exchange.
    Sts,
}

impl Service {
    /// The SDK's service-specific endpoint variable.
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Service::Metering => "AWS_ENDPOINT_URL_MARKETPLACE_METERING",
            Service::LicenseManager => "AWS_ENDPOINT_URL_LICENSE_MANAGER",
            Service::Sts => "AWS_ENDPOINT_URL_STS",
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
    /// Only AWS's own endpoints and the Amazon roots: the environment's
    /// endpoint overrides are refused and its CA variables ignored.
    pub locked: bool,
}

impl Connection {
    /// What can be refused before any call: a locked connection given an endpoint or
    /// extra roots, and extra root certificates with no certificate rustls can use. The
    /// check and the meter both refuse these at `build`.
    pub fn validate(&self) -> Result<(), crate::ConfigError> {
        if self.locked {
            if self.endpoint_url.is_some() {
                return Err(crate::ConfigError::Locked("an endpoint URL"));
            }
            if self.extra_roots_pem.is_some() {
                return Err(crate::ConfigError::Locked("extra root certificates"));
            }
        }
        if let Some(pem) = &self.extra_roots_pem {
            if crate::trust::roots::usable_certificates(pem) == 0 {
                return Err(crate::ConfigError::ExtraRoots);
            }
        }
        Ok(())
    }

    /// aws-config's defaults with our HTTP client, our Region chain, and SDK
    /// retries off: the check owns its retry loop, because the SDK's shared
    /// retry-token bucket drains during a long throttling episode.
    /// The credential provider records in `answered_by` which source answered.
    ///
    /// What is skipped on the way (a CA file that is a FIFO) goes to
    /// `on_warning` when it happens: CA files are read only once a TLS
    /// connection needs them.
    pub async fn load(
        &self,
        attempt_timeout: Duration,
        answered_by: &AnsweredBy,
        on_warning: WarningSink,
    ) -> Result<SdkConfig, CheckError> {
        self.load_for(Service::Metering, attempt_timeout, answered_by, on_warning)
            .await
    }

    /// The endpoint override in effect for `service`: the builder's, else the
    /// SDK's variables, with the precedence aws-config applies.
    pub fn endpoint_for(&self, service: Service) -> Option<String> {
        self.endpoint_url.clone().or_else(|| env_endpoint(service))
    }

    /// As [`load`](Self::load), for the client of `service`.
    pub async fn load_for(
        &self,
        service: Service,
        attempt_timeout: Duration,
        answered_by: &AnsweredBy,
        on_warning: WarningSink,
    ) -> Result<SdkConfig, CheckError> {
        refuse_empty_endpoint_variables()?;
        if self.locked {
            refuse_endpoint_overrides()?;
        }
        // Named files block, even bounded ones (a hung network mount): off
        // the async thread, so the caller's deadline and cancellation work.
        tokio::task::spawn_blocking(check_named_files)
            .await
            .map_err(|e| CheckError::rejected(RejectReason::TlsSetup, e.to_string()))??;
        let http = crate::transport::http_client(
            TrustPolicy {
                locked: self.locked,
                extra_roots_pem: self.extra_roots_pem.clone(),
            },
            on_warning,
        );
        // Outside AWS a licence token stands in for the task role (License Manager only).
        let anywhere = match (service, &self.credentials) {
            (Service::LicenseManager, None) => LicenseTokenSettings::from_env(),
            _ => None,
        };
        // The Region first: the credential providers need it (STS for IRSA).
        let region = match &self.region {
            Some(region) => Some(Region::new(region.clone())),
            None => {
                let ecs_metadata = std::env::var("ECS_CONTAINER_METADATA_URI_V4").ok();
                region_chain(ecs_metadata, http.clone()).region().await
            }
        };
        // The seller guide's default for Anywhere, where no metadata names a Region.
        let region = match (region, &anywhere) {
            (None, Some(_)) => Some(Region::from_static(crate::anywhere::DEFAULT_REGION)),
            (region, _) => region,
        };
        // Set explicitly when locked, so that no variable or profile setting
        // can name another endpoint. Without a Region the check refuses.
        let locked_url = match (&region, self.locked) {
            (Some(region), true) => Some(locked_endpoint(service, region.as_ref())?),
            _ => None,
        };
        let credentials =
            self.credentials_provider(anywhere, &http, &region, attempt_timeout, answered_by)?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(region)
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts(attempt_timeout));
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(url) = locked_url {
            loader = loader.endpoint_url(url);
        }
        Ok(loader.load().await)
    }

    /// The credentials the calls are signed with: the caller's static ones, else a licence
    /// token's (Anywhere, License Manager only), else the chain of the task role and IRSA.
    fn credentials_provider(
        &self,
        anywhere: Option<LicenseTokenSettings>,
        http: &SharedHttpClient,
        region: &Option<Region>,
        attempt_timeout: Duration,
        answered_by: &AnsweredBy,
    ) -> Result<SharedCredentialsProvider, CheckError> {
        Ok(match (&self.credentials, anywhere) {
            (Some(c), _) => SharedCredentialsProvider::new(Tagged::new(
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
            (None, Some(settings)) => {
                let region = region.clone().ok_or_else(|| {
                    CheckError::rejected(RejectReason::NoRegion, "no AWS Region is configured")
                })?;
                let exchange = self.exchange(http.clone(), region, attempt_timeout)?;
                SharedCredentialsProvider::new(Tagged::new(
                    LicenseTokenProvider::new(settings, exchange),
                    CredentialSource::LicenseToken,
                    answered_by,
                ))
            }
            (None, None) => {
                // No retries inside the providers either (STS for IRSA): the
                // check's own loop retries what is transient, so one check
                // makes exactly the credential calls it needs.
                let provider_config = ProviderConfig::default()
                    .with_http_client(http.clone())
                    .with_region(region.clone())
                    .with_retry_config(RetryConfig::disabled());
                SharedCredentialsProvider::new(credentials_chain(&provider_config, answered_by))
            }
        })
    }

    /// Where the Anywhere exchange calls go: the Regions' own endpoints when locked, else
    /// License Manager's override (this connection's) and STS's (its own variable).
    fn exchange(
        &self,
        http: SharedHttpClient,
        region: Region,
        attempt_timeout: Duration,
    ) -> Result<Exchange, CheckError> {
        let (license_manager_url, sts_url) = if self.locked {
            (
                Some(locked_endpoint(Service::LicenseManager, region.as_ref())?),
                Some(locked_endpoint(Service::Sts, region.as_ref())?),
            )
        } else {
            (
                self.endpoint_for(Service::LicenseManager),
                env_endpoint(Service::Sts),
            )
        };
        Ok(Exchange {
            http,
            region,
            license_manager_url,
            sts_url,
            timeouts: timeouts(attempt_timeout),
        })
    }
}

/// The SDK's endpoint variables for `service`, with aws-config's precedence.
fn env_endpoint(service: Service) -> Option<String> {
    [service.endpoint_variable(), "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// The variables aws-config reads to replace an endpoint: the generic one
/// and each service's (`AWS_ENDPOINT_URL_STS`, ...).
const ENDPOINT_OVERRIDE_PREFIX: &str = "AWS_ENDPOINT_URL";

/// The endpoint variables set in the environment: name and value.
fn endpoint_variables() -> impl Iterator<Item = (String, std::ffi::OsString)> {
    std::env::vars_os().filter_map(|(name, value)| {
        let name = name.into_string().ok()?;
        name.starts_with(ENDPOINT_OVERRIDE_PREFIX)
            .then_some((name, value))
    })
}

/// aws-config takes an endpoint variable that is set but empty for a URL and panics on it;
/// the operator gets the variable's name instead.
fn refuse_empty_endpoint_variables() -> Result<(), CheckError> {
    let empty = endpoint_variables()
        .find(|(_, value)| value.to_str().is_some_and(|v| v.trim().is_empty()))
        .map(|(name, _)| name);
    match empty {
        Some(name) => Err(crate::ConfigError::EmptyEndpointVariable(name).into()),
        None => Ok(()),
    }
}

/// A locked check refuses, rather than ignores, an endpoint override: the
/// operator learns at once why the emulator or proxy they named is unused.
fn refuse_endpoint_overrides() -> Result<(), CheckError> {
    let mut named: Vec<String> = endpoint_variables()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, _)| name)
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    named.sort();
    Err(CheckError::rejected(
        RejectReason::Locked,
        format!(
            "{} set, but this check is locked to AWS's own endpoints",
            named.join(", ")
        ),
    ))
}

/// The Region's own endpoint of `service`. The Region comes from the
/// environment too, so it must be a host name label: nothing else can turn
/// the host into one outside `amazonaws.com`.
fn locked_endpoint(service: Service, region: &str) -> Result<String, CheckError> {
    let label = !region.is_empty()
        && region.len() <= 63
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !label {
        return Err(CheckError::rejected(
            RejectReason::Locked,
            format!("the Region {region:?} is not an AWS Region name"),
        ));
    }
    Ok(match service {
        Service::Metering => format!("https://metering.marketplace.{region}.amazonaws.com"),
        Service::LicenseManager => format!("https://license-manager.{region}.amazonaws.com"),
        Service::Sts => format!("https://sts.{region}.amazonaws.com"),
    })
}

/// The Region and the credentials provider of a loaded configuration, or the check's
/// refusal when either is missing: one rule for the check and the meter, so the guard and
/// the sidecar give the same reason (`NoRegion`, `NoCredentials`) and exit code (78).
pub(crate) fn region_and_credentials(
    sdk_config: &SdkConfig,
) -> Result<SharedCredentialsProvider, CheckError> {
    if sdk_config.region().is_none() {
        return Err(CheckError::rejected(
            RejectReason::NoRegion,
            "no AWS Region is configured",
        ));
    }
    sdk_config.credentials_provider().ok_or_else(|| {
        CheckError::rejected(
            RejectReason::NoCredentials,
            "no credentials provider is configured",
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_check_calls_the_regions_own_endpoint() {
        assert_eq!(
            locked_endpoint(Service::Metering, "eu-west-1").unwrap(),
            "https://metering.marketplace.eu-west-1.amazonaws.com"
        );
        for region in ["", "evil.example/", "us-east-1.evil", "US-EAST-1", "a:1"] {
            let err = locked_endpoint(Service::Metering, region).unwrap_err();
            assert_eq!(err.exit_code(), 78, "{region:?}: {err}");
            assert!(err.to_string().contains("not an AWS Region name"), "{err}");
        }
    }
}
