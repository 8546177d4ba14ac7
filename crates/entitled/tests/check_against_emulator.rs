//! The check end to end in process: the real SDK, real SigV4 and real HTTP(S)
//! on loopback, against the emulator.

use std::time::{Duration, Instant, UNIX_EPOCH};

use entitled::{
    Backoff, Check, CheckBuilder, CheckError, RejectReason, StaticCredentials, VerifyError,
};
use entitled_emulator::{Config, Emulator, Fault, Product, TokenVariant};

mod fixtures;
use fixtures::{keys, private_pem, ATTACKER, KEY_V1, PRODUCT};

const AKID: &str = "AKIDCHECKTEST";
const SECRET: &str = "check-test-secret";

fn product() -> Product {
    Product::new(PRODUCT)
        .key_pem(1, &private_pem(KEY_V1))
        .unwrap()
}

async fn emulator(config: Config) -> Emulator {
    // A fixture for the "signed with another key", so no test waits on RSA
    // key generation (which would trip the attempt timeout under load).
    let attacker = fixtures::signing_key(ATTACKER);
    Emulator::start(
        config
            .region("us-east-1")
            .static_credentials(AKID, SECRET)
            .other_key(attacker),
    )
    .await
    .unwrap()
}

fn error(code: &str) -> Fault {
    Fault::Error {
        code: code.into(),
        message: None,
    }
}

fn credentials(access_key_id: &str, secret_access_key: &str) -> StaticCredentials {
    StaticCredentials {
        access_key_id: access_key_id.into(),
        secret_access_key: secret_access_key.into(),
        session_token: None,
    }
}

/// A check of `emu` that trusts its CA, if it has one, with fast backoff so
/// retry tests take milliseconds.
fn check(emu: &Emulator) -> CheckBuilder {
    let check = check_trusting_system_roots_only(emu);
    match emu.ca_pem() {
        Some(ca) => check.extra_root_certificates(ca),
        None => check,
    }
}

/// A check of `emu` that trusts only the Amazon and system roots.
fn check_trusting_system_roots_only(emu: &Emulator) -> CheckBuilder {
    Check::builder()
        .product_code(PRODUCT)
        .keys(keys().clone())
        .endpoint_url(emu.endpoint_url())
        .region("us-east-1")
        .static_credentials(credentials(AKID, SECRET))
        .deadline(Duration::from_secs(20))
        .attempt_timeout(Duration::from_secs(5))
        .backoff(Backoff::new(
            Duration::from_millis(10),
            Duration::from_millis(40),
        ))
}

fn register_calls(emu: &Emulator) -> Vec<entitled_emulator::CallRecord> {
    emu.calls()
        .into_iter()
        .filter(|c| c.operation == "RegisterUsage")
        .collect()
}

#[tokio::test]
async fn a_verified_answer_is_an_entitlement_bound_to_the_nonce_sent() {
    let emu = emulator(Config::new().product(product())).await;
    let entitlement = check(&emu).run().await.unwrap();

    assert_eq!(entitlement.product_code(), PRODUCT);
    assert_eq!(entitlement.key_version(), 1);
    assert_eq!(entitlement.attempts(), 1);
    assert_eq!(entitlement.key_rotation(), None);
    assert_eq!(entitlement.key_rotation_rfc3339(), None);
    assert!(entitlement.issued_at().is_some());
    let calls = register_calls(&emu);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].nonce.as_deref(), Some(entitlement.nonce()));
    assert_eq!(calls[0].key_version, Some(1));
    assert_eq!(calls[0].caller.as_deref(), Some(AKID));
}

#[tokio::test]
async fn https_with_the_emulators_ca_is_trusted() {
    let emu = emulator(Config::new().product(product()).tls(true)).await;
    assert!(emu.endpoint_url().starts_with("https://"));
    let entitlement = check(&emu).run().await.unwrap();
    assert_eq!(entitlement.attempts(), 1);
}

