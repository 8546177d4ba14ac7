//! `entitled::meter` against the emulator over loopback, through the real SDK client: hourly
//! aggregation with tags, shutdown flush, throttling and 5xx storms, refusals, duplicates,
//! the 6-hour window and restarts on the same journal. The meter's clock is a
//! [`ManualClock`] placed relative to the real time, because the emulator checks timestamps
//! against the wall clock as AWS does.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use entitled::meter::{EventLevel, ManualClock, Meter, MeterBuilder, MeterError, UsageRecord};
use entitled::RejectReason;
use entitled::{Backoff, StaticCredentials};
use entitled_emulator::{Config, Emulator, Fault, Product, UsageTotal};

mod fixtures;

const PRODUCT: &str = "prod-meter";

fn real_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The first second of the UTC hour `hours_ago` hours before the current one.
fn hour_ago(hours_ago: u64) -> u64 {
    let now = real_now();
    now - now % 3600 - hours_ago * 3600
}

/// A product with the fixture key, so no RSA key is generated.
fn product(code: &str) -> Product {
    Product::new(code).signing_key(1, fixtures::signing_key(fixtures::KEY_V1))
}

async fn emulator() -> Emulator {
    Emulator::start(
        Config::new()
            .product(product(PRODUCT).dimensions(["users", "hosts"]))
            .product(product("denied-product"))
            .deny("denied-product")
            .static_credentials("AKIAOTHERPOD", "other-secret"),
    )
    .await
    .unwrap()
}

fn builder(emulator: &Emulator, journal: &std::path::Path, clock: &ManualClock) -> MeterBuilder {
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
        .clock(Arc::new(clock.clone()))
        .report_delay_max(Duration::ZERO)
        .backoff(Backoff::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
        ))
        .poll_interval(Duration::from_millis(10))
}

/// Waits (bounded) until `cond` holds for the meter.
async fn until(meter: &Meter, what: &str, cond: impl Fn(&Meter) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond(meter) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            meter.status()
        );
        let _ = tokio::time::timeout(Duration::from_millis(50), meter.changed()).await;
    }
}

/// One emulator total: dimension, hour, tags, quantity.
type Row = (String, u64, Vec<(String, String)>, f64);

