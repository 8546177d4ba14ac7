//! Which License Manager failures are worth another attempt, which mean no
//! licence, and which end the checkout: one table, by error code, for every
//! License Manager operation.

use aws_sdk_licensemanager::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::classify::{classify_sdk, classify_unmodelled, AttemptError};
use crate::error::CheckError;
use crate::reason::{Endpoint, RejectReason, Transient, TransientCause};

/// One failed License Manager call.
#[derive(Debug)]
pub(crate) enum LmFailure {
    /// Transient, or fatal with the check's types.
    Attempt(AttemptError),
    /// No licence allows it (exit 77): the code and AWS's message.
    NotLicensed { code: String, message: String },
    /// `RedirectException`, with its `Location` when it gave one.
    Redirect(Option<String>),
}

impl From<AttemptError> for LmFailure {
    fn from(err: AttemptError) -> Self {
        LmFailure::Attempt(at_license_manager(err))
    }
}

/// The shared classifier names the Metering Service as the endpoint of what
/// it finds transient; here it was License Manager.
pub(crate) fn at_license_manager(err: AttemptError) -> AttemptError {
    match err {
        AttemptError::Transient(t) if t.endpoint == Endpoint::Metering => {
            AttemptError::Transient(Transient {
                endpoint: Endpoint::LicenseManager,
                ..t
            })
        }
        other => other,
    }
}

/// Classifies a failed call of any License Manager operation.
pub(crate) fn classify_lm<E>(err: &SdkError<E, HttpResponse>) -> LmFailure
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    if let SdkError::ServiceError(ctx) = err {
        if ctx.err().code() == Some("RedirectException") {
            let location = ctx.raw().headers().get("location").map(str::to_owned);
            return LmFailure::Redirect(location);
        }
    }
    classify_sdk(err, |e, status, message| {
        classify_code(e.code(), status, message)
    })
}

/// The table: each License Manager error code and what it means.
pub(crate) fn classify_code(code: Option<&str>, status: u16, message: String) -> LmFailure {
    let Some(code) = code else {
        return classify_unmodelled(None, status, message).into();
    };
    let transient = |cause| {
        LmFailure::Attempt(AttemptError::Transient(Transient {
            endpoint: Endpoint::LicenseManager,
            cause,
            detail: format!("{code} (HTTP {status}): {message}"),
        }))
    };
    let reject = |reason| {
        LmFailure::Attempt(AttemptError::Fatal(CheckError::rejected(
            reason,
            message.clone(),
        )))
    };
    match code {
        "RateLimitExceededException" => transient(TransientCause::Throttled),
        "ServerInternalException" => transient(TransientCause::ServerError),
        "NoEntitlementsAllowedException"
        | "EntitlementNotAllowedException"
        | "ResourceNotFoundException" => LmFailure::NotLicensed {
            code: code.to_owned(),
            message,
        },
        "AccessDeniedException" | "AuthorizationException" => {
            reject(RejectReason::LicenseAccessDenied(code.to_owned()))
        }
        "ValidationException" | "InvalidParameterValueException" => {
            reject(RejectReason::LicenseValidation(code.to_owned()))
        }
        "UnsupportedDigitalSignatureMethodException" => {
            reject(RejectReason::UnsupportedSignatureMethod)
        }
        "RedirectException" => LmFailure::Redirect(None),
        other => classify_unmodelled(Some(other), status, message).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(outcome: LmFailure) -> String {
        match outcome {
            LmFailure::Attempt(AttemptError::Transient(t)) => {
                assert_eq!(t.endpoint, Endpoint::LicenseManager, "{t}");
                format!("75:{}", t.cause)
            }
            LmFailure::Attempt(AttemptError::Fatal(CheckError::Rejected { reason, .. })) => {
                format!("78:{reason}")
            }
            LmFailure::Attempt(AttemptError::Fatal(e)) => format!("{}", e.exit_code()),
            LmFailure::NotLicensed { code, .. } => format!("77:{code}"),
            LmFailure::Redirect(_) => "redirect".into(),
        }
    }

    /// The table, row by row, with the status each error comes with.
    #[test]
    fn every_license_manager_error_lands_in_its_class() {
        let table: &[(Option<&str>, u16, &str)] = &[
            (Some("RateLimitExceededException"), 429, "75:throttled"),
            (Some("ServerInternalException"), 500, "75:server_error"),
            (Some("ThrottlingException"), 400, "75:throttled"),
            (None, 502, "75:server_error"),
            (None, 503, "75:server_error"),
            (None, 429, "75:throttled"),
            (None, 200, "75:malformed_answer"),
            (
                Some("NoEntitlementsAllowedException"),
                400,
                "77:NoEntitlementsAllowedException",
            ),
            (
                Some("EntitlementNotAllowedException"),
                400,
                "77:EntitlementNotAllowedException",
            ),
            (
                Some("ResourceNotFoundException"),
                400,
                "77:ResourceNotFoundException",
            ),
            (
                Some("AccessDeniedException"),
                401,
                "78:AccessDeniedException",
            ),
            (
                Some("AuthorizationException"),
                403,
                "78:AuthorizationException",
            ),
            (Some("ValidationException"), 400, "78:ValidationException"),
            (
                Some("InvalidParameterValueException"),
                400,
                "78:InvalidParameterValueException",
            ),
            (
                Some("UnsupportedDigitalSignatureMethodException"),
                400,
                "78:UnsupportedDigitalSignatureMethodException",
            ),
            (
                Some("UnrecognizedClientException"),
                403,
                "78:UnrecognizedClientException",
            ),
            (Some("ConflictException"), 409, "78:ConflictException"),
            (Some("RedirectException"), 308, "redirect"),
            (None, 403, "78:HTTP403"),
        ];
        for (code, status, expected) in table {
            assert_eq!(
                name(classify_code(*code, *status, "m".into())),
                *expected,
                "{code:?} {status}"
            );
        }
    }

    #[test]
    fn license_manager_refusals_say_so_and_hint_at_the_fix() {
        let err = CheckError::rejected(
            RejectReason::LicenseAccessDenied("AccessDeniedException".into()),
            "no",
        );
        let text = err.to_string();
        assert!(text.starts_with("License Manager refused"), "{text}");
        assert!(text.contains("license-manager:CheckoutLicense"), "{text}");
        let err = CheckError::rejected(
            RejectReason::LicenseValidation("ValidationException".into()),
            "bad",
        );
        assert!(err.to_string().contains("never with unit None"), "{err}");
        assert_eq!(err.exit_code(), 78);
    }
}
