//! Which credential source signed the check, as AWS Marketplace judges it.
//!
//! AWS Marketplace accepts RegisterUsage and MeterUsage signed with the ECS task role or, on
//! EKS, IAM roles for service accounts (IRSA) only; EKS Pod Identity, node or instance roles and
//! long-term keys get `PlatformNotSupportedException`. When that happens the error names the
//! source the check used, so the seller sees why.
//!
//! Each provider of the credential chain is wrapped in [`Tagged`], which records the source
//! of the first provider that answered (with credentials or a refusal).

use std::fmt;
use std::sync::{Arc, Mutex};

use aws_credential_types::provider::{future, ProvideCredentials};

/// The link-local address of the EKS Pod Identity agent (IPv4).
const POD_IDENTITY_AGENT_V4: &str = "169.254.170.23";
/// The link-local address of the EKS Pod Identity agent (IPv6).
const POD_IDENTITY_AGENT_V6: &str = "[fd00:ec2::23]";
/// The path of the entitled emulator's Pod Identity agent stand-in: known only to builds
/// for tests (the `emulator-pod-identity` feature), never to a release.
#[cfg(feature = "emulator-pod-identity")]
const EMULATOR_POD_IDENTITY_PATH: &str = "/_emulator/pod-identity/";

/// Where the credentials of a check came from.
///
/// ```
/// use entitled::CredentialSource;
/// assert!(CredentialSource::Irsa.marketplace_accepts());
/// assert!(!CredentialSource::PodIdentity.marketplace_accepts());
/// assert_eq!(CredentialSource::PodIdentity.to_string(), "EKS Pod Identity");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialSource {
    /// The ECS container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, or a
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` that is not the Pod Identity agent).
    EcsTaskRole,
    /// EKS IAM roles for service accounts: `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`.
    Irsa,
    /// The EKS Pod Identity agent: `AWS_CONTAINER_CREDENTIALS_FULL_URI` at 169.254.170.23 or
    /// fd00:ec2::23.
    PodIdentity,
    /// The EC2 instance metadata service: a node or instance role.
    InstanceRole,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` in the environment.
    EnvironmentKeys,
    /// A profile in the shared config or credentials file.
    Profile,
    /// [`CheckBuilder::static_credentials`](crate::CheckBuilder::static_credentials).
    Static,
    /// A buyer's licence token, outside AWS (Anywhere): `AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE`
    /// (or `AWS_LICENSE_ACCESS_FILE`) and `AWS_ROLE_ARN`, exchanged through License Manager
    /// `GetAccessToken` and STS. For License Manager only.
    LicenseToken,
}

impl CredentialSource {
    /// True for the sources AWS Marketplace accepts: the ECS task role and IRSA.
    pub fn marketplace_accepts(self) -> bool {
        matches!(self, CredentialSource::EcsTaskRole | CredentialSource::Irsa)
    }

    /// The source the container-credentials provider will use, from the variables it reads.
    /// `RELATIVE_URI` wins, as in aws-config, and always means the ECS agent.
    pub(crate) fn of_container(relative_uri: Option<&str>, full_uri: Option<&str>) -> Self {
        let pod_identity = relative_uri.is_none()
            && full_uri.is_some_and(|uri| {
                let authority = uri
                    .split_once("://")
                    .map_or(uri, |(_, rest)| rest)
                    .split('/')
                    .next()
                    .unwrap_or_default();
                let host = authority
                    .rsplit_once(':')
                    .filter(|(h, _)| !h.is_empty() && !authority.ends_with(']'))
                    .map_or(authority, |(h, _)| h);
                host == POD_IDENTITY_AGENT_V4
                    || host == POD_IDENTITY_AGENT_V6
                    || emulator_stand_in(uri)
            });
        if pod_identity {
            CredentialSource::PodIdentity
        } else {
            CredentialSource::EcsTaskRole
        }
    }
}

/// The emulator's Pod Identity stand-in, in builds for tests.
#[cfg(feature = "emulator-pod-identity")]
fn emulator_stand_in(uri: &str) -> bool {
    uri.contains(EMULATOR_POD_IDENTITY_PATH)
}

/// Release builds know the agent by its address alone.
#[cfg(not(feature = "emulator-pod-identity"))]
fn emulator_stand_in(_uri: &str) -> bool {
    false
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialSource::EcsTaskRole => "the ECS task role",
            CredentialSource::Irsa => "EKS IRSA (web identity)",
            CredentialSource::PodIdentity => "EKS Pod Identity",
            CredentialSource::InstanceRole => "the instance (node) role",
            CredentialSource::EnvironmentKeys => "access keys in the environment",
            CredentialSource::Profile => "an AWS profile",
            CredentialSource::Static => "static credentials",
            CredentialSource::LicenseToken => "a licence token (LicenseToken)",
        })
    }
}

/// The source of the provider that answered last, shared by the wrapped providers of one
/// chain and the check that reads it.
#[derive(Clone, Debug, Default)]
pub(crate) struct AnsweredBy(Arc<Mutex<Option<CredentialSource>>>);

impl AnsweredBy {
    pub fn get(&self) -> Option<CredentialSource> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, source: CredentialSource) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(source);
    }
}

/// A provider that records its source in an [`AnsweredBy`] when it answers: with credentials,
/// or with any error but "not loaded" (which passes the turn to the next provider).
#[derive(Debug)]
pub(crate) struct Tagged<P> {
    inner: P,
    source: CredentialSource,
    answered_by: AnsweredBy,
}

impl<P> Tagged<P> {
    pub fn new(inner: P, source: CredentialSource, answered_by: &AnsweredBy) -> Self {
        Tagged {
            inner,
            source,
            answered_by: answered_by.clone(),
        }
    }
}

impl<P: ProvideCredentials> ProvideCredentials for Tagged<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let result = self.inner.provide_credentials().await;
            let passed = matches!(
                result,
                Err(
                    aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(
                        _
                    )
                )
            );
            if !passed {
                self.answered_by.set(self.source);
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_uris_tell_pod_identity_from_the_ecs_agent() {
        let table = [
            (
                None,
                Some("http://169.254.170.23/v1/credentials"),
                CredentialSource::PodIdentity,
            ),
            (
                None,
                Some("http://[fd00:ec2::23]/v1/credentials"),
                CredentialSource::PodIdentity,
            ),
            (
                None,
                Some("http://127.0.0.1:8080/_emulator/pod-identity/credentials"),
                if cfg!(feature = "emulator-pod-identity") {
                    CredentialSource::PodIdentity
                } else {
                    CredentialSource::EcsTaskRole
                },
            ),
            (
                None,
                Some("http://127.0.0.1:8080/_emulator/credentials"),
                CredentialSource::EcsTaskRole,
            ),
            (
                None,
                Some("http://169.254.170.2/v2/credentials/x"),
                CredentialSource::EcsTaskRole,
            ),
            (
                None,
                Some("http://169.254.170.230/v1/credentials"),
                CredentialSource::EcsTaskRole,
            ),
            (
                Some("/v2/credentials/x"),
                Some("http://169.254.170.23/v1/credentials"),
                CredentialSource::EcsTaskRole,
            ),
            (None, None, CredentialSource::EcsTaskRole),
        ];
        for (relative, full, expected) in table {
            assert_eq!(
                CredentialSource::of_container(relative, full),
                expected,
                "{full:?}"
            );
        }
    }
}
