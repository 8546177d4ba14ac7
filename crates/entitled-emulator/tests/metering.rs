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
    // Same product, dimension and hour, different quantity.
    let err = meter("users", 6, ts)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_duplicate_request_exception(), "{err:?}");
    // Another hour is a new record.
    let other = meter("users", 6, DateTime::from_secs(now() - 60 - 3600))
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
            .tags(
                Tag::builder()
                    .key("team")
                    .value(q.to_string())
                    .build()
                    .unwrap(),
            )
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

/// The start of the previous UTC hour (closed, inside the 6-hour window) plus `offset`
/// seconds.
fn in_this_hour(offset: i64) -> DateTime {
    let t = now();
    DateTime::from_secs(t - t % 3600 - 3600 + offset)
}

fn tagged(quantity: i32, tags: &[(&str, &str)]) -> UsageAllocation {
    let mut b = UsageAllocation::builder().allocated_usage_quantity(quantity);
    for (k, v) in tags {
        b = b.tags(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    b.build().unwrap()
}

#[tokio::test]
async fn meter_usage_once_per_hour_per_caller_with_totals() {
    let emulator = emulator(Config::new().static_credentials("AKIAPODB", "secret-b")).await;
    let pod_a = client(&emulator);
    let pod_b = client_with(
        &emulator,
        aws_sdk_marketplacemetering::config::Credentials::new(
            "AKIAPODB", "secret-b", None, None, "test",
        ),
        "us-east-1",
    );
    let send = |client: &aws_sdk_marketplacemetering::Client,
                ts: DateTime,
                q: i32,
                allocs: Vec<UsageAllocation>,
                token: Option<&str>| {
        client
            .meter_usage()
            .product_code("prod-1")
            .timestamp(ts)
            .usage_dimension("users")
            .usage_quantity(q)
            .set_usage_allocations((!allocs.is_empty()).then_some(allocs))
            .set_client_token(token.map(str::to_owned))
            .send()
    };
    let allocs = || {
        vec![
            tagged(2, &[("team", "a")]),
            tagged(3, &[("team", "b"), ("env", "prod")]),
            tagged(1, &[]),
        ]
    };
    let id = send(&pod_a, in_this_hour(0), 6, allocs(), Some("tok-1"))
        .await
        .unwrap()
        .metering_record_id()
        .unwrap()
        .to_owned();
    // Identical record, later in the same hour, without the token: the same record id.
    let again = send(&pod_a, in_this_hour(1800), 6, allocs(), None)
        .await
        .unwrap();
    assert_eq!(again.metering_record_id(), Some(id.as_str()));
    // Another quantity in that hour: duplicate.
    let err = send(&pod_a, in_this_hour(60), 7, vec![], None)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_duplicate_request_exception(), "{err:?}");
    // The token reused with other parameters: idempotency conflict.
    let err = send(&pod_a, in_this_hour(0), 5, vec![], Some("tok-1"))
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_idempotency_conflict_exception(), "{err:?}");
    // Another pod's credentials: its own hour slot.
    send(&pod_b, in_this_hour(0), 4, vec![], None)
        .await
        .unwrap();

    // Allocations: two with one tag set, and more than five tags.
    let err = send(
        &pod_b,
        in_this_hour(0),
        2,
        vec![tagged(1, &[("team", "a")]), tagged(1, &[("team", "a")])],
        None,
    )
    .await
    .unwrap_err()
    .into_service_error();
    assert!(err.is_invalid_usage_allocations_exception(), "{err:?}");
    let err = send(
        &pod_b,
        in_this_hour(0),
        2,
        vec![tagged(2, &[("k", "1"), ("k", "2")])],
        None,
    )
    .await
    .unwrap_err()
    .into_service_error();
    assert!(err.is_invalid_tag_exception(), "{err:?}");

    let hour = {
        let t = now() as u64;
        t - t % 3600 - 3600
    };
    let mut rows: Vec<_> = emulator
        .usage()
        .into_iter()
        .map(|t| {
            assert_eq!(
                (t.product_code.as_str(), t.dimension.as_str(), t.hour),
                ("prod-1", "users", hour)
            );
            (t.caller, t.tags.into_iter().collect::<Vec<_>>(), t.quantity)
        })
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let akid = entitled_emulator::DEFAULT_ACCESS_KEY_ID.to_owned();
    let mut expected = vec![
        (akid.clone(), vec![], 1.0),
        (
            akid.clone(),
            vec![pair("env", "prod"), pair("team", "b")],
            3.0,
        ),
        (akid.clone(), vec![pair("team", "a")], 2.0),
        ("AKIAPODB".to_owned(), vec![], 4.0),
    ];
    expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(rows, expected);
    // The admin route serves the same rows.
    let addr = emulator.local_addr();
    let (status, _, body) =
        tokio::task::spawn_blocking(move || raw_http(addr, "GET", "/_emulator/usage", &[], ""))
            .await
            .unwrap();
    assert_eq!(status, 200);
    let served: Vec<entitled_emulator::UsageTotal> = serde_json::from_str(&body).unwrap();
    assert_eq!(served, emulator.usage());
}

/// What the meter's fixed requests rely on: a retry under the same `ClientToken` must repeat
/// every parameter, the `Timestamp` included; an identical retry (after a lost response)
/// gets the original record id.
#[tokio::test]
async fn a_client_token_retry_with_another_timestamp_conflicts_and_an_identical_one_is_the_same_record(
) {
    let emulator = emulator(Config::new()).await;
    let client = client(&emulator);
    let send = |ts: DateTime| {
        client
            .meter_usage()
            .product_code("prod-1")
            .timestamp(ts)
            .usage_dimension("users")
            .usage_quantity(4)
            .client_token("fixed-token")
            .send()
    };
    let first = send(in_this_hour(10)).await.unwrap();
    let id = first.metering_record_id().unwrap().to_owned();
    let err = send(in_this_hour(11))
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_idempotency_conflict_exception(), "{err:?}");
    let again = send(in_this_hour(10)).await.unwrap();
    assert_eq!(again.metering_record_id(), Some(id.as_str()));
    let outcomes: Vec<String> = emulator.calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(outcomes, ["ok", "IdempotencyConflictException", "ok"]);
}
