//! The command-line rules every binary shares (`crates/entitled-shell`), as each binary's
//! `tests/shell.rs` checks them through the built binary.

use std::process::Output;

use crate::log::{after_time, json_lines};
use crate::process::describe;

/// A command line the shell refuses, and a fragment of the reason it must give.
pub type UsageCase<'a> = (&'a [&'a str], &'a str);

/// Checks the usage-error rule for each case: `run(args)` exits 64 with one text line
/// `TIME PROGRAM: error: ...` naming the reason and nothing on stdout; with
/// `--log-format=json` added, one `failed` line at level `error` with `exit_code` 64 and
/// the reason in its message. (The `=` spelling here, so each binary's tests use both.)
///
/// `run` starts the binary with exactly the arguments given (and whatever environment the
/// binary needs) and returns its output.
///
/// ```no_run
/// use std::process::Command;
/// entitled_test_support::shell::assert_usage_errors(
///     "entitled-emulator",
///     &[(&["-q", "-v"], "contradict")],
///     |args| Command::new("entitled-emulator").env_clear().args(args).output().unwrap(),
/// );
/// ```
pub fn assert_usage_errors(
    program: &str,
    cases: &[UsageCase<'_>],
    mut run: impl FnMut(&[&str]) -> Output,
) {
    for (args, reason) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", describe(&out));
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(text.lines().count(), 1, "{args:?}: {text}");
        let line = after_time(text.trim_end());
        assert!(
            line.starts_with(&format!("{program}: error: ")) && line.contains(reason),
            "{args:?}: {text}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", describe(&out));

        let json: Vec<&str> = args.iter().copied().chain(["--log-format=json"]).collect();
        let out = run(&json);
        assert_eq!(out.status.code(), Some(64), "{json:?}: {}", describe(&out));
        let lines = json_lines(&String::from_utf8_lossy(&out.stderr), program);
        assert_eq!(lines.len(), 1, "{json:?}: {lines:?}");
        let line = &lines[0];
        assert_eq!(line["level"], "error", "{line}");
        assert_eq!(line["event"], "failed", "{line}");
        assert_eq!(line["exit_code"], 64, "{line}");
        assert!(
            line["message"].as_str().unwrap().contains(reason),
            "{json:?}: {line}"
        );
    }
}

/// Checks that `stderr` (JSON lines) ends with the check's `NoRegion` refusal as the guard
/// and the sidecar both give it: event `failed`, reason `NoRegion`, exit code 78 and the
/// check's own message, word for word. One resolution of the Region, one refusal.
///
/// ```no_run
/// # let stderr = String::new();
/// entitled_test_support::shell::assert_no_region_refusal(&stderr, "entitled");
/// ```
pub fn assert_no_region_refusal(stderr: &str, program: &str) {
    let lines = json_lines(stderr, program);
    let failed = lines.last().unwrap();
    assert_eq!(failed["event"], "failed", "{failed}");
    assert_eq!(failed["reason"], "NoRegion", "{failed}");
    assert_eq!(failed["exit_code"], 78, "{failed}");
    let expected = entitled::CheckError::Rejected {
        reason: entitled::RejectReason::NoRegion,
        message: "no AWS Region is configured".into(),
        credential_source: None,
    }
    .to_string();
    assert_eq!(failed["message"], expected.as_str(), "{failed}");
}
