//! The rules the guard shares with `entitled-meter` and `entitled-emulator` (the shell in
//! `crates/entitled-shell`), driven through the built binary: a repeated flag and `-q` with
//! `-v` are refused with 64, a usage error is JSON under `--log-format json`, every JSON
//! line has the shared shape, and no Region is the check's `NoRegion` refusal, 78.

mod common;

use common::*;
use entitled_test_support::shell::{assert_no_region_refusal, assert_usage_errors, UsageCase};
use serde_json::Value;

/// Each line as JSON, with the members every binary's lines carry.
fn json_lines(stderr: &[u8]) -> Vec<Value> {
    entitled_test_support::log::json_lines(&String::from_utf8_lossy(stderr), "entitled")
}

#[test]
fn usage_errors_are_64_and_json_when_json_is_asked_for() {
    let emu = emulator();
    let cases: &[UsageCase] = &[
        (
            &["--deadline", "1s", "--deadline", "2s", "--check"],
            "--deadline is given twice; give it once",
        ),
        (
            &["-q", "-v", "--check"],
            "-q/--quiet and -v/--verbose contradict; give one",
        ),
        (&["--bogus", "--check"], "--bogus"),
    ];
    assert_usage_errors("entitled", cases, |args| {
        output_within(guard(&emu).args(args), PATIENCE)
    });
    assert!(emu.calls().is_empty(), "no call for a bad command line");
}

#[test]
fn every_json_line_of_a_verbose_run_has_the_shared_shape() {
    let emu = emulator();
    let out = output_within(
        guard(&emu)
            .args(product_flags(PRODUCT))
            .args(["--check", "-v", "--log-format=json"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let events: Vec<String> = json_lines(&out.stderr)
        .iter()
        .map(|l| l["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events, ["config", "entitled"]);
}

/// The same refusal the sidecar gives (crates/entitled-meter/tests/sidecar.rs): the check's
/// `NoRegion`, its message, and 78.
#[test]
fn no_region_is_the_checks_no_region_refusal() {
    let emu = emulator();
    let out = output_within(
        guard(&emu)
            .env_remove("AWS_REGION")
            .args(product_flags(PRODUCT))
            .args(["--check", "--log-format", "json"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 78, "{}", describe(&out));
    assert_no_region_refusal(&String::from_utf8_lossy(&out.stderr), "entitled");
    assert!(emu.calls().is_empty());
}
