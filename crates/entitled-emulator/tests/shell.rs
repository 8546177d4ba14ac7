//! The rules the emulator shares with the guard and the sidecar (the shell in
//! `crates/entitled-shell`), driven through the built binary: a repeated flag and `-q` with
//! `-v` are refused with 64, a usage error is JSON under `--log-format json`, and every
//! JSON line of a run has the shared shape.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::Value;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_entitled-emulator"));
    cmd.env_clear();
    cmd
}

/// Each line as JSON, with the members every binary's lines carry.
fn json_lines(stderr: &str) -> Vec<Value> {
    assert!(!stderr.is_empty(), "no log line");
    stderr
        .lines()
        .map(|line| {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            for key in ["time", "level", "program", "event", "message"] {
                assert!(v[key].is_string(), "{key} missing: {line}");
            }
            assert_eq!(v["program"], "entitled-emulator", "{line}");
            assert_time(v["time"].as_str().unwrap());
            v
        })
        .collect()
}

#[test]
fn usage_errors_are_64_and_json_when_json_is_asked_for() {
    let cases: &[(&[&str], &str)] = &[
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
    for (args, reason) in cases {
        let out = binary().args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        let (time, rest) = text.trim_end().split_once(' ').unwrap();
        assert_time(time);
        assert!(
            rest.starts_with("entitled-emulator: error: ") && rest.contains(reason),
            "{args:?}: {text}"
        );
        assert!(out.stdout.is_empty());

        let out = binary()
            .args(*args)
            .args(["--log-format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let lines = json_lines(&String::from_utf8_lossy(&out.stderr));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["event"], "failed");
        assert_eq!(lines[0]["exit_code"], 64);
        assert!(
            lines[0]["message"].as_str().unwrap().contains(reason),
            "{}",
            lines[0]
        );
    }
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

/// `2026-12-05T16:01:12.123Z`: RFC 3339, UTC, milliseconds.
fn assert_time(time: &str) {
    let b = time.as_bytes();
    assert!(
        time.len() == 24 && b[10] == b'T' && b[19] == b'.' && time.ends_with('Z'),
        "not an RFC 3339 UTC time with milliseconds: {time:?}"
    );
}
