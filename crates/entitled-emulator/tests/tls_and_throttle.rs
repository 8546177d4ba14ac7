//! HTTPS with the generated CA, and the RegisterUsage throttle under 200 concurrent calls.

mod common;

use std::time::Instant;

use aws_sdk_marketplacemetering::error::SdkError;
use common::*;
use entitled_emulator::{Config, Emulator, Product};

fn product() -> Product {
    fixtures::product("prod-1")
}

#[tokio::test]
async fn tls_with_the_ca_trusted() {
    let emulator = Emulator::start(Config::new().product(product()).tls(true))
        .await
        .unwrap();
    assert!(emulator.endpoint_url().starts_with("https://127.0.0.1:"));
    assert!(emulator.ca_pem().unwrap().contains("BEGIN CERTIFICATE"));
    let out = client(&emulator)
        .register_usage()
        .product_code("prod-1")
        .public_key_version(1)
        .send()
        .await
        .unwrap();
    let pem = fixture(V1_PUBLIC);
    assert!(decode(out.signature().unwrap(), &pem).ps256_valid);

    // Without the CA in the trust store the handshake fails.
    let untrusting = aws_sdk_marketplacemetering::Config::builder()
        .behavior_version(aws_sdk_marketplacemetering::config::BehaviorVersion::latest())
        .region(aws_sdk_marketplacemetering::config::Region::new(
            "us-east-1",
        ))
        .endpoint_url(emulator.endpoint_url())
        .credentials_provider(default_credentials())
        .http_client(http_client(None))
        .retry_config(aws_sdk_marketplacemetering::config::retry::RetryConfig::disabled())
        .build();
    let err = aws_sdk_marketplacemetering::Client::from_conf(untrusting)
        .register_usage()
        .product_code("prod-1")
        .public_key_version(1)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_calls_under_the_throttle() {
    const RATE: f64 = 5.0;
    let emulator = Emulator::start(Config::new().product(product()).throttle(RATE))
        .await
        .unwrap();
    let client = client(&emulator);
    let started = Instant::now();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .register_usage()
                    .product_code("prod-1")
                    .public_key_version(1)
                    .nonce(format!("n{i}"))
                    .send()
                    .await
            })
        })
        .collect();
    let (mut ok, mut throttled) = (0u32, 0u32);
    for t in tasks {
        match t.await.unwrap() {
            Ok(out) => {
                assert!(out.signature().is_some());
                ok += 1;
            }
            Err(e) => {
                let service = e.into_service_error();
                assert!(
                    service.is_throttling_exception(),
                    "unexpected error: {service:?}"
                );
                throttled += 1;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(ok + throttled, 200, "every call answered");
    // The bucket starts full (burst = RATE) and refills at RATE per second.
    let allowed = (RATE + RATE * elapsed).floor() as u32 + 1;
    assert!(
        ok >= 1 && ok <= allowed,
        "ok={ok} allowed={allowed} elapsed={elapsed:.2}s"
    );
    assert_eq!(emulator.calls().len(), 200);
    assert_eq!(
        emulator
            .calls()
            .iter()
            .filter(|c| c.outcome == "ThrottlingException")
            .count() as u32,
        throttled
    );
}
