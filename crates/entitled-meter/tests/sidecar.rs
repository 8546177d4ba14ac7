//! The `entitled-meter` binary end to end against the emulator: the HTTP API, a Unix socket,
//! SIGTERM flushes and exit codes.

mod common;

use common::*;
use entitled_emulator::{Config, Fault};

#[test]
fn records_are_acknowledged_validated_and_reported_on_sigterm() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    assert!(sidecar.address.starts_with("http://127.0.0.1:"));

    assert_eq!(
        sidecar
            .post(r#"{"dimension": "users", "quantity": 3, "tags": {"team": "a"}}"#)
            .0,
        202
    );
    let (status, body) = sidecar.post(
        r#"[{"dimension": "users", "quantity": 2}, {"dimension": "gb_scanned", "quantity": 40}]"#,
    );
    assert_eq!((status, body.trim()), (202, r#"{"accepted":2}"#));
    // Refusals, each with a one-line reason; a bad record refuses its whole array.
    for (body, reason) in [
        (
            r#"{"dimension": "hosts", "quantity": 1}"#,
            "unknown dimension",
        ),
        (
            r#"{"dimension": "users", "quantity": -1}"#,
            "quantity must be",
        ),
        (
            r#"{"dimension": "users", "quantity": 1, "tags": {"a|b": "x"}}"#,
            "bad tags",
        ),
        (
            r#"[{"dimension": "users", "quantity": 5}, {"dimension": "users", "quantity": 1.5}]"#,
            "record 1",
        ),
    ] {
        let (status, text) = sidecar.post(body);
        assert_eq!(status, 400, "{body}: {text}");
        assert!(
            text.contains(reason) && text.trim().lines().count() == 1,
            "{body}: {text}"
        );
    }
    let (status, text) = sidecar.post_declaring(1024 * 1024 + 1);
    assert_eq!(status, 413, "{text}");

    let (status, body) = sidecar.request("GET", "/v1/status", "");
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["entitled"], true);
    let pending: u64 = json["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(pending, 45, "{body}");
    let (status, metrics) = sidecar.request("GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("entitled_meter_records_accepted_total 3\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("entitled_meter_journal_bytes "),
        "{metrics}"
    );

    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        totals(&emulator),
        vec![
            ("gb_scanned".into(), "{}".into(), 40.0),
            ("users".into(), r#"{"team":"a"}"#.into(), 3.0),
            ("users".into(), "{}".into(), 2.0),
        ]
    );
}

#[test]
fn a_unix_socket_serves_the_same_api() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let socket = journal.path().join("meter.sock");
    let listen = format!("unix:{}", socket.display());
    let sidecar = start(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--listen", &listen, "--log-format", "json", "-v"],
    );
    assert_eq!(sidecar.address, listen);
    assert_eq!(
        sidecar
            .post(r#"{"dimension": "gb_scanned", "quantity": 9}"#)
            .0,
        202
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "{stderr}"
    );
    assert!(stderr.contains("reported gb_scanned=9"), "{stderr}");
    assert!(!socket.exists(), "the socket is removed on exit");
    assert_eq!(
        totals(&emulator),
        vec![("gb_scanned".into(), "{}".into(), 9.0)]
    );
}

#[test]
fn a_shutdown_timeout_leaves_records_for_a_restart_on_the_same_journal() {
    let emulator = emulator(Config::new());
    emulator.push_fault(PRODUCT, Fault::error("ThrottlingException"), 100_000);
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--shutdown-timeout", "1s"],
    );
    assert_eq!(
        sidecar.post(r#"{"dimension": "users", "quantity": 4}"#).0,
        202
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 75, "{stderr}");
    assert!(
        stderr.contains("left in the journal for a restart: dimension users"),
        "{stderr}"
    );
    assert!(emulator.usage().is_empty());

    emulator.clear_faults();
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(totals(&emulator), vec![("users".into(), "{}".into(), 4.0)]);
}

#[test]
fn not_entitled_exits_77_and_keeps_the_usage() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(
        &emulator,
        journal.path(),
        "denied-product",
        &["--shutdown-timeout", "5s"],
    );
    assert_eq!(
        sidecar.post(r#"{"dimension": "users", "quantity": 1}"#).0,
        202
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 77, "{stderr}");
    assert!(stderr.contains("CustomerNotEntitled"), "{stderr}");
}

/// A refusal at report time, after the start-up check passed (a refusal at start is in
/// `tests/startup.rs`).
#[test]
fn a_rejected_product_exits_78() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--shutdown-timeout", "5s"],
    );
    emulator.push_fault(PRODUCT, Fault::error("PlatformNotSupportedException"), 1);
    assert_eq!(
        sidecar.post(r#"{"dimension": "users", "quantity": 1}"#).0,
        202
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 78, "{stderr}");
    assert!(stderr.contains("PlatformNotSupported"), "{stderr}");
}

#[test]
fn usage_errors_exit_64_with_one_line() {
    let out = std::process::Command::new(binary())
        .env_clear()
        .args(["--product-code", "p", "--dimension", "users"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--journal is required") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn a_resend_with_the_same_idempotency_key_is_acknowledged_without_adding_usage() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    let batch =
        r#"[{"dimension": "users", "quantity": 3}, {"dimension": "gb_scanned", "quantity": 5}]"#;
    assert_eq!(sidecar.post_once("req-1", batch).0, 202);
    assert_eq!(sidecar.post_once("req-1", batch).0, 202, "same run");
    // Bad keys get 400 with one line, and nothing is kept.
    for key in ["has space", &"k".repeat(129), "caf\u{e9}"] {
        let (status, text) = sidecar.post_once(key, batch);
        assert_eq!(status, 400, "{key:?}: {text}");
        assert!(
            text.contains("bad idempotency key") && text.trim().lines().count() == 1,
            "{key:?}: {text}"
        );
    }
    // A restart on the same journal remembers the key.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(sidecar.child.id() as i32, libc::SIGKILL) };
    let _ = sidecar.wait();
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    assert_eq!(sidecar.post_once("req-1", batch).0, 202, "after a restart");
    assert_eq!(
        sidecar
            .post_once("req-2", r#"{"dimension": "users", "quantity": 1}"#)
            .0,
        202
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        totals(&emulator),
        vec![
            ("gb_scanned".into(), "{}".into(), 5.0),
            ("users".into(), "{}".into(), 4.0)
        ]
    );
}

/// ECS container credentials from the emulator's credentials endpoint, with this token.
fn container_credentials(
    emulator: &entitled_emulator::Emulator,
    token: &str,
) -> Vec<(&'static str, String)> {
    vec![
        (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            emulator.credentials_url(),
        ),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.to_owned()),
    ]
}

/// A credentials endpoint that fails twice with a 503 is retried, not refused (refused
/// credentials stop the sidecar at start: `tests/startup.rs`), and the usage is reported.
#[test]
fn a_credentials_endpoint_that_fails_is_retried_and_the_usage_reported() {
    let emulator = emulator(Config::new().container_authorization("Bearer task-token"));
    let journal = tempfile::tempdir().unwrap();
    emulator.push_fault(
        "@credentials",
        Fault::Status {
            status: 503,
            body: "agent busy".into(),
        },
        2,
    );
    let sidecar = start_with(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--shutdown-timeout", "20s"],
        &container_credentials(&emulator, "Bearer task-token"),
    );
    assert_eq!(
        sidecar.post(r#"{"dimension": "users", "quantity": 2}"#).0,
        202
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(totals(&emulator), vec![("users".into(), "{}".into(), 2.0)]);
}
