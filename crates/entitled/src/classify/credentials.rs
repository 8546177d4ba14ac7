//! The credential providers' errors (the ECS agent, STS for IRSA, the static and
//! profile providers): missing, refused or transient. aws-config reports a provider's
//! failure as text only, so part of this reads wordings, each with a test.

use aws_credential_types::provider::error::CredentialsError;

use super::chain::{describe, untrusted_certificate};
use super::{retryable_4xx, transient, AttemptError, THROTTLING_CODES};
use crate::error::CheckError;
use crate::reason::{Endpoint, RejectReason, TransientCause};

fn credentials(cause: TransientCause, text: String) -> AttemptError {
    transient(
        Endpoint::Credentials,
        cause,
        format!("credentials unavailable: {text}"),
    )
}

pub(crate) fn classify_credentials(err: CredentialsError) -> AttemptError {
    let text = describe(&err);
    if let Some(detail) = untrusted_certificate(&err) {
        return AttemptError::Fatal(CheckError::rejected(
            RejectReason::TlsCertificate,
            format!("credentials endpoint: {detail}"),
        ));
    }
    match err {
        CredentialsError::CredentialsNotLoaded(_) => {
            AttemptError::Fatal(CheckError::rejected(RejectReason::NoCredentials, text))
        }
        CredentialsError::InvalidConfiguration(_) => AttemptError::Fatal(CheckError::rejected(
            RejectReason::CredentialsConfiguration,
            text,
        )),
        CredentialsError::ProviderTimedOut(_) => credentials(TransientCause::Timeout, text),
        CredentialsError::Unhandled(_) => credentials(TransientCause::CredentialsUnavailable, text),
        // A provider that answered with an error: the ECS agent or STS. Their
        // 5xx and throttling pass; refusals (401/403, AccessDenied, a bad
        // web identity token) do not get better by waiting, and neither does
        // a wording not recognised here (see the README).
        CredentialsError::ProviderError(_) => match provider_error_cause(&text) {
            Some(cause) => credentials(cause, text),
            None => {
                AttemptError::Fatal(CheckError::rejected(RejectReason::CredentialsRefused, text))
            }
        },
        _ => AttemptError::Fatal(CheckError::rejected(RejectReason::CredentialsRefused, text)),
    }
}

/// The wordings of transient provider failures, as aws-config prints them:
/// it reports provider failures as text only. Each has a test.
pub(super) const TRANSIENT_PROVIDER_WORDINGS: &[(&str, TransientCause)] = &[
    ("dispatch failure", TransientCause::Network),
    ("connection", TransientCause::Network),
    ("timed out", TransientCause::Timeout),
    ("timeout", TransientCause::Timeout),
    ("InternalFailure", TransientCause::ServerError),
    ("ServiceUnavailable", TransientCause::ServerError),
    ("IDPCommunicationError", TransientCause::ServerError),
];

/// The transient cause a provider's error text shows, if any.
pub(super) fn provider_error_cause(text: &str) -> Option<TransientCause> {
    if let Some(status) = credential_endpoint_status(text) {
        if status >= 500 {
            return Some(TransientCause::ServerError);
        }
        if retryable_4xx(status) {
            return Some(TransientCause::Throttled);
        }
    }
    if THROTTLING_CODES.iter().any(|c| text.contains(c)) {
        return Some(TransientCause::Throttled);
    }
    TRANSIENT_PROVIDER_WORDINGS
        .iter()
        .find(|(wording, _)| text.contains(wording))
        .map(|(_, cause)| *cause)
}

/// The HTTP status in aws-config's "Non-success status from HTTP credential
/// provider: StatusCode(500)" (older releases print a bare "500").
pub(super) fn credential_endpoint_status(text: &str) -> Option<u16> {
    const MARKER: &str = "status from HTTP credential provider: ";
    let rest = &text[text.find(MARKER)? + MARKER.len()..];
    let rest = rest.strip_prefix("StatusCode(").unwrap_or(rest);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
