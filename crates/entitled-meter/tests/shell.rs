//! The rules the sidecar shares with the guard and the emulator (the shell in
//! `crates/entitled-shell`), driven through the built binary: a repeated flag and `-q` with
//! `-v` are refused with 64, a usage error is JSON under `--log-format json`, every JSON
//! line has the shared shape, and no Region is the check's `NoRegion` refusal, 78, as the
//! guard gives it (crates/entitled-init/tests/shell.rs).

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use entitled_test_support::process::output_within;
use entitled_test_support::shell::{assert_no_region_refusal, assert_usage_errors, UsageCase};
use serde_json::Value;

fn sidecar(env: &[(&str, &str)], args: &[&str]) -> Output {
    output_within(
        Command::new(binary())
            .env_clear()
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws-credentials",
            )
            .envs(env.iter().copied())
            .args(args),
        Duration::from_secs(60),
    )
}

/// Each line as JSON, with the members every binary's lines carry.
fn json_lines(stderr: &[u8]) -> Vec<Value> {
    entitled_test_support::log::json_lines(&String::from_utf8_lossy(stderr), "entitled-meter")
}

const BASE: [&str; 6] = [
    "--product-code",
    PRODUCT,
    "--dimension",
    "users",
    "--journal",
    "/nonexistent/j",
];

#[test]
fn usage_errors_are_64_and_json_when_json_is_asked_for() {
    let cases: &[UsageCase] = &[
        (
            &["--product-code", "b"],
            "--product-code is given twice; give it once",
        ),
        (
            &["--dimension", "users"],
            "--dimension: \"users\" is given twice",
        ),
        (
            &["-q", "-v"],
            "-q/--quiet and -v/--verbose contradict; give one",
        ),
        (&["--bogus"], "--bogus"),
    ];
    assert_usage_errors("entitled-meter", cases, |extra| {
        let args: Vec<&str> = BASE.iter().chain(extra).copied().collect();
        sidecar(&[], &args)
    });
}

/// The guard's refusal, word for word, and its exit code: one resolution of the Region for
/// the check and the meter.
#[test]
fn no_region_is_the_checks_no_region_refusal() {
    let journal = tempfile::tempdir().unwrap();
    let dir = journal.path().to_str().unwrap();
    let out = sidecar(
        &[
            (
                "AWS_ACCESS_KEY_ID",
                entitled_emulator::DEFAULT_ACCESS_KEY_ID,
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                entitled_emulator::DEFAULT_SECRET_ACCESS_KEY,
            ),
        ],
        &[
            "--product-code",
            PRODUCT,
            "--dimension",
            "users",
            "--journal",
            dir,
            "--log-format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(78),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_region_refusal(&String::from_utf8_lossy(&out.stderr), "entitled-meter");
}

/// Every line of a verbose run, start to SIGTERM, has the shared shape; the reports carry
/// their dimension, hour and quantity as fields.
#[test]
fn every_json_line_of_a_verbose_run_has_the_shared_shape() {
    let emulator = emulator(entitled_emulator::Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--log-format", "json", "-v"],
    );
    assert_eq!(
        sidecar.post(r#"{"dimension": "users", "quantity": 3}"#).0,
        202
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    let lines = json_lines(stderr.as_bytes());
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        ["verified", "started", "stopping", "reported", "stopped"],
        "{stderr}"
    );
    let reported = &lines[3];
    assert_eq!(reported["dimension"], "users");
    assert_eq!(reported["quantity"], 3);
    assert!(
        reported["hour"].as_str().unwrap().ends_with(":00:00Z"),
        "{reported}"
    );
    assert_eq!(lines[4]["exit_code"], 0);
}
