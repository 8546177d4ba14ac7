//! Which failures are worth another attempt.
//!
//! AWS advises retrying throttling and transient faults with backoff, and
//! terminating on anything else. Every failure lands in exactly one of the two
//! bins here, with a typed cause; nothing is retried by default.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_marketplacemetering::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_marketplacemetering::operation::meter_usage::MeterUsageError;
use aws_sdk_marketplacemetering::operation::register_usage::RegisterUsageError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::CheckError;
use crate::reason::{Endpoint, RejectReason, Transient, TransientCause};

/// One failed attempt.
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// Worth retrying: where, why, and the text, for logs and the final error.
    Transient(Transient),
    /// Ends the check.
    Fatal(CheckError),
}

fn transient(endpoint: Endpoint, cause: TransientCause, detail: String) -> AttemptError {
    AttemptError::Transient(Transient {
        endpoint,
        cause,
        detail,
    })
}

fn metering(cause: TransientCause, detail: String) -> AttemptError {
    transient(Endpoint::Metering, cause, detail)
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

/// 4xx statuses that say "later" rather than "no": request timeout and too
/// many requests.
fn retryable_4xx(status: u16) -> bool {
    status == 408 || status == 429
}

pub(crate) fn classify_call(
    err: SdkError<RegisterUsageError, HttpResponse>,
    product_code: &str,
) -> AttemptError {
    classify_sdk(&err, |service, status, message| {
        classify_service(service, status, message, product_code)
    })
}

/// One failed MeterUsage call: what RegisterUsage can fail with, plus the two outcomes
/// only metering has.
#[derive(Debug)]
pub(crate) enum MeterAttemptError {
    /// Transient, refused or not entitled, with the check's types.
    Attempt(AttemptError),
    /// AWS already holds the hour with other parameters: `DuplicateRequestException`, or
    /// `IdempotencyConflictException` for our own token. Never retried.
    Duplicate(String),
    /// This hour's report can never be taken (timestamp out of bounds, allocations or tags
    /// refused); other hours can.
    Unsendable(String),
}

impl From<AttemptError> for MeterAttemptError {
    fn from(err: AttemptError) -> Self {
        MeterAttemptError::Attempt(err)
    }
}

pub(crate) fn classify_meter_call(
    err: SdkError<MeterUsageError, HttpResponse>,
    product_code: &str,
) -> MeterAttemptError {
    classify_sdk(&err, |service, status, message| {
        classify_meter_service(service, status, message, product_code)
    })
}

/// What every Metering Service call can fail with outside the service's own answer, and
/// the service's answer by `service`.
pub(crate) fn classify_sdk<E, T>(
    err: &SdkError<E, HttpResponse>,
    service: impl FnOnce(&E, u16, String) -> T,
) -> T
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    T: From<AttemptError>,
{
    if let Some(detail) = untrusted_certificate(err) {
        return AttemptError::Fatal(CheckError::rejected(RejectReason::TlsCertificate, detail))
            .into();
    }
    let outcome = match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let message = err.message().unwrap_or("no message").to_owned();
            return service(ctx.err(), status, message);
        }
        SdkError::TimeoutError(_) => metering(TransientCause::Timeout, "the call timed out".into()),
        SdkError::DispatchFailure(_) => metering(
            TransientCause::Network,
            format!("could not reach the endpoint: {}", describe(err)),
        ),
        SdkError::ResponseError(ctx) => {
            let status = ctx.raw().status().as_u16();
            classify_unreadable(status, describe(err))
        }
        // The request could not even be built: an invalid endpoint override,
        // for one. Retrying cannot fix that.
        _ => AttemptError::Fatal(CheckError::rejected(
            RejectReason::RequestConstruction,
            format!("the request could not be built: {}", describe(err)),
        )),
    };
    outcome.into()
}

