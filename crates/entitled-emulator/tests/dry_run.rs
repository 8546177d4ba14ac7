//! MeterUsage with `DryRun` through the real SDK client: every check a real call runs, then
//! `DryRunOperation` (HTTP 400) with nothing recorded; and `--known-products-only` refusing
//! MeterUsage for a product nobody configured, as it refuses RegisterUsage.

mod common;

use aws_sdk_marketplacemetering::error::ProvideErrorMetadata as _;
use aws_sdk_marketplacemetering::primitives::DateTime;
use aws_sdk_marketplacemetering::types::{Tag, UsageAllocation};
use aws_sdk_marketplacemetering::Client;
use common::*;
use entitled_emulator::{Config, Emulator};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn emulator(config: Config) -> Emulator {
    Emulator::start(
        config
            .product(fixtures::product("prod-1").dimensions(["users", "hosts"]))
            .product(fixtures::product("denied"))
            .deny("denied"),
    )
    .await
    .unwrap()
}

/// A MeterUsage call of quantity 4; `DryRun` when asked. Returns the record id, or the error
/// code and HTTP status.
async fn meter(
    client: &Client,
    product: &str,
    dimension: &str,
    timestamp: i64,
    dry_run: bool,
    allocations: Option<Vec<UsageAllocation>>,
) -> Result<String, (String, u16)> {
    client
        .meter_usage()
        .product_code(product)
        .timestamp(DateTime::from_secs(timestamp))
        .usage_dimension(dimension)
        .usage_quantity(4)
        .set_usage_allocations(allocations)
        .dry_run(dry_run)
        .send()
        .await
        .map(|o| o.metering_record_id().unwrap_or_default().to_owned())
        .map_err(|e| {
            let status = e.raw_response().map_or(0, |r| r.status().as_u16());
            (e.code().unwrap_or_default().to_owned(), status)
        })
}

fn allocation(quantity: i32, team: &str) -> UsageAllocation {
    UsageAllocation::builder()
        .allocated_usage_quantity(quantity)
        .tags(Tag::builder().key("team").value(team).build().unwrap())
        .build()
        .unwrap()
}

/// Each row: what is wrong with the call, and what both the real call and its `DryRun` get.
/// A call with nothing wrong gets `DryRunOperation` as a dry run and records nothing.
#[tokio::test]
async fn a_dry_run_runs_the_checks_of_a_real_call_and_records_nothing() {
    let emulator = emulator(Config::new()).await;
    let client = client(&emulator);
    let ts = now() - 60;
    let bad_sum = Some(vec![allocation(1, "a"), allocation(1, "b")]);
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        i64,
        Option<Vec<UsageAllocation>>,
        &'a str,
    );
    let table: Vec<Row> = vec![
        (
            "denied product",
            "denied",
            "users",
            ts,
            None,
            "CustomerNotEntitledException",
        ),
        (
            "unknown dimension",
            "prod-1",
            "gb",
            ts,
            None,
            "InvalidUsageDimensionException",
        ),
        (
            "7 hours old",
            "prod-1",
            "users",
            ts - 7 * 3600,
            None,
            "TimestampOutOfBoundsException",
        ),
        (
            "allocations off by 2",
            "prod-1",
            "users",
            ts,
            bad_sum,
            "InvalidUsageAllocationsException",
        ),
    ];
    for (what, product, dimension, timestamp, allocations, code) in table {
        for dry_run in [true, false] {
            let err = meter(
                &client,
                product,
                dimension,
                timestamp,
                dry_run,
                allocations.clone(),
            )
            .await
            .unwrap_err();
            assert_eq!(err, (code.to_owned(), 400), "{what}, dry run {dry_run}");
        }
    }
    let allowed = meter(&client, "prod-1", "users", ts, true, None).await;
    assert_eq!(allowed, Err(("DryRunOperation".to_owned(), 400)));
    let tagged = Some(vec![allocation(3, "a"), allocation(1, "b")]);
    let allowed = meter(&client, "prod-1", "hosts", ts, true, tagged).await;
    assert_eq!(allowed, Err(("DryRunOperation".to_owned(), 400)));
    assert!(emulator.usage().is_empty(), "a dry run records nothing");
    let outcomes: Vec<String> = emulator.calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "DryRunOperation").count(),
        2
    );

    // The dry run did not take the hour: the real call that follows is recorded.
    let id = meter(&client, "prod-1", "users", ts, false, None)
        .await
        .unwrap();
    assert!(!id.is_empty());
    assert_eq!(emulator.usage().len(), 1);
}

/// Credentials: an unknown key is refused before any check; with the platform rule, long-term
/// keys get `PlatformNotSupportedException` and the ECS task role's session credentials pass.
#[tokio::test]
async fn a_dry_run_checks_the_credentials_and_the_platform_rule() {
    let emulator = emulator(Config::new().platform_rule(true)).await;
    let ts = now() - 60;
    let stranger = aws_credential_types::Credentials::new("AKIASTRANGER", "x", None, None, "t");
    let client_of = |c| client_with(&emulator, c, "us-east-1");
    let err = meter(&client_of(stranger), "prod-1", "users", ts, true, None).await;
    assert_eq!(err, Err(("UnrecognizedClientException".to_owned(), 403)));
    for dry_run in [true, false] {
        let err = meter(&client(&emulator), "prod-1", "users", ts, dry_run, None).await;
        assert_eq!(
            err,
            Err(("PlatformNotSupportedException".to_owned(), 400)),
            "long-term keys, dry run {dry_run}"
        );
    }
    let (akid, secret, token) = emulator.session_credentials();
    let task_role = aws_credential_types::Credentials::new(akid, secret, Some(token), None, "t");
    let allowed = meter(&client_of(task_role), "prod-1", "users", ts, true, None).await;
    assert_eq!(allowed, Err(("DryRunOperation".to_owned(), 400)));
}

/// `--known-products-only` (`Config::known_products_only`): a product code nobody configured
/// gets `InvalidProductCodeException` from MeterUsage, dry run or not, as from RegisterUsage.
#[tokio::test]
async fn known_products_only_refuses_meter_usage_for_an_unknown_product() {
    let emulator = emulator(Config::new().known_products_only(true)).await;
    let client = client(&emulator);
    let ts = now() - 60;
    for dry_run in [true, false] {
        let err = meter(&client, "prod-typo", "users", ts, dry_run, None).await;
        assert_eq!(
            err,
            Err(("InvalidProductCodeException".to_owned(), 400)),
            "dry run {dry_run}"
        );
    }
    assert_eq!(
        meter(&client, "prod-1", "users", ts, true, None).await,
        Err(("DryRunOperation".to_owned(), 400)),
        "a configured product is served"
    );
    // Without the flag, any valid product code is served.
    let open = Emulator::start(Config::new()).await.unwrap();
    let recorded = meter(
        &common::client(&open),
        "prod-typo",
        "users",
        ts,
        false,
        None,
    )
    .await;
    assert!(recorded.is_ok(), "{recorded:?}");
}