fn rows(emulator: &Emulator) -> Vec<Row> {
    let mut rows: Vec<_> = emulator
        .usage()
        .into_iter()
        .map(|t: UsageTotal| {
            (
                t.dimension,
                t.hour,
                t.tags.into_iter().collect(),
                t.quantity,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

fn meter_calls(emulator: &Emulator) -> Vec<String> {
    emulator
        .calls()
        .into_iter()
        .filter(|c| c.operation == "MeterUsage")
        .map(|c| c.outcome)
        .collect()
}

#[tokio::test]
async fn closed_hours_are_reported_once_per_dimension_with_allocations() {
    let emulator = emulator().await;
    let journal = tempfile::tempdir().unwrap();
    let h = hour_ago(2);
    let clock = ManualClock::new(h + 100);
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    meter
        .record(UsageRecord::new("users", 2).tag("team", "a"))
        .await
        .unwrap();
    meter
        .record_all(vec![
            UsageRecord::new("users", 3),
            UsageRecord::new("users", 4).tag("team", "a"),
        ])
        .await
        .unwrap();
    meter.record(UsageRecord::new("hosts", 1)).await.unwrap();
    // Still inside the hour: nothing is sent.
    clock.set(h + 3599);
    assert_eq!(meter.status().pending.len(), 2);
    // The next hour's usage stays pending while the first is reported.
    clock.set(h + 3600 + 5);
    meter.record(UsageRecord::new("users", 10)).await.unwrap();
    until(&meter, "the closed hour to be reported", |m| {
        m.metrics().quantity_reported.len() == 2
    })
    .await;
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        rows(&emulator),
        vec![
            ("hosts".into(), h, vec![], 1.0),
            ("users".into(), h, vec![], 3.0),
            ("users".into(), h, vec![pair("team", "a")], 6.0),
        ]
    );
    assert_eq!(
        meter_calls(&emulator),
        ["ok", "ok"],
        "one call per dimension"
    );
    let metrics = meter.metrics();
    assert_eq!(metrics.records_accepted, 5);
    assert_eq!(metrics.quantity_reported["users"], 9, "{metrics:?}");
    assert!(metrics.journal_bytes > 0);
    let pending = &meter.status().pending[0];
    assert_eq!(
        (pending.hour, pending.dimension.as_str(), pending.quantity),
        (h + 3600, "users", 10)
    );
}

#[tokio::test]
async fn shutdown_reports_the_partial_hour_and_refuses_new_records() {
    let emulator = emulator().await;
    let journal = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(real_now());
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    meter
        .record(UsageRecord::new("users", 7).tag("team", "b"))
        .await
        .unwrap();
    let left = meter.shutdown(Duration::from_secs(10)).await;
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        emulator.usage().iter().map(|t| t.quantity).sum::<f64>(),
        7.0
    );
    assert!(matches!(
        meter.record(UsageRecord::new("users", 1)).await,
        Err(entitled::meter::MeterError::ShuttingDown)
    ));
    assert!(!meter.status().accepting);
}

#[tokio::test]
async fn throttling_and_5xx_storms_are_retried_until_reported() {
    let emulator = emulator().await;
    emulator.push_fault(PRODUCT, Fault::error("ThrottlingException"), 4);
    emulator.push_fault(PRODUCT, Fault::error("InternalServiceErrorException"), 3);
    emulator.push_fault(
        PRODUCT,
        Fault::Status {
            status: 503,
            body: "busy".into(),
        },
        2,
    );
    let journal = tempfile::tempdir().unwrap();
    let h = hour_ago(1);
    let clock = ManualClock::new(h + 10);
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    meter.record(UsageRecord::new("users", 5)).await.unwrap();
    clock.set(h + 3600);
    until(&meter, "the report after the storm", |m| {
        m.status().pending.is_empty()
    })
    .await;
    let calls = meter_calls(&emulator);
    assert_eq!(calls.len(), 10, "{calls:?}");
    assert_eq!(calls.last().map(String::as_str), Some("ok"));
    assert_eq!(rows(&emulator), vec![("users".into(), h, vec![], 5.0)]);
    let metrics = meter.metrics();
    assert_eq!(metrics.calls["transient"], 9);
    assert_eq!(meter.status().last_error.unwrap().class, "server_error");
}

#[tokio::test]
async fn customer_not_entitled_is_visible_and_keeps_the_usage() {
    let emulator = emulator().await;
    let journal = tempfile::tempdir().unwrap();
    let h = hour_ago(1);
    let clock = ManualClock::new(h + 10);
    let meter = builder(&emulator, journal.path(), &clock)
        .product_code("denied-product")
        .build()
        .await
        .unwrap();
    meter.record(UsageRecord::new("users", 5)).await.unwrap();
    assert!(meter.is_entitled());
    clock.set(h + 3600);
    until(&meter, "not entitled", |m| !m.is_entitled()).await;
    let status = meter.status();
    assert_eq!(
        status.last_error.as_ref().unwrap().class,
        "CustomerNotEntitledException"
    );
    assert_eq!(
        status.pending.len(),
        1,
        "usage is kept while the window lasts"
    );
    assert_eq!(status.to_json()["entitled"], false);
}

/// Refusals that stop the whole meter carry the check's `RejectReason`: the status shows
/// its code and hint, and the last error's class is the same code.
#[tokio::test]
async fn refusals_stop_reporting_with_the_checks_typed_reason() {
    for (code, reason) in [
        (
            "InvalidProductCodeException",
            RejectReason::InvalidProductCode,
        ),
        ("AccessDeniedException", RejectReason::AccessDenied),
        (
            "PlatformNotSupportedException",
            RejectReason::PlatformNotSupported,
        ),
        (
            "InvalidEndpointRegionException",
            RejectReason::InvalidEndpointRegion,
        ),
    ] {
        let emulator = emulator().await;
        emulator.push_fault(PRODUCT, Fault::error(code), 1);
        let journal = tempfile::tempdir().unwrap();
        let h = hour_ago(1);
        let clock = ManualClock::new(h + 10);
        let meter = builder(&emulator, journal.path(), &clock)
            .build()
            .await
            .unwrap();
        meter.record(UsageRecord::new("users", 5)).await.unwrap();
        clock.set(h + 3600);
        until(&meter, "stopped", |m| m.status().stopped.is_some()).await;
        let status = meter.status();
        assert_eq!(status.stopped.as_ref().unwrap().0, reason, "{code}");
        assert_eq!(status.last_error.as_ref().unwrap().class, code);
        let json = status.to_json();
        assert_eq!(json["stopped"]["class"], code);
        assert_eq!(json["stopped"]["hint"], reason.hint(), "{code}");
        assert_eq!(meter.metrics().calls[code], 1);
        assert_eq!(
            meter_calls(&emulator).len(),
            1,
            "{code}: a refusal is not retried"
        );
        assert!(
            meter.shutdown(Duration::from_secs(5)).await.len() == 1,
            "{code}: kept in the journal"
        );
    }
}

#[tokio::test]
async fn a_duplicate_is_logged_with_both_sides_marked_reported_and_never_retried() {
    let emulator = emulator().await;
    let h = hour_ago(1);
    let clock = ManualClock::new(h + 10);
    // Two journals, one identity and one caller: the second reports another quantity for
    // the hour the first already reported.
    let first_dir = tempfile::tempdir().unwrap();
    let first = builder(&emulator, first_dir.path(), &clock)
        .identity("task-x")
        .build()
        .await
        .unwrap();
    first.record(UsageRecord::new("users", 5)).await.unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let second_dir = tempfile::tempdir().unwrap();
    let second_clock = ManualClock::new(h + 10);
    let second = builder(&emulator, second_dir.path(), &second_clock)
        .identity("task-y")
        .on_event(move |e| seen.lock().unwrap().push(e.clone()))
        .build()
        .await
        .unwrap();
    second.record(UsageRecord::new("users", 7)).await.unwrap();
    clock.set(h + 3600);
    until(&first, "first report", |m| m.status().pending.is_empty()).await;
    second_clock.set(h + 3600);
    until(&second, "duplicate resolved", |m| {
        m.status().pending.is_empty()
    })
    .await;
    assert_eq!(rows(&emulator), vec![("users".into(), h, vec![], 5.0)]);
    assert_eq!(meter_calls(&emulator), ["ok", "DuplicateRequestException"]);
    let events = events.lock().unwrap();
    let dup = events
        .iter()
        .find(|e| e.message.contains("DUPLICATE"))
        .expect("a loud duplicate event");
    assert_eq!(dup.level, EventLevel::Error);
    assert!(dup.message.contains("quantity is 7"), "{}", dup.message);
    assert_eq!(second.metrics().calls["duplicate"], 1);
}

#[tokio::test]
async fn usage_past_the_six_hour_window_is_reported_lost_not_sent() {
    let emulator = emulator().await;
    let journal = tempfile::tempdir().unwrap();
    let h = hour_ago(7);
    let clock = ManualClock::new(h + 10);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    // The endpoint fails until the window has passed.
    emulator.push_fault(PRODUCT, Fault::error("ThrottlingException"), 1000);
    let meter = builder(&emulator, journal.path(), &clock)
        .on_event(move |e| seen.lock().unwrap().push(e.clone()))
        .build()
        .await
        .unwrap();
    meter.record(UsageRecord::new("hosts", 4)).await.unwrap();
    clock.set(h + 3600);
    until(&meter, "some retries", |m| {
        m.metrics().calls.get("transient").copied().unwrap_or(0) >= 2
    })
    .await;
    clock.set(real_now());
    until(&meter, "lost", |m| m.status().pending.is_empty()).await;
    assert_eq!(meter.metrics().lost_quantity["hosts"], 4);
    assert!(emulator.usage().is_empty());
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.message.starts_with("LOST usage: dimension hosts")
                && e.message.contains("quantity 4")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_restart_on_the_same_journal_neither_loses_nor_resends() {
    let emulator = emulator().await;
    let journal = tempfile::tempdir().unwrap();
    let h = hour_ago(1);
    let clock = ManualClock::new(h + 10);
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    let identity = meter.identity().to_owned();
    assert!(
        identity.starts_with("journal:"),
        "no task or pod here: {identity}"
    );
    meter
        .record(UsageRecord::new("users", 5).tag("team", "a"))
        .await
        .unwrap();
    meter.record(UsageRecord::new("hosts", 2)).await.unwrap();
    drop(meter); // as if killed: no shutdown
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    assert_eq!(
        meter.identity(),
        identity,
        "the identity is kept in the journal"
    );
    assert_eq!(meter.status().pending.len(), 2);
    clock.set(h + 3600);
    until(&meter, "reported", |m| m.status().pending.is_empty()).await;
    drop(meter);
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    assert!(
        meter.status().pending.is_empty(),
        "resolved hours stay resolved"
    );
    clock.set(h + 7200);
    meter.shutdown(Duration::from_secs(5)).await;
    assert_eq!(meter_calls(&emulator), ["ok", "ok"]);
    assert_eq!(
        emulator.usage().iter().map(|t| t.quantity).sum::<f64>(),
        7.0
    );
}

#[tokio::test]
async fn a_journal_that_cannot_be_opened_is_a_clear_error() {
    let emulator = emulator().await;
    let clock = ManualClock::new(real_now());
    let err = builder(
        &emulator,
        std::path::Path::new("/nonexistent/journal"),
        &clock,
    )
    .build()
    .await
    .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn an_invalid_dimension_stops_only_that_dimension() {
    let emulator = emulator().await;
    // Dimensions are sent in name order: "hosts" first gets the refusal.
    emulator.push_fault(PRODUCT, Fault::error("InvalidUsageDimensionException"), 1);
    let journal = tempfile::tempdir().unwrap();
    let h = hour_ago(1);
    let clock = ManualClock::new(h + 10);
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    meter
        .record_all(vec![
            UsageRecord::new("hosts", 2),
            UsageRecord::new("users", 3),
        ])
        .await
        .unwrap();
    clock.set(h + 3600);
    until(&meter, "users reported", |m| {
        m.metrics().quantity_reported.contains_key("users")
    })
    .await;
    let status = meter.status();
    assert!(
        status.refused_dimensions.contains_key("hosts"),
        "{status:?}"
    );
    assert!(status.stopped.is_none());
    assert_eq!(
        status.last_error.as_ref().unwrap().class,
        RejectReason::InvalidUsageDimension.code()
    );
    assert_eq!(status.pending.len(), 1, "hosts is kept, not dropped");
    assert_eq!(rows(&emulator), vec![("users".into(), h, vec![], 3.0)]);
}

#[tokio::test]
async fn usage_after_a_partial_hour_report_is_carried_into_the_next_hour_and_billed() {
    let emulator = emulator().await;
    let journal = tempfile::tempdir().unwrap();
    let h = hour_ago(2);
    let clock = ManualClock::new(h + 10);
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    meter.record(UsageRecord::new("users", 3)).await.unwrap();
    assert!(meter.shutdown(Duration::from_secs(10)).await.is_empty());
    drop(meter);
    // A restart in the same hour: that hour's report is fixed, so new usage moves on.
    clock.set(h + 20);
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    meter.record(UsageRecord::new("users", 4)).await.unwrap();
    let pending = meter.status().pending;
    assert_eq!(
        (pending[0].hour, pending[0].quantity),
        (h + 3600, 4),
        "{pending:?}"
    );
    clock.set(h + 7200 + 10);
    until(&meter, "the next hour reported", |m| {
        m.status().pending.is_empty()
    })
    .await;
    assert_eq!(
        rows(&emulator),
        vec![
            ("users".into(), h, vec![], 3.0),
            ("users".into(), h + 3600, vec![], 4.0)
        ]
    );
    assert_eq!(meter_calls(&emulator), ["ok", "ok"]);
    assert!(meter.status().lost.is_empty());
}

#[tokio::test]
async fn a_journal_is_one_meters_and_one_products() {
    let emulator = emulator().await;
    let journal = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(hour_ago(1) + 10);
    let meter = builder(&emulator, journal.path(), &clock)
        .build()
        .await
        .unwrap();
    let second = builder(&emulator, journal.path(), &clock).build().await;
    assert!(
        matches!(second, Err(MeterError::JournalInUse { ref dir }) if dir == &journal.path().display().to_string()),
        "{second:?}"
    );
    meter.record(UsageRecord::new("users", 7)).await.unwrap();
    drop(meter); // as if killed: the usage stays unreported
    let other = builder(&emulator, journal.path(), &clock)
        .product_code("prod-b")
        .build()
        .await;
    match other {
        Err(e @ MeterError::ProductMismatch { .. }) => {
            assert_eq!(e.exit_code(), 64);
            assert!(
                e.to_string().contains(PRODUCT) && e.to_string().contains("prod-b"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        emulator.usage().is_empty(),
        "never billed to another product"
    );
}
