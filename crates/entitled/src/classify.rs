//! Which failures are worth another attempt.
//!
//! AWS advises retrying throttling and transient faults with backoff, and
//! terminating on anything else. Every failure lands in exactly one of the two
//! bins here; nothing is retried by default.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_marketplacemetering::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_marketplacemetering::operation::register_usage::RegisterUsageError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::CheckError;

/// One failed attempt.
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// Worth retrying: the reason, for logs and the final error.
    Transient(String),
    /// Ends the check.
    Fatal(CheckError),
}

/// Error codes that mean "slow down", whatever the HTTP status.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

pub(crate) fn classify_call(
    err: SdkError<RegisterUsageError, HttpResponse>,
    product_code: &str,
) -> AttemptError {
    match &err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let code = err.code().map(str::to_owned);
            let message = err.message().unwrap_or("no message").to_owned();
            classify_service(code, status, message, product_code)
        }
        SdkError::TimeoutError(_) => AttemptError::Transient("the call timed out".into()),
        SdkError::DispatchFailure(_) => {
            AttemptError::Transient(format!("could not reach the endpoint: {}", describe(&err)))
        }
        SdkError::ResponseError(ctx) => AttemptError::Transient(format!(
            "unreadable response (HTTP {}): {}",
            ctx.raw().status().as_u16(),
            describe(&err)
        )),
        // The request could not even be built: an invalid endpoint override,
        // for one. Retrying cannot fix that.
        _ => AttemptError::Fatal(CheckError::rejected(
            "RequestConstruction",
            format!("the request could not be built: {}", describe(&err)),
        )),
    }
}

/// An error and its causes on one line, Display only: the SDK's own context
/// printer appends Debug dumps of whole responses, too long for a log line.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn classify_service(
    code: Option<String>,
    status: u16,
    message: String,
    product_code: &str,
) -> AttemptError {
    match code.as_deref() {
        Some(c) if THROTTLING_CODES.contains(&c) => {
            AttemptError::Transient(format!("{c} (HTTP {status}): {message}"))
        }
        Some("CustomerNotEntitledException") => AttemptError::Fatal(CheckError::NotEntitled {
            product_code: product_code.to_owned(),
            message,
        }),
        _ if status >= 500 || status == 429 => AttemptError::Transient(format!(
            "{} (HTTP {status}): {message}",
            code.as_deref().unwrap_or("server error")
        )),
        // A 2xx that the SDK could not read as a RegisterUsage answer: a
        // truncated or mangled body, most likely on the way. Nothing was
        // trusted, so another attempt is safe.
        None if (200..300).contains(&status) => AttemptError::Transient(format!(
            "malformed RegisterUsage response (HTTP {status}): {message}"
        )),
        Some(c) => AttemptError::Fatal(CheckError::rejected(c, message)),
        None => AttemptError::Fatal(CheckError::rejected(format!("HTTP{status}"), message)),
    }
}

pub(crate) fn classify_credentials(err: CredentialsError) -> AttemptError {
    let text = describe(&err);
    match err {
        CredentialsError::CredentialsNotLoaded(_) => {
            AttemptError::Fatal(CheckError::rejected("NoCredentials", text))
        }
        CredentialsError::InvalidConfiguration(_) => {
            AttemptError::Fatal(CheckError::rejected("CredentialsConfiguration", text))
        }
        CredentialsError::ProviderTimedOut(_) | CredentialsError::Unhandled(_) => {
            AttemptError::Transient(format!("credentials unavailable: {text}"))
        }
        // A provider that answered with an error: the ECS agent or STS. Their
        // 5xx and throttling pass; refusals (401/403, AccessDenied, a bad
        // web identity token) do not get better by waiting.
        CredentialsError::ProviderError(_) if provider_error_is_transient(&text) => {
            AttemptError::Transient(format!("credentials unavailable: {text}"))
        }
        _ => AttemptError::Fatal(CheckError::rejected("CredentialsRefused", text)),
    }
}

