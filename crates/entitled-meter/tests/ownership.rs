//! One process per journal, one owner per socket, one product per journal, and no usage
//! acknowledged and then lost: driven through the sidecar against the emulator.

mod common;

use std::io::Read as _;
use std::process::{Command, Stdio};

use common::*;
use entitled_emulator::{Config, Emulator};

/// Runs a sidecar that must refuse to start; returns its exit code and stderr.
fn refused(
    emulator: &Emulator,
    journal: &std::path::Path,
    product: &str,
    extra: &[&str],
) -> (i32, String) {
    let mut child = Command::new(binary())
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env(
            "AWS_ACCESS_KEY_ID",
            entitled_emulator::DEFAULT_ACCESS_KEY_ID,
        )
        .env(
            "AWS_SECRET_ACCESS_KEY",
            entitled_emulator::DEFAULT_SECRET_ACCESS_KEY,
        )
        .env(
            "AWS_ENDPOINT_URL_MARKETPLACE_METERING",
            emulator.endpoint_url(),
        )
        .args([
            "--product-code",
            product,
            "--dimension",
            "users",
            "--journal",
        ])
        .arg(journal)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(!stdout.contains("listening on"), "{stdout}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_second_sidecar_on_a_journal_in_use_is_refused_while_the_first_serves() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let first = start(&emulator, journal.path(), PRODUCT, &[]);
    assert_eq!(first.post(r#"{"dimension":"users","quantity":2}"#).0, 202);
    let (code, stderr) = refused(&emulator, journal.path(), PRODUCT, &[]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "journal directory {} is in use",
            journal.path().display()
        )),
        "{stderr}"
    );
    assert_eq!(first.request("GET", "/v1/status", "").0, 200);
    assert_eq!(first.post(r#"{"dimension":"users","quantity":1}"#).0, 202);
    let (code, stderr) = first.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(totals(&emulator), [("users".into(), "{}".into(), 3.0)]);
}

#[test]
fn a_unix_socket_another_sidecar_answers_on_is_refused_and_a_dead_one_replaced() {
    let emulator = emulator(Config::new());
    let dir = tempfile::tempdir().unwrap();
    let (journal_a, journal_b) = (dir.path().join("a"), dir.path().join("b"));
    let socket = dir.path().join("meter.sock");
    let listen = format!("unix:{}", socket.display());
    let first = start(&emulator, &journal_a, PRODUCT, &["--listen", &listen]);
    let (code, stderr) = refused(&emulator, &journal_b, PRODUCT, &["--listen", &listen]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("another process is serving on this socket"),
        "{stderr}"
    );
    assert_eq!(first.post(r#"{"dimension":"users","quantity":2}"#).0, 202);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(first.child.id() as i32, libc::SIGKILL) };
    first.wait();
    assert!(socket.exists(), "kill -9 leaves the socket behind");
    let second = start(&emulator, &journal_b, PRODUCT, &["--listen", &listen]);
    assert_eq!(second.request("GET", "/v1/status", "").0, 200);
}

/// The issue's case: usage recorded for one product, a restart with another.
#[test]
fn a_journal_with_unreported_usage_is_refused_for_another_product() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let first = start(&emulator, journal.path(), PRODUCT, &[]);
    assert_eq!(first.post(r#"{"dimension":"users","quantity":7}"#).0, 202);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(first.child.id() as i32, libc::SIGKILL) };
    first.wait();
    let (code, stderr) = refused(&emulator, journal.path(), "prod-other", &[]);
    assert_eq!(code, 64, "{stderr}");
    for needle in [
        PRODUCT,
        "prod-other",
        "report it first",
        "another journal directory",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(emulator.usage().is_empty());
    // The way out: report under the product it was recorded for.
    let (code, stderr) = start(&emulator, journal.path(), PRODUCT, &[]).terminate();
    assert_eq!(code, 0, "{stderr}");
    // Nothing pending: the journal may change product now.
    let other = start(&emulator, journal.path(), "prod-other", &[]);
    let (code, stderr) = other.terminate();
    assert_eq!(code, 0, "{stderr}");
    let calls: Vec<_> = emulator
        .calls()
        .into_iter()
        .filter(|c| c.operation == "MeterUsage" && c.outcome != "DryRunOperation")
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].product_code.as_deref(), Some(PRODUCT));
    assert_eq!(totals(&emulator), [("users".into(), "{}".into(), 7.0)]);
}

/// A shutdown reported the partial hour; a restart in the same hour takes more usage. It is
/// carried into the next hour (still billed), shown pending for that hour, never lost.
#[test]
fn usage_after_the_hour_was_reported_is_carried_to_the_next_hour_not_lost() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let first = start(&emulator, journal.path(), PRODUCT, &[]);
    assert_eq!(first.post(r#"{"dimension":"users","quantity":2}"#).0, 202);
    let (code, stderr) = first.terminate();
    assert_eq!(code, 0, "{stderr}");
    let second = start(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--shutdown-timeout", "2s"],
    );
    let (status, body) = second.post(r#"{"dimension":"users","quantity":5}"#);
    assert_eq!(status, 202, "{body}");
    let (_, status) = second.request("GET", "/v1/status", "");
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let pending = status["pending"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{status}");
    assert_eq!(pending[0]["quantity"], 5);
    let next_hour = entitled::meter::rfc3339(emulator.usage()[0].hour + 3600);
    assert_eq!(
        pending[0]["hour"].as_str(),
        Some(next_hour.as_str()),
        "{status}"
    );
    assert_eq!(status["lost"], serde_json::json!({}));
    let (code, stderr) = second.terminate();
    assert!(!stderr.contains("LOST"), "{stderr}");
    // 75: kept in the journal for the restart that reports the next hour.
    assert_eq!(code, 75, "{stderr}");
    assert_eq!(totals(&emulator), [("users".into(), "{}".into(), 2.0)]);
}
