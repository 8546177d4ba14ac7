//! Every fault kind, seen through the real SDK client: what the client gets, and what the call
//! log records.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_marketplacemetering::config::timeout::TimeoutConfig;
use aws_sdk_marketplacemetering::error::{ProvideErrorMetadata as _, SdkError};
use common::*;
use entitled_emulator::{Config, Emulator, Fault, TokenVariant};

async fn emulator() -> Emulator {
    let product = fixtures::product("prod-1");
    let attacker = fixtures::signing_key(ATTACKER_KEY);
    Emulator::start(Config::new().product(product).other_key(attacker))
        .await
        .unwrap()
}

async fn register(client: &aws_sdk_marketplacemetering::Client) -> Result<String, String> {
    client
        .register_usage()
        .product_code("prod-1")
        .public_key_version(1)
        .nonce("the-nonce")
        .send()
        .await
        .map(|o| o.signature().unwrap_or_default().to_owned())
        .map_err(|e| match &e {
            SdkError::ServiceError(ctx) => format!(
                "service:{}:{}",
                ctx.raw().status().as_u16(),
                ctx.err().code().unwrap_or("")
            ),
            SdkError::TimeoutError(_) => "timeout".to_owned(),
            SdkError::DispatchFailure(_) => "dispatch".to_owned(),
            // The SDK reports error responses it cannot parse (no error code) this way.
            SdkError::ResponseError(r) => format!("response:{}", r.raw().status().as_u16()),
            other => format!("other:{other:?}"),
        })
}

#[tokio::test]
async fn token_variants() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let product_pem = fixture(V1_PUBLIC);
    let attacker_pem = fixture(ATTACKER_PUBLIC);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    type Check = fn(&Decoded, &str, i64) -> bool;
    let table: Vec<(TokenVariant, Check)> = vec![
        (TokenVariant::WrongNonce, |d, _, _| {
            d.ps256_valid && d.claims["nonce"] != "the-nonce"
        }),
        (TokenVariant::WrongProduct, |d, _, _| {
            d.ps256_valid && d.claims["productCode"] != "prod-1"
        }),
        (TokenVariant::WrongKeyVersion, |d, _, _| {
            d.ps256_valid && d.claims["publicKeyVersion"] == 2
        }),
        (TokenVariant::OtherKey, |d, jwt, _| {
            !d.ps256_valid && decode(jwt, &fixture(ATTACKER_PUBLIC)).ps256_valid
        }),
        (TokenVariant::FutureIat, |d, _, now| {
            d.ps256_valid && d.claims["iat"].as_i64().unwrap() > now + 600
        }),
        (TokenVariant::NoNonce, |d, _, _| {
            d.ps256_valid && d.claims.get("nonce").is_none()
        }),
        (TokenVariant::AlgNone, |d, jwt, _| {
            d.header["alg"] == "none" && jwt.ends_with('.')
        }),
        (TokenVariant::Rs256Pkcs1, |d, _, _| {
            d.header["alg"] == "PS256" && !d.ps256_valid
        }),
        (TokenVariant::PascalCaseClaims, |d, _, _| {
            d.ps256_valid
                && d.claims["ProductCode"] == "prod-1"
                && d.claims["PublicKeyVersion"] == 1
                && d.claims["Nonce"] == "the-nonce"
                && d.claims.get("productCode").is_none()
        }),
    ];
    let _ = attacker_pem;
    for (variant, check) in table {
        emulator.push_fault("prod-1", Fault::Token(variant), 1);
        let jwt = register(&client).await.unwrap();
        let d = decode(&jwt, &product_pem);
        assert!(
            check(&d, &jwt, now),
            "{variant:?}: {} {}",
            d.header,
            d.claims
        );
        let last = emulator.calls().pop().unwrap();
        assert_eq!(last.outcome, format!("Token:{variant:?}"));
    }
    // Queue used up: a genuine token again.
    let jwt = register(&client).await.unwrap();
    assert!(decode(&jwt, &product_pem).ps256_valid);
}