/// aws-config reports provider failures as text only, so the transient ones
/// are recognised by what they say.
fn provider_error_is_transient(text: &str) -> bool {
    let server_error = credential_endpoint_status(text).is_some_and(|s| s >= 500 || s == 429);
    server_error
        || THROTTLING_CODES.iter().any(|c| text.contains(c))
        || [
            "dispatch failure",
            "timed out",
            "timeout",
            "connection",
            "InternalFailure",
            "ServiceUnavailable",
            "IDPCommunicationError",
        ]
        .iter()
        .any(|t| text.contains(t))
}

/// The HTTP status in aws-config's "Non-success status from HTTP credential
/// provider: StatusCode(500)" (older releases print a bare "500").
fn credential_endpoint_status(text: &str) -> Option<u16> {
    const MARKER: &str = "status from HTTP credential provider: ";
    let rest = &text[text.find(MARKER)? + MARKER.len()..];
    let rest = rest.strip_prefix("StatusCode(").unwrap_or(rest);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(code: Option<&str>, status: u16) -> String {
        match classify_service(code.map(str::to_owned), status, "m".into(), "p") {
            AttemptError::Transient(_) => "transient".into(),
            AttemptError::Fatal(e) => format!("{}:{}", e.class(), e.exit_code()),
        }
    }

    #[test]
    fn service_errors_fall_into_the_documented_classes() {
        let table: &[(Option<&str>, u16, &str)] = &[
            (Some("ThrottlingException"), 400, "transient"),
            (Some("InternalServiceErrorException"), 500, "transient"),
            (Some("InternalServiceErrorException"), 400, "rejected:78"),
            (None, 502, "transient"),
            (None, 503, "transient"),
            (None, 429, "transient"),
            (None, 200, "transient"),
            (Some("CustomerNotEntitledException"), 400, "not_entitled:77"),
            (Some("PlatformNotSupportedException"), 400, "rejected:78"),
            (Some("InvalidProductCodeException"), 400, "rejected:78"),
            (Some("InvalidPublicKeyVersionException"), 400, "rejected:78"),
            (Some("InvalidRegionException"), 400, "rejected:78"),
            (Some("DisabledApiException"), 400, "rejected:78"),
            (Some("AccessDeniedException"), 400, "rejected:78"),
            (Some("UnrecognizedClientException"), 403, "rejected:78"),
            (None, 403, "rejected:78"),
        ];
        for (code, status, expected) in table {
            assert_eq!(class(*code, *status), *expected, "{code:?} {status}");
        }
    }

    #[test]
    fn descriptions_are_the_display_chain_without_debug_dumps() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = CredentialsError::unhandled(io);
        let text = describe(&err);
        assert!(text.ends_with("Connection refused"), "{text}");
        assert!(!text.contains("Custom {"), "no Debug output: {text}");
    }

    #[test]
    fn credential_errors_split_into_missing_refused_and_transient() {
        let cases: Vec<(CredentialsError, &str)> = vec![
            (CredentialsError::not_loaded("none"), "NoCredentials"),
            (
                CredentialsError::invalid_configuration("bad uri"),
                "CredentialsConfiguration",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: 403",
                ),
                "CredentialsRefused",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: 503",
                ),
                "transient",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: StatusCode(500)",
                ),
                "transient",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: StatusCode(429)",
                ),
                "transient",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: StatusCode(401)",
                ),
                "CredentialsRefused",
            ),
            (
                CredentialsError::provider_timed_out(std::time::Duration::from_secs(5)),
                "transient",
            ),
            (CredentialsError::unhandled("garbage"), "transient"),
        ];
        for (err, expected) in cases {
            let got = match classify_credentials(err) {
                AttemptError::Transient(_) => "transient".to_owned(),
                AttemptError::Fatal(CheckError::Rejected { code, .. }) => code,
                AttemptError::Fatal(other) => panic!("unexpected {other:?}"),
            };
            assert_eq!(got, expected);
        }
    }
}
