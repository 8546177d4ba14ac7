//! MeterUsage, BatchMeterUsage and ResolveCustomer through the real SDK client.

mod common;

use aws_sdk_marketplacemetering::primitives::DateTime;
use aws_sdk_marketplacemetering::types::{
    Tag, UsageAllocation, UsageRecord, UsageRecordResultStatus,
};
use common::*;
use entitled_emulator::{Config, Emulator, Fault};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn emulator(config: Config) -> Emulator {
    let product = fixtures::product("prod-1").dimensions(["users", "hosts"]);
    let denied = fixtures::product("denied");
    Emulator::start(config.product(product).product(denied).deny("denied"))
        .await
        .unwrap()
}

#[tokio::test]
async fn meter_usage_records_duplicates_and_rejects() {
    let emulator = emulator(Config::new()).await;
    let client = client(&emulator);
    let ts = DateTime::from_secs(now() - 60);
    let meter = |dimension: &'static str, quantity: i32, ts: DateTime| {
        client
            .meter_usage()
            .product_code("prod-1")
            .timestamp(ts)
            .usage_dimension(dimension)
            .usage_quantity(quantity)
            .send()
    };
    let first = meter("users", 5, ts).await.unwrap();
    let id = first.metering_record_id().unwrap().to_owned();
    // An identical repeat returns the same record id.
    let again = meter("users", 5, ts).await.unwrap();
    assert_eq!(again.metering_record_id(), Some(id.as_str()));
    // Same product, dimension and timestamp, different quantity.
    let err = meter("users", 6, ts)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_duplicate_request_exception(), "{err:?}");
    // Another timestamp is a new record.
    let other = meter("users", 6, DateTime::from_secs(now() - 120))
        .await
        .unwrap();
    assert_ne!(other.metering_record_id(), Some(id.as_str()));

    let err = meter("users", 1, DateTime::from_secs(now() - 7 * 3600))
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_timestamp_out_of_bounds_exception(), "{err:?}");
    let err = meter("unknown-dimension", 1, ts)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_usage_dimension_exception(), "{err:?}");

    let err = client
        .meter_usage()
        .product_code("denied")
        .timestamp(ts)
        .usage_dimension("users")
        .usage_quantity(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_customer_not_entitled_exception(), "{err:?}");

    // Allocations must add up to the quantity.
    let alloc = |q: i32| {
        UsageAllocation::builder()
            .allocated_usage_quantity(q)
            .tags(Tag::builder().key("team").value("a").build().unwrap())
            .build()
            .unwrap()
    };
    let ok = client
        .meter_usage()
        .product_code("prod-1")
        .timestamp(DateTime::from_secs(now() - 300))
        .usage_dimension("hosts")
        .usage_quantity(3)
        .usage_allocations(alloc(1))
        .usage_allocations(alloc(2))
        .send()
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    let err = client
        .meter_usage()
        .product_code("prod-1")
        .timestamp(DateTime::from_secs(now() - 301))
        .usage_dimension("hosts")
        .usage_quantity(4)
        .usage_allocations(alloc(1))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_usage_allocations_exception(), "{err:?}");

    let calls = emulator.calls();
    assert!(calls.iter().all(|c| c.operation == "MeterUsage"));
    assert_eq!(calls[2].outcome, "DuplicateRequestException");
}

#[tokio::test]
async fn meter_usage_region_pin() {
    let emulator = emulator(Config::new().region("us-east-1")).await;
    let err = client_with(&emulator, default_credentials(), "us-west-2")
        .meter_usage()
        .product_code("prod-1")
        .timestamp(DateTime::from_secs(now()))
        .usage_dimension("users")
        .usage_quantity(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_endpoint_region_exception(), "{err:?}");
}

fn record(customer: &str, quantity: i32, ts: i64) -> UsageRecord {
    UsageRecord::builder()
        .timestamp(DateTime::from_secs(ts))
        .customer_identifier(customer)
        .dimension("users")
        .quantity(quantity)
        .build()
        .unwrap()
}

#[tokio::test]
async fn batch_meter_usage_per_record_results() {
    let emulator = emulator(Config::new().deny_customer("cust-gone")).await;
    let client = client(&emulator);
    let ts = now() - 30;
    let out = client
        .batch_meter_usage()
        .product_code("prod-1")
        .usage_records(record("cust-a", 1, ts))
        .usage_records(record("cust-gone", 1, ts))
        .send()
        .await
        .unwrap();
    let statuses: Vec<_> = out.results().iter().map(|r| r.status().cloned()).collect();
    assert_eq!(
        statuses,
        [
            Some(UsageRecordResultStatus::Success),
            Some(UsageRecordResultStatus::CustomerNotSubscribed)
        ]
    );
    let id = out.results()[0].metering_record_id().unwrap().to_owned();
    assert_eq!(
        out.results()[0]
            .usage_record()
            .unwrap()
            .customer_identifier(),
        "cust-a"
    );
    assert!(out.unprocessed_records().is_empty());

    let out = client
        .batch_meter_usage()
        .product_code("prod-1")
        .usage_records(record("cust-a", 1, ts))
        .usage_records(record("cust-a", 9, ts))
        .send()
        .await
        .unwrap();
    assert_eq!(out.results()[0].metering_record_id(), Some(id.as_str()));
    assert_eq!(
        out.results()[1].status(),
        Some(&UsageRecordResultStatus::DuplicateRecord)
    );

    emulator.push_fault("prod-1", Fault::Unprocessed, 1);
    let out = client
        .batch_meter_usage()
        .product_code("prod-1")
        .usage_records(record("cust-b", 1, ts))
        .send()
        .await
        .unwrap();
    assert!(out.results().is_empty());
    assert_eq!(out.unprocessed_records().len(), 1);

    let mut too_many = client.batch_meter_usage().product_code("prod-1");
    for i in 0..26 {
        too_many = too_many.usage_records(record(&format!("c{i}"), 1, ts));
    }
    let err = too_many.send().await.unwrap_err();
    use aws_sdk_marketplacemetering::error::ProvideErrorMetadata as _;
    assert_eq!(err.code(), Some("ValidationException"));

    let err = client
        .batch_meter_usage()
        .product_code("prod-1")
        .usage_records(record("cust-a", 1, now() - 25 * 3600))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_timestamp_out_of_bounds_exception(), "{err:?}");
}

#[tokio::test]
async fn resolve_customer_tokens() {
    let emulator = emulator(Config::new()).await;
    let client = client(&emulator);
    let token = emulator.registration_token("prod-1");
    let out = client
        .resolve_customer()
        .registration_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.product_code(), Some("prod-1"));
    assert!(out.customer_identifier().unwrap().starts_with("cust-"));
    assert_eq!(out.customer_aws_account_id().unwrap().len(), 12);

    let err = client
        .resolve_customer()
        .registration_token(&token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_expired_token_exception(), "{err:?}");
    let err = client
        .resolve_customer()
        .registration_token("never-issued")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_token_exception(), "{err:?}");

    // Faults for "*" reach ResolveCustomer, which has no product code.
    emulator.push_fault("*", Fault::error("ThrottlingException"), 1);
    let token = emulator.registration_token("prod-1");
    let err = client
        .resolve_customer()
        .registration_token(&token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_throttling_exception(), "{err:?}");
}