#[tokio::test]
async fn transport_faults() {
    let emulator = emulator().await;
    // Only the stalled call needs a short attempt timeout; every other call keeps the common
    // 10 s, which a loaded 2-core machine never comes near.
    let stall_config = client_builder(&emulator, default_credentials(), "us-east-1")
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(1500))
                .build(),
        )
        .build();
    let stall_client = aws_sdk_marketplacemetering::Client::from_conf(stall_config);
    let client = client(&emulator);

    emulator.push_fault(
        "prod-1",
        Fault::Status {
            status: 503,
            body: String::new(),
        },
        1,
    );
    assert_eq!(register(&client).await.unwrap_err(), "response:503");

    emulator.push_fault(
        "prod-1",
        Fault::Status {
            status: 502,
            body: "<html>bad gateway</html>".into(),
        },
        1,
    );
    assert_eq!(register(&client).await.unwrap_err(), "response:502");

    emulator.push_fault("prod-1", Fault::Stall, 1);
    assert_eq!(register(&stall_client).await.unwrap_err(), "timeout");

    emulator.push_fault("prod-1", Fault::Drop, 1);
    let err = register(&client).await.unwrap_err();
    assert!(err == "dispatch" || err.starts_with("response"), "{err}");

    emulator.push_fault("prod-1", Fault::DropMidResponse, 1);
    let err = register(&client).await.unwrap_err();
    assert!(err == "dispatch" || err.starts_with("response"), "{err}");

    emulator.push_fault(
        "prod-1",
        Fault::Malformed {
            body: "{not json".into(),
        },
        1,
    );
    // A 200 the SDK cannot read: an unreadable response, not a service error or a timeout.
    assert_eq!(register(&client).await.unwrap_err(), "response:200");

    emulator.push_fault("prod-1", Fault::Oversized { bytes: 3_000_000 }, 1);
    assert_eq!(register(&client).await.unwrap_err(), "response:200");

    emulator.push_fault("prod-1", Fault::Latency { millis: 300 }, 1);
    let t = Instant::now();
    register(&client).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));

    // A token is ~700 bytes: at 2000 bytes/s it takes a few hundred milliseconds.
    emulator.push_fault(
        "prod-1",
        Fault::Trickle {
            bytes_per_second: 2000,
        },
        1,
    );
    let t = Instant::now();
    register(&client).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(200));

    let outcomes: Vec<String> = emulator.calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes,
        [
            "Status:503",
            "Status:502",
            "Stall",
            "Drop",
            "DropMidResponse",
            "Malformed",
            "Oversized",
            "ok",
            "ok"
        ]
    );
}

#[tokio::test]
async fn faults_queue_fifo_per_target_with_times() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let throttle = Fault::error("ThrottlingException");
    emulator.push_fault("prod-1", throttle.clone(), 2);
    emulator.push_fault("prod-1", Fault::error("DisabledApiException"), 1);
    emulator.push_fault("other-product", throttle, 5);
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(register(&client).await.err().unwrap_or_else(|| "ok".into()));
    }
    assert_eq!(
        seen,
        [
            "service:400:ThrottlingException",
            "service:400:ThrottlingException",
            "service:400:DisabledApiException",
            "ok"
        ]
    );
    emulator.push_fault("*", Fault::error("InternalServiceErrorException"), 1);
    assert_eq!(
        register(&client).await.unwrap_err(),
        "service:500:InternalServiceErrorException"
    );
    emulator.push_fault("prod-1", Fault::Drop, 3);
    emulator.clear_faults();
    register(&client).await.unwrap();
}

#[tokio::test]
async fn faults_come_after_signature_checks() {
    let emulator = emulator().await;
    emulator.push_fault("prod-1", Fault::Drop, 1);
    let bad =
        aws_sdk_marketplacemetering::config::Credentials::new("AKIAUNKNOWN", "x", None, None, "t");
    let client = client_with(&emulator, bad, "us-east-1");
    assert_eq!(
        register(&client).await.unwrap_err(),
        "service:403:UnrecognizedClientException"
    );
    // The fault is still queued for the next signed call.
    let err = register(&self::client(&emulator)).await.unwrap_err();
    assert!(err == "dispatch" || err.starts_with("response"), "{err}");
}
