//! The rules the emulator shares with the guard and the sidecar (the shell in
//! `crates/entitled-shell`), driven through the built binary: a repeated flag and `-q` with
//! `-v` are refused with 64, a usage error is JSON under `--log-format json`, and every
//! JSON line of a run has the shared shape.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use entitled_test_support::process::output_within;
use entitled_test_support::shell::{assert_usage_errors, UsageCase};
use serde_json::Value;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_entitled-emulator"));
    cmd.env_clear();
    cmd
}

/// Each line as JSON, with the members every binary's lines carry.
fn json_lines(stderr: &str) -> Vec<Value> {
    entitled_test_support::log::json_lines(stderr, "entitled-emulator")
}

#[test]
fn usage_errors_are_64_and_json_when_json_is_asked_for() {
    let cases: &[UsageCase] = &[
        (
            &["--region", "a", "--region", "b"],
            "--region is given twice; give it once",
        ),
        (&["--tls", "--tls"], "--tls is given twice"),
        (
            &["-q", "-v"],
            "-q/--quiet and -v/--verbose contradict; give one",
        ),
        (&["--bogus"], "--bogus"),
    ];
    assert_usage_errors("entitled-emulator", cases, |args| {
        output_within(binary().args(args), Duration::from_secs(60))
    });
}

/// A run from start to SIGTERM, with `-v`: every line is one object of the shared shape.
#[test]
fn every_json_line_of_a_verbose_run_has_the_shared_shape() {
    let mut child = binary()
        .args(["--listen", "127.0.0.1:0", "--log-format", "json", "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on http://"), "{line:?}");
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let lines = json_lines(&stderr);
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["started", "config", "stopping"], "{stderr}");
    assert!(lines[0]["endpoint"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
}