#[tokio::test]
async fn an_untrusted_certificate_is_never_accepted() {
    let emu = emulator(Config::new().product(product()).tls(true)).await;
    // The system and Amazon roots only: not the emulator's CA.
    let err = check_trusting_system_roots_only(&emu)
        // Long: an untrusted certificate must end the check at once (78),
        // not be retried until the deadline (75).
        .deadline(Duration::from_secs(60))
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 78, "{err}");
    assert!(
        matches!(
            &err,
            CheckError::Rejected {
                reason: RejectReason::TlsCertificate,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("SSL_CERT_FILE"), "{err}");
    assert!(
        register_calls(&emu).is_empty(),
        "no request got through TLS"
    );
}

#[tokio::test]
async fn throttling_twice_then_success() {
    let emu = emulator(Config::new().product(product())).await;
    emu.push_fault(PRODUCT, error("ThrottlingException"), 2);
    let entitlement = check(&emu).run().await.unwrap();
    assert_eq!(entitlement.attempts(), 3);
    let calls = register_calls(&emu);
    assert_eq!(calls.len(), 3);
    let nonces: std::collections::HashSet<_> = calls.iter().map(|c| c.nonce.clone()).collect();
    assert_eq!(nonces.len(), 3, "every call has its own nonce");
}

#[tokio::test]
async fn server_errors_twice_then_success() {
    let emu = emulator(Config::new().product(product())).await;
    emu.push_fault(PRODUCT, error("InternalServiceErrorException"), 2);
    let entitlement = check(&emu).run().await.unwrap();
    assert_eq!(entitlement.attempts(), 3);
}

#[tokio::test]
async fn each_modelled_error_ends_the_check_after_one_call_with_its_exit_code() {
    let table = [
        ("CustomerNotEntitledException", "not_entitled", 77),
        ("PlatformNotSupportedException", "rejected", 78),
        ("InvalidProductCodeException", "rejected", 78),
        ("InvalidPublicKeyVersionException", "rejected", 78),
        ("InvalidRegionException", "rejected", 78),
        ("DisabledApiException", "rejected", 78),
        ("AccessDeniedException", "rejected", 78),
    ];
    for (code, class, exit) in table {
        let emu = emulator(Config::new().product(product())).await;
        emu.push_fault(
            PRODUCT,
            Fault::Error {
                code: code.into(),
                message: Some("from the table".into()),
            },
            1,
        );
        let err = check(&emu).run().await.unwrap_err();
        assert_eq!(
            (err.class(), err.exit_code()),
            (class, exit),
            "{code}: {err}"
        );
        if let CheckError::Rejected { reason, .. } = &err {
            assert_eq!(reason.code(), code);
            assert!(!reason.before_call(), "{code}");
            assert!(
                err.to_string().starts_with("RegisterUsage refused"),
                "{err}"
            );
        }
        assert_eq!(register_calls(&emu).len(), 1, "{code} is not retried");
    }
}

#[tokio::test]
async fn a_denied_customer_is_not_entitled() {
    let emu = emulator(Config::new().product(product()).deny(PRODUCT)).await;
    let err = check(&emu).run().await.unwrap_err();
    assert!(matches!(err, CheckError::NotEntitled { .. }), "{err}");
    assert_eq!(err.exit_code(), 77);
}

#[tokio::test]
async fn permanent_throttling_ends_at_the_deadline() {
    let emu = emulator(Config::new().product(product())).await;
    emu.push_fault(PRODUCT, error("ThrottlingException"), 100_000);
    let deadline = Duration::from_secs(1);
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    let started = Instant::now();
    let err = check(&emu)
        .deadline(deadline)
        .on_retry(move |e| seen.lock().unwrap().push(e.clone()))
        .run()
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    // Every failure is told; only the last says no attempt follows, and no
    // line promises a retry that never comes ("retrying in 0 ms").
    let events = events.lock().unwrap();
    let (last, retried) = events.split_last().expect("failures were told");
    assert!(last.no_time_left, "{last}");
    assert!(
        last.to_string()
            .ends_with("; no time left before the deadline for another attempt"),
        "{last}"
    );
    for event in retried {
        assert!(!event.no_time_left && !event.delay.is_zero(), "{event}");
        assert!(event.to_string().contains("; retrying in "), "{event}");
    }
    assert_eq!(retried.len() + 1, register_calls(&emu).len());
    assert!(matches!(err, CheckError::Unavailable { .. }), "{err}");
    assert_eq!(err.exit_code(), 75);
    // Stopped by the deadline, not by running out of faults (there are 100,000): the
    // bound is loose because this runs beside every other test binary, and a tight
    // figure belongs in a benchmark.
    assert!(
        elapsed >= deadline && elapsed <= deadline + Duration::from_secs(10),
        "took {elapsed:?}"
    );
    assert!(
        register_calls(&emu).len() > 3,
        "it kept trying until the deadline"
    );
}

#[tokio::test]
async fn a_stalled_call_is_cut_by_the_attempt_timeout_and_retried() {
    let emu = emulator(Config::new().product(product())).await;
    emu.push_fault(PRODUCT, Fault::Stall, 1);
    let entitlement = check(&emu)
        .attempt_timeout(Duration::from_millis(1000))
        .run()
        .await
        .unwrap();
    assert_eq!(entitlement.attempts(), 2);
}

#[tokio::test]
async fn malformed_truncated_and_oversized_bodies_are_retried_never_trusted() {
    let faults = [
        Fault::Malformed {
            body: "{\"Signature\": ".into(),
        },
        Fault::Malformed {
            body: "<html>proxy error</html>".into(),
        },
        Fault::Oversized {
            bytes: 11 * 1024 * 1024,
        },
        Fault::DropMidResponse,
        Fault::Drop,
    ];
    for fault in faults {
        let name = format!("{fault:?}");
        let emu = emulator(Config::new().product(product())).await;
        emu.push_fault(PRODUCT, fault, 1);
        let entitlement = check(&emu)
            .run()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(entitlement.attempts(), 2, "{name}");
    }
}

#[tokio::test]
async fn a_bad_token_fails_verification_and_is_never_retried() {
    let table = [
        (TokenVariant::WrongNonce, "nonce"),
        (TokenVariant::WrongProduct, "product"),
        (TokenVariant::WrongKeyVersion, "key version"),
        (TokenVariant::OtherKey, "signature"),
        (TokenVariant::FutureIat, "future"),
        (TokenVariant::NoNonce, "nonce"),
        (TokenVariant::AlgNone, "malformed"),
        (TokenVariant::Rs256Pkcs1, "signature"),
    ];
    for (variant, word) in table {
        let name = format!("{variant:?}");
        let emu = emulator(Config::new().product(product())).await;
        emu.push_fault(PRODUCT, Fault::Token(variant), 1);
        let Err(err) = check(&emu).run().await else {
            panic!("{name}: a bad token was accepted");
        };
        assert!(matches!(err, CheckError::Verification(_)), "{name}: {err}");
        assert_eq!(err.exit_code(), 65, "{name}");
        assert!(
            err.to_string().to_lowercase().contains(word),
            "{name}: {err}"
        );
        assert_eq!(register_calls(&emu).len(), 1, "{name} is not retried");
    }
}

#[tokio::test]
async fn pascal_case_claims_verify() {
    let emu = emulator(Config::new().product(product())).await;
    emu.push_fault(PRODUCT, Fault::Token(TokenVariant::PascalCaseClaims), 1);
    check(&emu).run().await.unwrap();
}

#[tokio::test]
async fn an_expired_key_version_still_passes_and_reports_the_rotation_time() {
    let rotation = 1_767_225_600; // 2026-01-01T00:00:00Z
    let emu = emulator(Config::new().product(product().expired(1, rotation))).await;
    let entitlement = check(&emu).run().await.unwrap();
    assert_eq!(
        entitlement.key_rotation(),
        Some(UNIX_EPOCH + Duration::from_secs(rotation))
    );
    assert_eq!(
        entitlement.key_rotation_rfc3339().as_deref(),
        Some("2026-01-01T00:00:00Z")
    );
}

#[tokio::test]
async fn bad_configuration_makes_no_call() {
    let emu = emulator(Config::new().product(product())).await;
    let err = check(&emu)
        .product_code("has spaces")
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 64, "{err}");
    let err = check(&emu).key_version(2).run().await.unwrap_err();
    assert_eq!(err.exit_code(), 64, "{err}");
    assert!(emu.calls().is_empty());
}

#[tokio::test]
async fn unknown_credentials_are_rejected_not_retried() {
    let emu = emulator(Config::new().product(product())).await;
    let err = check(&emu)
        .static_credentials(credentials("AKIDUNKNOWN", "nope"))
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CheckError::Rejected { reason, .. } if reason.code() == "UnrecognizedClientException"),
        "{err}"
    );
}

#[test]
fn verify_error_messages_name_the_problem() {
    let msg = CheckError::from(VerifyError::Nonce).to_string();
    assert!(msg.contains("nonce") && msg.contains("replay"), "{msg}");
}
