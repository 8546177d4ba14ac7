//! Which failures are worth another attempt.
//!
//! AWS advises retrying throttling and transient faults with backoff, and
//! terminating on anything else. Every failure lands in exactly one of the two
//! bins here, with a typed cause; nothing is retried by default.
//!
//! By concern: the Metering Service's answers here (RegisterUsage's, and what every
//! call can fail with, which the meter's classifier in `meter/classify.rs` builds on),
//! the credential providers' errors in [`credentials`], and the walk along an error's
//! chain in [`chain`].

mod chain;
mod credentials;

pub(crate) use chain::describe;
use chain::untrusted_certificate;
pub(crate) use credentials::classify_credentials;

use aws_sdk_marketplacemetering::error::{ProvideErrorMetadata, SdkError};
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

pub(super) fn transient(endpoint: Endpoint, cause: TransientCause, detail: String) -> AttemptError {
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
pub(crate) const THROTTLING_CODES: &[&str] = &[
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
pub(crate) fn retryable_4xx(status: u16) -> bool {
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
pub(crate) fn throttled(status: u16, message: String) -> AttemptError {
    metering(
        TransientCause::Throttled,
        format!("ThrottlingException (HTTP {status}): {message}"),
    )
}

pub(crate) fn not_entitled(product_code: &str, message: String) -> AttemptError {
    AttemptError::Fatal(CheckError::NotEntitled {
        product_code: product_code.to_owned(),
        message,
    })
}

/// `InternalServiceErrorException`: retried with a 5xx; with another status AWS's SDKs do
/// not retry it either.
pub(crate) fn internal_error(status: u16, message: String) -> AttemptError {
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

#[cfg(test)]
mod tests;
