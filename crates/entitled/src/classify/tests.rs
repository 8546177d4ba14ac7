use super::chain::untrusted_certificate;
use super::credentials::*;
use super::*;
use aws_credential_types::provider::error::CredentialsError;
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
            E::CustomerNotEntitledException(model::CustomerNotEntitledException::builder().build()),
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
            E::InvalidProductCodeException(model::InvalidProductCodeException::builder().build()),
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
    let unknown =
        CredentialsError::provider_error("InvalidIdentityToken: no OpenIDConnect provider found");
    assert_eq!(credential_outcome(unknown), "78:CredentialsRefused");
}
