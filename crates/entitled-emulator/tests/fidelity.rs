//! Where the emulator follows AWS's documented behaviour more closely (issue 8), through the
//! real SDK client: each operation's timestamp window, ResolveCustomer's `LicenseArn`, and
//! faults aimed at one operation.

mod common;

use aws_sdk_marketplacemetering::error::ProvideErrorMetadata as _;
use aws_sdk_marketplacemetering::primitives::DateTime;
use aws_sdk_marketplacemetering::types::{UsageRecord, UsageRecordResultStatus};
use aws_sdk_marketplacemetering::Client;
use common::*;
use entitled_emulator::{Config, Emulator, Fault, Operation, TokenVariant};

const HOUR: i64 = 3600;
const LICENSE: &str = "arn:aws:license-manager::123456789012:license:l-0123456789abcdef0";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn emulator() -> Emulator {
    Emulator::start(Config::new().product(fixtures::product("prod-1")))
        .await
        .unwrap()
}

async fn batch(client: &Client, age_seconds: i64) -> Result<UsageRecordResultStatus, String> {
    let record = UsageRecord::builder()
        .timestamp(DateTime::from_secs(now() - age_seconds))
        .customer_identifier("cust-a")
        .dimension("users")
        .quantity(1)
        .build()
        .unwrap();
    let out = client
        .batch_meter_usage()
        .product_code("prod-1")
        .usage_records(record)
        .send()
        .await
        .map_err(|e| e.into_service_error().to_string())?;
    Ok(out.results()[0].status().cloned().unwrap())
}

async fn meter(client: &Client, age_seconds: i64) -> Result<String, String> {
    client
        .meter_usage()
        .product_code("prod-1")
        .timestamp(DateTime::from_secs(now() - age_seconds))
        .usage_dimension("users")
        .usage_quantity(1)
        .send()
        .await
        .map(|o| o.metering_record_id().unwrap_or_default().to_owned())
        .map_err(|e| {
            let e = e.into_service_error();
            format!("{}: {}", e.code().unwrap_or(""), e.message().unwrap_or(""))
        })
}

async fn register(client: &Client) -> Result<String, String> {
    client
        .register_usage()
        .product_code("prod-1")
        .public_key_version(1)
        .nonce("the-nonce")
        .send()
        .await
        .map(|o| o.signature().unwrap_or_default().to_owned())
        .map_err(|e| e.into_service_error().code().unwrap_or("").to_owned())
}

#[tokio::test]
async fn batch_meter_usage_takes_24_hours_and_meter_usage_6_each_naming_its_window() {
    let emulator = emulator().await;
    let client = client(&emulator);

    assert_eq!(
        batch(&client, 23 * HOUR).await,
        Ok(UsageRecordResultStatus::Success),
        "BatchMeterUsage accepts a record 23 hours old"
    );
    let err = batch(&client, 25 * HOUR).await.unwrap_err();
    assert!(err.contains("TimestampOutOfBoundsException"), "{err}");
    assert!(
        err.contains("24 hours"),
        "the message states the window: {err}"
    );

    meter(&client, 5 * HOUR).await.unwrap();
    let err = meter(&client, 7 * HOUR).await.unwrap_err();
    assert!(err.starts_with("TimestampOutOfBoundsException"), "{err}");
    assert!(
        err.contains("6 hours"),
        "the message states the window: {err}"
    );
}

/// Issues a registration token through the admin API, as a seller's test would.
fn issue_token(emulator: &Emulator, body: &str) -> (u16, serde_json::Value, String) {
    let (status, _, text) = raw_http(
        emulator.local_addr(),
        "POST",
        "/_emulator/registration-tokens",
        &[("content-type", "application/json")],
        body,
    );
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (status, json, text)
}

// Multi-threaded: the admin calls below block a thread while the emulator answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_customer_returns_the_licence_arn_a_token_was_issued_with() {
    let emulator = emulator().await;
    let client = client(&emulator);

    let body = format!(r#"{{"product_code":"prod-1","license_arn":"{LICENSE}"}}"#);
    let (status, issued, text) = issue_token(&emulator, &body);
    assert_eq!(status, 201, "{text}");
    assert_eq!(issued["license_arn"], LICENSE);
    let token = issued["registration_token"].as_str().unwrap();
    let out = client
        .resolve_customer()
        .registration_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.license_arn(), Some(LICENSE));
    assert_eq!(out.product_code(), Some("prod-1"));

    let (_, plain, _) = issue_token(&emulator, r#"{"product_code":"prod-1"}"#);
    let out = client
        .resolve_customer()
        .registration_token(plain["registration_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(out.license_arn(), None, "no licence, no LicenseArn");

    let (status, _, text) = issue_token(
        &emulator,
        r#"{"product_code":"prod-1","license_arn":"l-0123"}"#,
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("license_arn"), "{text}");
}

// Multi-threaded: the admin calls below block a thread while the emulator answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_aimed_at_batch_meter_usage_is_not_used_up_by_other_operations() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let (status, _, text) = raw_http(
        emulator.local_addr(),
        "POST",
        "/_emulator/faults",
        &[],
        r#"{"target":"prod-1","operation":"BatchMeterUsage","times":2,
            "fault":{"kind":"error","code":"ThrottlingException"}}"#,
    );
    assert_eq!(status, 200, "{text}");

    register(&client).await.unwrap();
    meter(&client, 60).await.unwrap();
    for _ in 0..2 {
        let err = batch(&client, 60).await.unwrap_err();
        assert!(err.contains("ThrottlingException"), "{err}");
    }
    assert_eq!(
        batch(&client, 60).await,
        Ok(UsageRecordResultStatus::Success),
        "two uses, then normal answers"
    );
    let outcomes: Vec<_> = emulator.calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes,
        [
            "ok",
            "ok",
            "ThrottlingException",
            "ThrottlingException",
            "ok"
        ]
    );
}

#[tokio::test]
async fn a_fault_that_cannot_change_an_operations_answer_waits_for_one_it_can() {
    let emulator = emulator().await;
    let client = client(&emulator);
    emulator.push_fault("prod-1", Fault::Token(TokenVariant::AlgNone), 1);
    emulator.push_fault_for(
        "*",
        Operation::MeterUsage,
        Fault::error("InternalServiceErrorException"),
        1,
    );

    let err = meter(&client, 60).await.unwrap_err();
    assert!(err.starts_with("InternalServiceErrorException"), "{err}");
    let jwt = register(&client).await.unwrap();
    let header = decode(&jwt, &fixture(V1_PUBLIC)).header;
    assert_eq!(
        header["alg"], "none",
        "the token fault outlived the MeterUsage call"
    );
    register(&client).await.unwrap();
    meter(&client, 120).await.unwrap();
}

#[test]
fn an_operation_cannot_be_aimed_at_the_credentials_endpoint() {
    let emulator = Emulator::spawn(Config::new()).unwrap();
    let (status, _, text) = raw_http(
        emulator.local_addr(),
        "POST",
        "/_emulator/faults",
        &[],
        r#"{"target":"@credentials","operation":"RegisterUsage","fault":{"kind":"drop"}}"#,
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("@credentials"), "{text}");
    let (_, _, queued) = raw_http(emulator.local_addr(), "GET", "/_emulator/faults", &[], "");
    assert_eq!(queued.trim(), "[]", "nothing was queued");
}
