//! `MeterBuilder::verify_within` against the emulator through the real SDK client: refusals
//! are typed errors of `build` with the check's reasons; "not entitled" and "unknown" are
//! states that the background check settles once AWS answers.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use entitled::meter::{ManualClock, Meter, MeterBuilder, MeterError, Verification};
use entitled::{Backoff, RejectReason, StaticCredentials};
use entitled_emulator::{Config, Emulator, Fault, Product};

mod fixtures;

const PRODUCT: &str = "prod-verify";

async fn emulator(config: Config) -> Emulator {
    let product = Product::new(PRODUCT)
        .signing_key(1, fixtures::signing_key(fixtures::KEY_V1))
        .dimensions(["users", "hosts"]);
    Emulator::start(config.product(product)).await.unwrap()
}

fn builder(emulator: &Emulator, journal: &std::path::Path) -> MeterBuilder {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Meter::builder()
        .product_code(PRODUCT)
        .dimension("users")
        .dimension("hosts")
        .journal_dir(journal)
        .endpoint_url(emulator.endpoint_url())
        .region("us-east-1")
        .static_credentials(StaticCredentials {
            access_key_id: entitled_emulator::DEFAULT_ACCESS_KEY_ID.into(),
            secret_access_key: entitled_emulator::DEFAULT_SECRET_ACCESS_KEY.into(),
            session_token: None,
        })
        .clock(Arc::new(ManualClock::new(now)))
        .attempt_timeout(Duration::from_secs(2))
        .backoff(Backoff::new(
            Duration::from_millis(5),
            Duration::from_millis(50),
        ))
        .verify_within(Duration::from_millis(500))
}

/// Waits (bounded) until the meter's verification is `want`.
async fn until(meter: &Meter, want: Verification) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while meter.verification() != want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {want:?}: {:?}",
            meter.status()
        );
        let _ = tokio::time::timeout(Duration::from_millis(50), meter.changed()).await;
    }
}

/// Each row: the fault the first DryRun gets, and the reason `build` refuses with.
#[tokio::test]
async fn refusals_fail_build_with_the_checks_reason() {
    let table = [
        (
            "PlatformNotSupportedException",
            RejectReason::PlatformNotSupported,
        ),
        (
            "InvalidProductCodeException",
            RejectReason::InvalidProductCode,
        ),
        ("UnauthorizedException", RejectReason::AccessDenied),
        ("AccessDeniedException", RejectReason::AccessDenied),
        (
            "InvalidEndpointRegionException",
            RejectReason::InvalidEndpointRegion,
        ),
    ];
    for (code, want) in table {
        let emulator = emulator(Config::new()).await;
        emulator.push_fault(PRODUCT, Fault::error(code), 1);
        let journal = tempfile::tempdir().unwrap();
        let err = builder(&emulator, journal.path())
            .build()
            .await
            .unwrap_err();
        match &err {
            MeterError::Refused {
                reason, dimension, ..
            } => assert_eq!((reason, dimension), (&want, &None), "{code}"),
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(err.exit_code(), 78, "{code}");
        assert!(err.to_string().contains(want.hint()), "{code}: {err}");
    }
}

#[tokio::test]
async fn not_entitled_builds_and_turns_verified_when_aws_agrees() {
    let emulator = emulator(Config::new()).await;
    emulator.push_fault(PRODUCT, Fault::error("CustomerNotEntitledException"), 3);
    let journal = tempfile::tempdir().unwrap();
    let meter = builder(&emulator, journal.path()).build().await.unwrap();
    let status = meter.status();
    assert_eq!(status.verification, Verification::NotEntitled);
    assert!(!meter.is_entitled());
    assert_eq!(status.to_json()["entitled"], false);
    // The buyer subscribes (the faults run out): the background check sees it.
    until(&meter, Verification::Verified).await;
    assert!(meter.is_entitled());
    assert_eq!(meter.status().to_json()["entitled"], true);
}

#[tokio::test]
async fn no_answer_within_the_budget_builds_unknown_then_verifies() {
    let emulator = emulator(Config::new()).await;
    emulator.push_fault(PRODUCT, Fault::Stall, 1);
    let journal = tempfile::tempdir().unwrap();
    let started = tokio::time::Instant::now();
    let meter = builder(&emulator, journal.path()).build().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "build waited past the 500 ms budget for the 2 s attempt: {:?}",
        started.elapsed()
    );
    let status = meter.status();
    assert_eq!(status.verification, Verification::Unknown);
    assert_eq!(status.to_json()["entitled"], serde_json::Value::Null);
    assert_eq!(status.last_error.unwrap().class, "timeout");
    until(&meter, Verification::Verified).await;
    assert!(emulator.usage().is_empty(), "DryRuns record nothing");
}

/// Without `verify_within` nothing is called at build, and the status stays unknown.
#[tokio::test]
async fn without_the_option_build_calls_nothing() {
    let emulator = emulator(Config::new()).await;
    let journal = tempfile::tempdir().unwrap();
    let meter = Meter::builder()
        .product_code(PRODUCT)
        .dimension("users")
        .journal_dir(journal.path())
        .endpoint_url(emulator.endpoint_url())
        .region("us-east-1")
        .static_credentials(StaticCredentials {
            access_key_id: entitled_emulator::DEFAULT_ACCESS_KEY_ID.into(),
            secret_access_key: entitled_emulator::DEFAULT_SECRET_ACCESS_KEY.into(),
            session_token: None,
        })
        .build()
        .await
        .unwrap();
    assert_eq!(meter.verification(), Verification::Unknown);
    assert!(emulator.calls().is_empty());
}
