//! MeterUsage's failures, classified with the check's reasons and transient causes
//! (`crate::classify`), plus the two outcomes only metering has; the classifier returns
//! the [`Outcome`] the reporter acts on.

use aws_sdk_marketplacemetering::error::ProvideErrorMetadata;
use aws_sdk_marketplacemetering::error::SdkError;
use aws_sdk_marketplacemetering::operation::meter_usage::MeterUsageError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::outcome::Outcome;
use crate::classify::{
    classify_sdk, classify_unmodelled, internal_error, not_entitled, throttled, AttemptError,
};
use crate::error::CheckError;
use crate::reason::RejectReason;

/// One failed MeterUsage call, as the outcome the reporter acts on.
pub(crate) fn classify_meter_call(
    err: SdkError<MeterUsageError, HttpResponse>,
    product_code: &str,
) -> Outcome {
    classify_sdk(&err, |service, status, message| {
        classify_meter_service(service, status, message, product_code)
    })
}

fn classify_meter_service(
    err: &MeterUsageError,
    status: u16,
    message: String,
    product_code: &str,
) -> Outcome {
    use MeterUsageError as E;
    let text = |code: &str| format!("{code}: {message}");
    // The modelled errors by type first, as for RegisterUsage; the code string only for
    // the rest (access denied and PlatformNotSupportedException are not in MeterUsage's
    // model).
    let reason = match err {
        E::DuplicateRequestException(_) => {
            return Outcome::Duplicate(text("DuplicateRequestException"))
        }
        E::IdempotencyConflictException(_) => {
            return Outcome::Duplicate(text("IdempotencyConflictException"))
        }
        E::TimestampOutOfBoundsException(_) => {
            return Outcome::Unsendable(text("TimestampOutOfBoundsException"))
        }
        E::InvalidTagException(_) => return Outcome::Unsendable(text("InvalidTagException")),
        E::InvalidUsageAllocationsException(_) => {
            return Outcome::Unsendable(text("InvalidUsageAllocationsException"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_marketplacemetering::error::ErrorMetadata;
    use aws_sdk_marketplacemetering::types::error as model;

    fn meter_name(outcome: Outcome) -> String {
        match outcome {
            Outcome::Transient(t) => format!("transient:{}", t.cause),
            Outcome::Refused(reason, _) => format!("78:{reason}"),
            Outcome::NotEntitled(_) => "not_entitled:77".into(),
            Outcome::Duplicate(_) => "duplicate".into(),
            Outcome::Unsendable(_) => "unsendable".into(),
            Outcome::Reported(_) => "reported".into(),
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
}
