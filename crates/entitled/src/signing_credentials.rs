//! The credentials a Metering Service call is signed with, resolved by us rather than
//! inside the SDK call, so that a credential failure keeps its type (missing, refused or
//! transient, with [`Endpoint::Credentials`]) instead of surfacing as a dispatch failure.
//! The check (RegisterUsage) and the meter (MeterUsage) share it.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use crate::classify::{classify_credentials, AttemptError};
use crate::credential_source::{AnsweredBy, CredentialSource};
use crate::error::CheckError;
use crate::reason::{Endpoint, RejectReason};

/// Session credentials this close to expiry are fetched again.
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A credentials provider and the credentials it last gave.
pub(crate) struct SigningCredentials {
    provider: SharedCredentialsProvider,
    cached: Option<Credentials>,
    /// Which credential source answered.
    pub answered_by: AnsweredBy,
}

impl SigningCredentials {
    pub fn new(provider: SharedCredentialsProvider, answered_by: AnsweredBy) -> Self {
        SigningCredentials {
            provider,
            cached: None,
            answered_by,
        }
    }

    /// Which endpoint an attempt that timed out was waiting on: the
    /// credentials endpoint until credentials are held.
    pub fn waiting_on(&self) -> Endpoint {
        if self.cached.is_some() {
            Endpoint::Metering
        } else {
            Endpoint::Credentials
        }
    }

    /// The cached credentials while they are fresh, else new ones from the provider.
    pub async fn get(&mut self) -> Result<Credentials, AttemptError> {
        if let Some(creds) = &self.cached {
            let fresh = creds
                .expiry()
                .is_none_or(|exp| exp > SystemTime::now() + CREDENTIALS_REFRESH_MARGIN);
            if fresh {
                return Ok(creds.clone());
            }
        }
        let creds = self.provider.provide_credentials().await.map_err(|e| {
            match crate::anywhere::AnywhereFailure::carried_by(&e) {
                Some(failure) => failure.to_attempt(),
                None => irsa_refusal(classify_credentials(e), self.answered_by.get()),
            }
        })?;
        self.cached = Some(creds.clone());
        Ok(creds)
    }
}

/// A credential refusal from the IRSA provider (token file missing, unreadable or expired;
/// STS AccessDenied) gets the IRSA hint: the service account and the role's trust policy.
fn irsa_refusal(err: AttemptError, source: Option<CredentialSource>) -> AttemptError {
    match err {
        // Only refusals of the credentials themselves: an untrusted STS
        // certificate, say, keeps its own reason and hint.
        AttemptError::Fatal(CheckError::Rejected {
            message,
            reason:
                RejectReason::CredentialsRefused
                | RejectReason::CredentialsConfiguration
                | RejectReason::NoCredentials,
            ..
        }) if source == Some(CredentialSource::Irsa) => {
            AttemptError::Fatal(CheckError::web_identity_refused(message))
        }
        other => other,
    }
}
