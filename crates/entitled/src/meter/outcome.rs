//! What one MeterUsage call came to, from the meter's classifier (`classify.rs`): the
//! same typed reasons and transient causes as the check, plus the outcomes only metering
//! has.

use std::borrow::Cow;

use crate::classify::AttemptError;
use crate::error::CheckError;
use crate::reason::{RejectReason, Transient};

/// One call's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Accepted: the record id.
    Reported(String),
    /// The hour was already reported with other parameters: `DuplicateRequestException`, or
    /// `IdempotencyConflictException` for our own token.
    Duplicate(String),
    /// Throttling, 5xx, network, timeout, at the metering or the credentials endpoint:
    /// retry while the window lasts.
    Transient(Transient),
    /// `CustomerNotEntitledException`: the meter's "not entitled" state.
    NotEntitled(String),
    /// A refusal, with the check's reason.
    Refused(RejectReason, String),
    /// This hour can never be sent (timestamp out of bounds, allocations refused).
    Unsendable(String),
}

/// The class of `CustomerNotEntitledException`, as AWS names it.
pub(crate) const NOT_ENTITLED_CLASS: &str = "CustomerNotEntitledException";

impl Outcome {
    /// The label for the calls-by-outcome metric.
    pub fn label(&self) -> Cow<'_, str> {
        match self {
            Outcome::Reported(_) => "reported".into(),
            Outcome::Duplicate(_) => "duplicate".into(),
            Outcome::Transient(_) => "transient".into(),
            Outcome::NotEntitled(_) => NOT_ENTITLED_CLASS.into(),
            Outcome::Refused(reason, _) => reason.code(),
            Outcome::Unsendable(_) => "unsendable".into(),
        }
    }
}

impl From<AttemptError> for Outcome {
    fn from(err: AttemptError) -> Self {
        match err {
            AttemptError::Transient(t) => Outcome::Transient(t),
            AttemptError::Fatal(CheckError::NotEntitled { message, .. }) => {
                Outcome::NotEntitled(message)
            }
            AttemptError::Fatal(CheckError::Rejected {
                reason, message, ..
            }) => Outcome::Refused(reason, message),
            // The classifiers build only the two above; anything else is refused by class.
            AttemptError::Fatal(other) => Outcome::Refused(
                RejectReason::OtherCode(other.class().to_owned()),
                other.to_string(),
            ),
        }
    }
}

/// How a refusal affects reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// One dimension stops (`InvalidUsageDimensionException`); the others go on.
    Dimension,
    /// The whole meter stops: product code, platform, access, Region, credentials, TLS.
    Meter,
    /// Kept and retried slowly while the window lasts: an AWS code this library does not
    /// know, or `InternalServiceErrorException` with a 4xx, which another attempt may pass.
    Retry,
}

/// The scope of a refusal.
pub(crate) fn scope(reason: &RejectReason) -> Scope {
    match reason {
        RejectReason::InvalidUsageDimension => Scope::Dimension,
        RejectReason::OtherCode(_) | RejectReason::InternalServiceError => Scope::Retry,
        _ => Scope::Meter,
    }
}
