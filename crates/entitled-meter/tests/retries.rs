//! Identical retries: once a report's request is fixed (its first attempt), every retry,
//! in the process or after a restart, is the same request under the same `ClientToken`.
//! Driven through the sidecar against the emulator across a lost response, throttling, a
//! 5xx, a dropped connection, a SIGTERM drain cut short and `kill -9`; the emulator's call
//! log is the witness (AWS answers a changed request under a used token with
//! `IdempotencyConflictException`).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use entitled_emulator::{CallRecord, Config, Emulator, Fault};
use entitled_test_support::process::wait_until;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn this_hour() -> u64 {
    now() - now() % 3600
}

/// The MeterUsage calls that report usage so far, in order (a `DryRun` records nothing).
fn meter_calls(emulator: &Emulator) -> Vec<CallRecord> {
    emulator
        .calls()
        .into_iter()
        .filter(|c| c.operation == "MeterUsage" && c.outcome != "DryRunOperation")
        .collect()
}

/// Polls the emulator's call log until `n` MeterUsage calls are in it.
fn wait_for_calls(emulator: &Emulator, n: usize) {
    wait_until(NO_TIMEOUT, &format!("{n} MeterUsage calls"), || {
        meter_calls(emulator).len() >= n
    });
}

fn assert_no_conflict(emulator: &Emulator) {
    let outcomes: Vec<String> = meter_calls(emulator)
        .into_iter()
        .map(|c| c.outcome)
        .collect();
    assert!(
        !outcomes
            .iter()
            .any(|o| o == "IdempotencyConflictException" || o == "DuplicateRequestException"),
        "{outcomes:?}"
    );
}

/// A lost response in a SIGTERM drain, then a restart whose drain meets throttling, a 503
/// and a dropped connection: the request AWS recorded first is the one every retry sends.
#[test]
fn retries_after_a_lost_response_throttling_a_5xx_and_a_drop_send_the_same_request() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let hour = this_hour();
    let sidecar = start(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--shutdown-timeout", "1s"],
    );
    assert_eq!(sidecar.post(r#"{"dimension":"users","quantity":3}"#).0, 202);
    // Recorded by the emulator, answered too slowly for the drain: a lost response.
    emulator.push_fault(
        PRODUCT,
        Fault::Trickle {
            bytes_per_second: 1,
        },
        1,
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 75, "{stderr}");
    assert_eq!(meter_calls(&emulator).len(), 1, "{stderr}");
    assert_eq!(totals(&emulator), [("users".into(), "{}".into(), 3.0)]);

    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    // The hour's report is fixed: this usage goes to the next hour (not lost, not merged).
    assert_eq!(sidecar.post(r#"{"dimension":"users","quantity":4}"#).0, 202);
    for fault in [
        Fault::error("ThrottlingException"),
        Fault::Status {
            status: 503,
            body: String::new(),
        },
        Fault::Drop,
    ] {
        emulator.push_fault(PRODUCT, fault, 1);
    }
    let (code, stderr) = sidecar.terminate();
    let outcomes: Vec<String> = meter_calls(&emulator)
        .into_iter()
        .map(|c| c.outcome)
        .collect();
    assert_eq!(
        outcomes,
        ["ok", "ThrottlingException", "Status:503", "Drop", "ok"],
        "{stderr}"
    );
    assert_no_conflict(&emulator);
    assert_eq!(totals(&emulator), [("users".into(), "{}".into(), 3.0)]);
    if this_hour() == hour {
        assert_eq!(code, 75, "the carried usage waits for its hour: {stderr}");
        assert!(
            stderr.contains("left in the journal for a restart: dimension users"),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("LOST"), "{stderr}");
}

/// `kill -9` after the emulator recorded the drain's call and before its answer arrived:
/// the restart's drain sends the same request and gets the same record.
#[test]
fn a_restart_after_kill_9_mid_call_sends_the_same_request() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    assert_eq!(
        sidecar
            .post(r#"[{"dimension":"gb_scanned","quantity":5,"tags":{"team":"a"}},{"dimension":"gb_scanned","quantity":2}]"#)
            .0,
        202
    );
    emulator.push_fault(
        PRODUCT,
        Fault::Trickle {
            bytes_per_second: 1,
        },
        1,
    );
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(sidecar.child.id() as i32, libc::SIGTERM) };
    wait_for_calls(&emulator, 1);
    // SAFETY: as above.
    unsafe { libc::kill(sidecar.child.id() as i32, libc::SIGKILL) };
    let (code, _) = sidecar.wait();
    assert_eq!(code, -1, "killed");
    // A drain that took its `Timestamp` from the clock again would now take a later one.
    let called_at = now();
    wait_until(Duration::from_secs(2), "the clock's next second", || {
        now() != called_at
    });

    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    let outcomes: Vec<String> = meter_calls(&emulator)
        .into_iter()
        .map(|c| c.outcome)
        .collect();
    assert_eq!(outcomes, ["ok", "ok"], "{stderr}");
    assert_no_conflict(&emulator);
    assert_eq!(
        totals(&emulator),
        [
            ("gb_scanned".into(), "{\"team\":\"a\"}".into(), 5.0),
            ("gb_scanned".into(), "{}".into(), 2.0),
        ]
    );
}