/// A response the SDK could not read as an awsJson answer or error.
fn classify_unreadable(status: u16, detail: String) -> AttemptError {
    match status {
        // An HTML block page, an empty 401/403/404, a 407: whoever answered
        // is not the Metering Service, and will answer the same again.
        400..=499 if !retryable_4xx(status) => AttemptError::Fatal(CheckError::rejected(
            RejectReason::HttpStatus(status),
            format!("HTTP {status} with a body that is not an AWS error: {detail}"),
        )),
        400..=499 => metering(
            TransientCause::Throttled,
            format!("HTTP {status}: {detail}"),
        ),
        500..=599 => metering(
            TransientCause::ServerError,
            format!("HTTP {status}: {detail}"),
        ),
        // A 2xx (or other) that the SDK could not read as a RegisterUsage
        // answer: truncated or mangled on the way, most likely. Nothing was
        // trusted, so another attempt is safe.
        _ => metering(
            TransientCause::MalformedAnswer,
            format!("unreadable response (HTTP {status}): {detail}"),
        ),
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

/// The rustls verdict in an error's chain when the peer's certificate did
/// not verify. A handshake cut by the network is an I/O error instead, and
/// stays transient.
///
/// `io::Error::source` skips the error it wraps, and the TLS connector wraps
/// rustls's error in an `io::Error`, so each link is also looked into.
fn untrusted_certificate(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    // Both the source and an io::Error's payload are followed: hyper-rustls
    // nests rustls's error two io::Errors deep.
    let mut pending = vec![err];
    let mut visited = 0;
    while let Some(e) = pending.pop() {
        visited += 1;
        if visited > 64 {
            break;
        }
        if let Some(rustls::Error::InvalidCertificate(cert)) = e.downcast_ref::<rustls::Error>() {
            return Some(format!(
                "the server's TLS certificate did not verify: {cert:?}"
            ));
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        }
        if let Some(source) = e.source() {
            pending.push(source);
        }
    }
    None
}

fn classify_service(
    err: &RegisterUsageError,
    status: u16,
    message: String,
    product_code: &str,
) -> AttemptError {
    // The modelled errors by type first; the code string only for the rest.
    let reason = match err {
        RegisterUsageError::ThrottlingException(_) => return throttled(status, message),
        RegisterUsageError::CustomerNotEntitledException(_) => {
            return not_entitled(product_code, message)
        }
        RegisterUsageError::InternalServiceErrorException(_) => {
            return internal_error(status, message)
        }
        RegisterUsageError::PlatformNotSupportedException(_) => RejectReason::PlatformNotSupported,
        RegisterUsageError::InvalidProductCodeException(_) => RejectReason::InvalidProductCode,
        RegisterUsageError::InvalidPublicKeyVersionException(_) => {
            RejectReason::InvalidPublicKeyVersion
        }
        RegisterUsageError::InvalidRegionException(_) => RejectReason::InvalidRegion,
        RegisterUsageError::DisabledApiException(_) => RejectReason::DisabledApi,
        _ => return classify_unmodelled(err.code(), status, message),
    };
    AttemptError::Fatal(CheckError::rejected(reason, message))
}

/// `ThrottlingException`, whatever the status.
fn throttled(status: u16, message: String) -> AttemptError {
    metering(
        TransientCause::Throttled,
        format!("ThrottlingException (HTTP {status}): {message}"),
    )
}

fn not_entitled(product_code: &str, message: String) -> AttemptError {
    AttemptError::Fatal(CheckError::NotEntitled {
        product_code: product_code.to_owned(),
        message,
    })
}

/// `InternalServiceErrorException`: retried with a 5xx; with another status AWS's SDKs do
/// not retry it either.
fn internal_error(status: u16, message: String) -> AttemptError {
    if status >= 500 {
        metering(
            TransientCause::ServerError,
            format!("InternalServiceErrorException (HTTP {status}): {message}"),
        )
    } else {
        AttemptError::Fatal(CheckError::rejected(
            RejectReason::InternalServiceError,
            message,
        ))
    }
}

fn classify_meter_service(
    err: &MeterUsageError,
    status: u16,
    message: String,
    product_code: &str,
) -> MeterAttemptError {
    use MeterUsageError as E;
    let text = |code: &str| format!("{code}: {message}");
    // The modelled errors by type first, as for RegisterUsage; the code string only for
    // the rest (access denied and PlatformNotSupportedException are not in MeterUsage's
    // model).
    let reason = match err {
        E::DuplicateRequestException(_) => {
            return MeterAttemptError::Duplicate(text("DuplicateRequestException"))
        }
        E::IdempotencyConflictException(_) => {
            return MeterAttemptError::Duplicate(text("IdempotencyConflictException"))
        }
        E::TimestampOutOfBoundsException(_) => {
            return MeterAttemptError::Unsendable(text("TimestampOutOfBoundsException"))
        }
        E::InvalidTagException(_) => {
            return MeterAttemptError::Unsendable(text("InvalidTagException"))
        }
        E::InvalidUsageAllocationsException(_) => {
            return MeterAttemptError::Unsendable(text("InvalidUsageAllocationsException"))
        }
        E::ThrottlingException(_) => return throttled(status, message).into(),
        E::CustomerNotEntitledException(_) => return not_entitled(product_code, message).into(),
        E::InternalServiceErrorException(_) => return internal_error(status, message).into(),
        E::InvalidProductCodeException(_) => RejectReason::InvalidProductCode,
        E::InvalidUsageDimensionException(_) => RejectReason::InvalidUsageDimension,
        E::InvalidEndpointRegionException(_) => RejectReason::InvalidEndpointRegion,
        _ => return classify_unmodelled(err.code(), status, message).into(),
    };
    AttemptError::Fatal(CheckError::rejected(reason, message)).into()
}

/// An error the service model does not name, by its code and status.
pub(crate) fn classify_unmodelled(
    code: Option<&str>,
    status: u16,
    message: String,
) -> AttemptError {
    match code {
        Some(c) if THROTTLING_CODES.contains(&c) => metering(
            TransientCause::Throttled,
            format!("{c} (HTTP {status}): {message}"),
        ),
        _ if status >= 500 => metering(
            TransientCause::ServerError,
            format!(
                "{} (HTTP {status}): {message}",
                code.unwrap_or("server error")
            ),
        ),
        _ if retryable_4xx(status) => metering(
            TransientCause::Throttled,
            format!(
                "{} (HTTP {status}): {message}",
                code.unwrap_or("too many requests")
            ),
        ),
        Some(c) => AttemptError::Fatal(CheckError::rejected(RejectReason::from_code(c), message)),
        None => classify_unreadable(status, message),
    }
}

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
const TRANSIENT_PROVIDER_WORDINGS: &[(&str, TransientCause)] = &[
    ("dispatch failure", TransientCause::Network),
    ("connection", TransientCause::Network),
    ("timed out", TransientCause::Timeout),
    ("timeout", TransientCause::Timeout),
    ("InternalFailure", TransientCause::ServerError),
    ("ServiceUnavailable", TransientCause::ServerError),
    ("IDPCommunicationError", TransientCause::ServerError),
];

/// The transient cause a provider's error text shows, if any.
fn provider_error_cause(text: &str) -> Option<TransientCause> {
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
    use aws_sdk_marketplacemetering::error::ErrorMetadata;
    use aws_sdk_marketplacemetering::types::error as model;

    fn name(outcome: AttemptError) -> String {
        match outcome {
            AttemptError::Transient(t) => format!("transient:{}", t.cause),
            AttemptError::Fatal(CheckError::Rejected { reason, .. }) => format!("78:{reason}"),
            AttemptError::Fatal(e) => format!("{}:{}", e.class(), e.exit_code()),
        }
    }

    #[test]
    fn modelled_errors_are_matched_by_type() {
        use RegisterUsageError as E;
        let table: Vec<(E, u16, &str)> = vec![
            (
                E::ThrottlingException(model::ThrottlingException::builder().build()),
                400,
                "transient:throttled",
            ),
            (
                E::InternalServiceErrorException(
                    model::InternalServiceErrorException::builder().build(),
                ),
                500,
                "transient:server_error",
            ),
            (
                E::InternalServiceErrorException(
                    model::InternalServiceErrorException::builder().build(),
                ),
                400,
                "78:InternalServiceErrorException",
            ),
            (
                E::CustomerNotEntitledException(
                    model::CustomerNotEntitledException::builder().build(),
                ),
                400,
                "not_entitled:77",
            ),
            (
                E::PlatformNotSupportedException(
                    model::PlatformNotSupportedException::builder().build(),
                ),
                400,
                "78:PlatformNotSupportedException",
            ),
            (
                E::InvalidProductCodeException(
                    model::InvalidProductCodeException::builder().build(),
                ),
                400,
                "78:InvalidProductCodeException",
            ),
            (
                E::InvalidPublicKeyVersionException(
                    model::InvalidPublicKeyVersionException::builder().build(),
                ),
                400,
                "78:InvalidPublicKeyVersionException",
            ),
            (
                E::InvalidRegionException(model::InvalidRegionException::builder().build()),
                400,
                "78:InvalidRegionException",
            ),
            (
                E::DisabledApiException(model::DisabledApiException::builder().build()),
                400,
                "78:DisabledApiException",
            ),
        ];
        for (err, status, expected) in table {
            let shown = format!("{err:?}");
            assert_eq!(
                name(classify_service(&err, status, "m".into(), "p")),
                expected,
                "{shown}"
            );
        }
    }

    fn meter_name(outcome: MeterAttemptError) -> String {
        match outcome {
            MeterAttemptError::Attempt(a) => name(a),
            MeterAttemptError::Duplicate(_) => "duplicate".into(),
            MeterAttemptError::Unsendable(_) => "unsendable".into(),
        }
    }

    /// MeterUsage's modelled errors land on the check's reasons and causes; the unmodelled
    /// ones (access denied, PlatformNotSupportedException) go through the same fallback.
    #[test]
    fn meter_usage_errors_are_matched_by_type_with_the_checks_reasons() {
        use MeterUsageError as E;
        let table: Vec<(E, u16, &str)> = vec![
            (
                E::ThrottlingException(model::ThrottlingException::builder().build()),
                400,
                "transient:throttled",
            ),
            (
                E::InternalServiceErrorException(
                    model::InternalServiceErrorException::builder().build(),
                ),
                500,
                "transient:server_error",
            ),
            (
                E::InternalServiceErrorException(
                    model::InternalServiceErrorException::builder().build(),
                ),
                400,
                "78:InternalServiceErrorException",
            ),
            (
                E::CustomerNotEntitledException(
                    model::CustomerNotEntitledException::builder().build(),
                ),
                400,
                "not_entitled:77",
            ),
            (
                E::InvalidProductCodeException(
                    model::InvalidProductCodeException::builder().build(),
                ),
                400,
                "78:InvalidProductCodeException",
            ),
            (
                E::InvalidUsageDimensionException(
                    model::InvalidUsageDimensionException::builder().build(),
                ),
                400,
                "78:InvalidUsageDimensionException",
            ),
            (
                E::InvalidEndpointRegionException(
                    model::InvalidEndpointRegionException::builder().build(),
                ),
                400,
                "78:InvalidEndpointRegionException",
            ),
            (
                E::DuplicateRequestException(model::DuplicateRequestException::builder().build()),
                400,
                "duplicate",
            ),
            (
                E::IdempotencyConflictException(
                    model::IdempotencyConflictException::builder().build(),
                ),
                400,
                "duplicate",
            ),
            (
                E::TimestampOutOfBoundsException(
                    model::TimestampOutOfBoundsException::builder().build(),
                ),
                400,
                "unsendable",
            ),
            (
                E::InvalidTagException(model::InvalidTagException::builder().build()),
                400,
                "unsendable",
            ),
            (
                E::InvalidUsageAllocationsException(
                    model::InvalidUsageAllocationsException::builder().build(),
                ),
                400,
                "unsendable",
            ),
        ];
        for (err, status, expected) in table {
            let shown = format!("{err:?}");
            assert_eq!(
                meter_name(classify_meter_service(&err, status, "m".into(), "p")),
                expected,
                "{shown}"
            );
        }
        for (code, status, expected) in [
            (
                "PlatformNotSupportedException",
                400,
                "78:PlatformNotSupportedException",
            ),
            ("AccessDeniedException", 400, "78:AccessDeniedException"),
            ("SlowDown", 503, "transient:throttled"),
        ] {
            let generic = MeterUsageError::generic(ErrorMetadata::builder().code(code).build());
            assert_eq!(
                meter_name(classify_meter_service(&generic, status, "m".into(), "p")),
                expected,
                "{code}"
            );
        }
    }

    #[test]
    fn unmodelled_errors_fall_back_to_code_and_status() {
        let table: &[(Option<&str>, u16, &str)] = &[
            (Some("ThrottlingException"), 400, "transient:throttled"),
            (Some("SlowDown"), 503, "transient:throttled"),
            (None, 502, "transient:server_error"),
            (None, 503, "transient:server_error"),
            (None, 429, "transient:throttled"),
            (None, 408, "transient:throttled"),
            (None, 200, "transient:malformed_answer"),
            (
                Some("AccessDeniedException"),
                400,
                "78:AccessDeniedException",
            ),
            (
                Some("UnrecognizedClientException"),
                403,
                "78:UnrecognizedClientException",
            ),
            (Some("SomethingNew"), 400, "78:SomethingNew"),
            (None, 401, "78:HTTP401"),
            (None, 403, "78:HTTP403"),
            (None, 404, "78:HTTP404"),
            (None, 407, "78:HTTP407"),
        ];
        for (code, status, expected) in table {
            assert_eq!(
                name(classify_unmodelled(*code, *status, "m".into())),
                *expected,
                "{code:?} {status}"
            );
        }
        let generic = RegisterUsageError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .build(),
        );
        assert_eq!(
            name(classify_service(&generic, 400, "m".into(), "p")),
            "78:AccessDeniedException"
        );
    }

    #[test]
    fn a_certificate_verdict_is_found_inside_an_io_error() {
        let verdict = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, verdict);
        // Two io::Errors deep, as hyper-rustls nests it.
        let io = std::io::Error::other(io);
        let err = CredentialsError::provider_error(io);
        match classify_credentials(err) {
            AttemptError::Fatal(CheckError::Rejected { reason, .. }) => {
                assert_eq!(reason, RejectReason::TlsCertificate)
            }
            other => panic!("{other:?}"),
        }
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        assert!(
            untrusted_certificate(&reset).is_none(),
            "a reset stays transient"
        );
    }

    #[test]
    fn descriptions_are_the_display_chain_without_debug_dumps() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = CredentialsError::unhandled(io);
        let text = describe(&err);
        assert!(text.ends_with("Connection refused"), "{text}");
        assert!(!text.contains("Custom {"), "no Debug output: {text}");
    }

    fn credential_outcome(err: CredentialsError) -> String {
        name(classify_credentials(err))
    }

    #[test]
    fn credential_errors_split_into_missing_refused_and_transient() {
        let cases: Vec<(CredentialsError, &str)> = vec![
            (CredentialsError::not_loaded("none"), "78:NoCredentials"),
            (
                CredentialsError::invalid_configuration("bad uri"),
                "78:CredentialsConfiguration",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: 403",
                ),
                "78:CredentialsRefused",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: 503",
                ),
                "transient:server_error",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: StatusCode(500)",
                ),
                "transient:server_error",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: StatusCode(429)",
                ),
                "transient:throttled",
            ),
            (
                CredentialsError::provider_error(
                    "Non-success status from HTTP credential provider: StatusCode(401)",
                ),
                "78:CredentialsRefused",
            ),
            (
                CredentialsError::provider_timed_out(std::time::Duration::from_secs(5)),
                "transient:timeout",
            ),
            (
                CredentialsError::unhandled("garbage"),
                "transient:credentials_unavailable",
            ),
        ];
        for (err, expected) in cases {
            assert_eq!(credential_outcome(err), expected);
        }
    }

    /// One case per wording recognised in provider error text, and the
    /// documented fall of an unrecognised one: refused (78), not retried.
    #[test]
    fn every_recognised_provider_wording_is_transient_and_an_unknown_one_is_refused() {
        for (wording, cause) in TRANSIENT_PROVIDER_WORDINGS {
            let err = CredentialsError::provider_error(format!("provider said: {wording} here"));
            assert_eq!(
                credential_outcome(err),
                format!("transient:{cause}"),
                "{wording}"
            );
        }
        for code in THROTTLING_CODES {
            let err = CredentialsError::provider_error(format!("STS error: {code}: slow down"));
            assert_eq!(credential_outcome(err), "transient:throttled", "{code}");
        }
        let unknown = CredentialsError::provider_error(
            "InvalidIdentityToken: no OpenIDConnect provider found",
        );
        assert_eq!(credential_outcome(unknown), "78:CredentialsRefused");
    }
}
