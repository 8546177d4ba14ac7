//! What one MeterUsage call came to, from the SDK's typed `MeterUsageError` variants (and the
//! error code for unmodelled ones such as access denied and `PlatformNotSupportedException`).

use aws_sdk_marketplacemetering::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_marketplacemetering::operation::meter_usage::MeterUsageError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::classify::describe;

/// Why AWS refused to take usage, typed so the application can decide what to do.
///
/// ```
/// use entitled::meter::MeterRefusal;
/// assert_eq!(MeterRefusal::NotEntitled.as_str(), "CustomerNotEntitled");
/// assert!(MeterRefusal::InvalidUsageDimension.dimension_only());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MeterRefusal {
    /// `CustomerNotEntitledException`: the buyer's subscription does not cover the product.
    NotEntitled,
    /// `InvalidUsageDimensionException`: the dimension is not one of the product's.
    InvalidUsageDimension,
    /// `InvalidProductCodeException`.
    InvalidProductCode,
    /// `PlatformNotSupportedException`: not signed with a task role or IRSA.
    PlatformNotSupported,
    /// Access denied: the role lacks `aws-marketplace:MeterUsage`.
    AccessDenied,
    /// `InvalidEndpointRegionException`: not the task's own Region.
    InvalidRegion,
}

impl MeterRefusal {
    /// A stable name for logs, metrics and the status endpoint.
    pub fn as_str(self) -> &'static str {
        match self {
            MeterRefusal::NotEntitled => "CustomerNotEntitled",
            MeterRefusal::InvalidUsageDimension => "InvalidUsageDimension",
            MeterRefusal::InvalidProductCode => "InvalidProductCode",
            MeterRefusal::PlatformNotSupported => "PlatformNotSupported",
            MeterRefusal::AccessDenied => "AccessDenied",
            MeterRefusal::InvalidRegion => "InvalidRegion",
        }
    }

    /// True when the refusal concerns one dimension only, so the others keep reporting.
    pub fn dimension_only(self) -> bool {
        self == MeterRefusal::InvalidUsageDimension
    }
}

/// One call's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Accepted: the record id.
    Reported(String),
    /// The hour was already reported with other parameters: `DuplicateRequestException`, or
    /// `IdempotencyConflictException` for our own token.
    Duplicate(String),
    /// Throttling, 5xx, network, timeout: retry while the window lasts.
    Transient(String),
    /// A refusal that stops reporting for its cause.
    Refused(MeterRefusal, String),
    /// This hour can never be sent (timestamp out of bounds, allocations refused).
    Unsendable(String),
}

impl Outcome {
    /// The label for the calls-by-outcome metric.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Reported(_) => "reported",
            Outcome::Duplicate(_) => "duplicate",
            Outcome::Transient(_) => "transient",
            Outcome::Refused(r, _) => r.as_str(),
            Outcome::Unsendable(_) => "unsendable",
        }
    }
}

pub(crate) fn classify(err: SdkError<MeterUsageError, HttpResponse>) -> Outcome {
    let message = err.message().unwrap_or("no message").to_owned();
    let code = err.code().unwrap_or("").to_owned();
    let SdkError::ServiceError(ctx) = &err else {
        return match &err {
            SdkError::TimeoutError(_) => Outcome::Transient("the call timed out".into()),
            SdkError::ConstructionFailure(_) => Outcome::Refused(
                MeterRefusal::InvalidRegion,
                format!("the request could not be built: {}", describe(&err)),
            ),
            _ => Outcome::Transient(format!("could not reach the endpoint: {}", describe(&err))),
        };
    };
    let status = ctx.raw().status().as_u16();
    let text = format!("{code}: {message}");
    use MeterUsageError as E;
    match ctx.err() {
        E::DuplicateRequestException(_) | E::IdempotencyConflictException(_) => {
            Outcome::Duplicate(text)
        }
        E::ThrottlingException(_) | E::InternalServiceErrorException(_) => Outcome::Transient(text),
        E::CustomerNotEntitledException(_) => Outcome::Refused(MeterRefusal::NotEntitled, text),
        E::InvalidUsageDimensionException(_) => {
            Outcome::Refused(MeterRefusal::InvalidUsageDimension, text)
        }
        E::InvalidProductCodeException(_) => {
            Outcome::Refused(MeterRefusal::InvalidProductCode, text)
        }
        E::InvalidEndpointRegionException(_) => Outcome::Refused(MeterRefusal::InvalidRegion, text),
        E::TimestampOutOfBoundsException(_)
        | E::InvalidTagException(_)
        | E::InvalidUsageAllocationsException(_) => Outcome::Unsendable(text),
        _ if code.starts_with("PlatformNotSupported") => {
            Outcome::Refused(MeterRefusal::PlatformNotSupported, text)
        }
        _ if code.contains("AccessDenied") || status == 403 => {
            Outcome::Refused(MeterRefusal::AccessDenied, text)
        }
        _ if status >= 500 || status == 429 || code.contains("Throttl") => {
            Outcome::Transient(format!("HTTP {status} {text}"))
        }
        // Any other 4xx is a request AWS will keep refusing; keep it pending and retry
        // slowly rather than drop it, so it is reported as lost if it never goes through.
        _ => Outcome::Transient(format!("HTTP {status} {text}")),
    }
}
