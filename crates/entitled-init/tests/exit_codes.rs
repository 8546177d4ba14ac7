//! Every exit code in the contract, driven through the real binary against
//! the emulator. One row per case: how the run is set up, what it exits with.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use entitled_emulator::{Emulator, Fault, TokenVariant};

struct Case {
    name: &'static str,
    /// Faults to queue for [`PRODUCT`] before the run.
    faults: Vec<(Fault, u32)>,
    /// Flags before `--`.
    flags: Vec<String>,
    /// COMMAND, or none for `--check`.
    command: Vec<String>,
    code: i32,
    /// Text the log must contain.
    stderr_has: &'static str,
    /// Whether RegisterUsage may have been called.
    calls: bool,
}

fn run_case(emu: &Emulator, case: &Case) {
    emu.clear_faults();
    emu.clear_calls();
    for (fault, times) in &case.faults {
        emu.push_fault(PRODUCT, fault.clone(), *times);
    }
    let mut cmd = guard(emu);
    cmd.args(&case.flags);
    if !case.command.is_empty() {
        cmd.arg("--").args(&case.command);
    }
    let out = output_within(&mut cmd, PATIENCE);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        code(out.status),
        case.code,
        "{}: {}",
        case.name,
        describe(&out)
    );
    assert!(
        stderr.contains(case.stderr_has),
        "{}: stderr lacks {:?}: {}",
        case.name,
        case.stderr_has,
        describe(&out)
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| after_time(l).starts_with("entitled: error:"))
            .count(),
        usize::from(case.code != 0 && case.code != 42),
        "{}: one error line per failure: {stderr}",
        case.name
    );
    if !case.calls {
        assert!(
            emu.calls().is_empty(),
            "{}: no call may be made: {:?}",
            case.name,
            emu.calls()
        );
    }
}

fn flags(product: &str, extra: &[&str]) -> Vec<String> {
    let mut f = product_flags(product);
    f.extend(extra.iter().map(|s| s.to_string()));
    f
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_exit_code_in_the_table() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let not_executable = dir.path().join("not-executable");
    std::fs::write(&not_executable, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let bad_key = dir.path().join("bad-key.pem");
    std::fs::write(&bad_key, "not a key").unwrap();

    let cases = vec![
        Case {
            name: "the check passes, exec; the program's own code",
            faults: vec![],
            flags: flags(PRODUCT, &[]),
            command: strings(&["sh", "-c", "exit 42"]),
            code: 42,
            stderr_has: "entitled: check passed for product prod-entitled-test (public key version 1, 1 attempt(s), ",
            calls: true,
        },
        Case {
            name: "--check passes",
            faults: vec![],
            flags: flags(PRODUCT, &["--check"]),
            command: vec![],
            code: 0,
            stderr_has: "1 attempt(s)",
            calls: true,
        },
        Case {
            name: "unknown flag",
            faults: vec![],
            flags: flags(PRODUCT, &["--product"]),
            command: strings(&["true"]),
            code: 64,
            stderr_has: "--product",
            calls: false,
        },
        Case {
            name: "a flag given twice: every flag may be given once",
            faults: vec![],
            flags: flags(PRODUCT, &["-q", "--check", "--quiet"]),
            command: vec![],
            code: 64,
            stderr_has: "-q/--quiet is given twice; give it once",
            calls: false,
        },
        Case {
            name: "--check given twice",
            faults: vec![],
            flags: flags(PRODUCT, &["--check", "--check"]),
            command: vec![],
            code: 64,
            stderr_has: "--check is given twice; give it once",
            calls: false,
        },
        Case {
            name: "no COMMAND without --check",
            faults: vec![],
            flags: flags(PRODUCT, &[]),
            command: vec![],
            code: 64,
            stderr_has: "no COMMAND",
            calls: false,
        },
        Case {
            name: "missing key",
            faults: vec![],
            flags: strings(&["--product-code", PRODUCT, "--check"]),
            command: vec![],
            code: 64,
            stderr_has: "--public-key is missing",
            calls: false,
        },
        Case {
            name: "unreadable key",
            faults: vec![],
            flags: strings(&["--product-code", PRODUCT, "--public-key", "/nonexistent/key.pem", "--check"]),
            command: vec![],
            code: 64,
            stderr_has: "/nonexistent/key.pem",
            calls: false,
        },
        Case {
            name: "invalid key",
            faults: vec![],
            flags: strings(&["--product-code", PRODUCT, "--public-key", bad_key.to_str().unwrap(), "--check"]),
            command: vec![],
            code: 64,
            stderr_has: "PUBLIC KEY",
            calls: false,
        },
        Case {
            name: "bad duration",
            faults: vec![],
            flags: flags(PRODUCT, &["--deadline", "30", "--check"]),
            command: vec![],
            code: 64,
            stderr_has: "500ms, 20s, 5m or 1h",
            calls: false,
        },
        Case {
            name: "token with the wrong nonce",
            faults: vec![(Fault::Token(TokenVariant::WrongNonce), 1)],
            flags: flags(PRODUCT, &["--check"]),
            command: vec![],
            code: 65,
            stderr_has: "nonce",
            calls: true,
        },
        Case {
            name: "token signed by another key",
            faults: vec![(Fault::Token(TokenVariant::OtherKey), 1)],
            flags: flags(PRODUCT, &[]),
            command: strings(&["sh", "-c", "echo must-not-run"]),
            code: 65,
            stderr_has: "refused",
            calls: true,
        },
        Case {
            name: "throttled until the deadline",
            faults: vec![(error("ThrottlingException"), 1000)],
            flags: flags(PRODUCT, &["--deadline", "1500ms", "--check"]),
            command: vec![],
            code: 75,
            stderr_has: "ThrottlingException",
            calls: true,
        },
        Case {
            name: "503 until the deadline",
            faults: vec![(
                Fault::Status {
                    status: 503,
                    body: String::new(),
                },
                1000,
            )],
            flags: flags(PRODUCT, &["--deadline", "1s", "--check"]),
            command: vec![],
            code: 75,
            stderr_has: "unavailable",
            calls: true,
        },
        Case {
            name: "customer not entitled",
            faults: vec![],
            flags: flags(DENIED, &[]),
            command: strings(&["sh", "-c", "echo must-not-run"]),
            code: 77,
            stderr_has: "not entitled",
            calls: true,
        },
        Case {
            name: "platform not supported",
            faults: vec![(error("PlatformNotSupportedException"), 1)],
            flags: flags(PRODUCT, &["--check"]),
            command: vec![],
            code: 78,
            stderr_has: "PlatformNotSupportedException",
            calls: true,
        },
        Case {
            name: "invalid product code",
            faults: vec![(error("InvalidProductCodeException"), 1)],
            flags: flags(PRODUCT, &["--check"]),
            command: vec![],
            code: 78,
            stderr_has: "InvalidProductCodeException",
            calls: true,
        },
        Case {
            name: "key version AWS does not know",
            faults: vec![],
            flags: flags(PRODUCT, &["--public-key-version", "2", "--check"]),
            command: vec![],
            code: 78,
            stderr_has: "InvalidPublicKeyVersionException",
            calls: true,
        },
        Case {
            name: "COMMAND not executable",
            faults: vec![],
            flags: flags(PRODUCT, &[]),
            command: vec![not_executable.display().to_string()],
            code: 126,
            stderr_has: "cannot be executed",
            calls: true,
        },
        Case {
            name: "COMMAND not found",
            faults: vec![],
            flags: flags(PRODUCT, &[]),
            command: strings(&["no-such-command-entitled-test"]),
            code: 127,
            stderr_has: "was not found",
            calls: true,
        },
        Case {
            name: "empty COMMAND",
            faults: vec![],
            flags: flags(PRODUCT, &[]),
            command: strings(&[""]),
            code: 127,
            stderr_has: "was not found",
            calls: true,
        },
    ];
    for case in &cases {
        run_case(&emu, case);
    }
}

#[test]
fn no_credentials_is_rejected() {
    let emu = emulator();
    let out = output_within(
        guard(&emu)
            .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .args(product_flags(PRODUCT))
            .arg("--check"),
        PATIENCE,
    );
    assert_eq!(code(out.status), 78, "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot call RegisterUsage (NoCredentials"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("RegisterUsage refused"),
        "nothing was called: {stderr}"
    );
    assert!(emu.calls().is_empty());
}

/// aws-config panics on an endpoint variable set to nothing; the guard names it instead,
/// in both modes.
#[test]
fn an_empty_endpoint_variable_is_64_naming_it() {
    let emu = emulator();
    for (variable, mode) in [
        (
            "AWS_ENDPOINT_URL_MARKETPLACE_METERING",
            product_flags(PRODUCT),
        ),
        ("AWS_ENDPOINT_URL_STS", product_flags(PRODUCT)),
        (
            "AWS_ENDPOINT_URL_LICENSE_MANAGER",
            strings(&[
                "--contract",
                "--product-sku",
                "sku-1",
                "--entitlement",
                "Basic",
            ]),
        ),
    ] {
        let out = output_within(
            guard(&emu).env(variable, "").args(mode).arg("--check"),
            PATIENCE,
        );
        assert_eq!(code(out.status), 64, "{variable}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{variable} is set but empty")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(emu.calls().is_empty());
}

#[test]
fn the_failure_line_carries_the_typed_reason_in_json() {
    let emu = emulator();
    let out = output_within(
        guard(&emu)
            .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .args(product_flags(PRODUCT))
            .args(["--log-format", "json", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 78, "{}", describe(&out));
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim()).unwrap();
    assert_eq!(line["event"], "failed");
    assert_eq!(line["reason"], "NoCredentials", "{line}");
}

#[test]
fn long_term_keys_are_refused_as_aws_does() {
    let emu = Emulator::spawn(config().platform_rule(true)).unwrap();
    let out = output_within(
        guard(&emu)
            .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .env(
                "AWS_ACCESS_KEY_ID",
                entitled_emulator::DEFAULT_ACCESS_KEY_ID,
            )
            .env(
                "AWS_SECRET_ACCESS_KEY",
                entitled_emulator::DEFAULT_SECRET_ACCESS_KEY,
            )
            .args(product_flags(PRODUCT))
            .arg("--check"),
        PATIENCE,
    );
    assert_eq!(code(out.status), 78, "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PlatformNotSupportedException"), "{stderr}");
    assert!(
        !stderr.contains(entitled_emulator::DEFAULT_SECRET_ACCESS_KEY),
        "secrets are never logged"
    );
}

#[test]
fn a_retried_throttle_then_success_logs_each_failure() {
    let emu = emulator();
    emu.push_fault(PRODUCT, error("ThrottlingException"), 2);
    let out = output_within(
        guard(&emu)
            .args(product_flags(PRODUCT))
            .args(["--check", "--log-format", "json"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["retry", "retry", "entitled"], "{lines:?}");
    assert_eq!(lines[2]["attempts"], 3);
    assert_eq!(lines[2]["product_code"], PRODUCT);
    assert!(lines[0]["reason"]
        .as_str()
        .unwrap()
        .contains("ThrottlingException"));
    assert_eq!(lines[0]["cause"], "throttled", "logs keyed by cause");
    assert_eq!(lines[0]["endpoint"], "metering");
}

/// The 75 message names the endpoint that stayed unavailable and the last
/// cause, for the metering endpoint and the credentials endpoint.
#[test]
fn unavailable_names_the_endpoint_and_the_last_cause() {
    let five_hundred = Fault::Status {
        status: 500,
        body: String::new(),
    };
    for (target, endpoint) in [
        (
            PRODUCT,
            "the AWS Marketplace Metering endpoint stayed unavailable",
        ),
        (
            entitled_emulator::CREDENTIALS_TARGET,
            "the credentials endpoint (ECS container credentials or STS) stayed unavailable",
        ),
    ] {
        let emu = emulator();
        emu.push_fault(target, five_hundred.clone(), 100_000);
        let out = output_within(
            guard(&emu)
                .args(product_flags(PRODUCT))
                .args(["--deadline", "1500ms", "--check"]),
            PATIENCE,
        );
        assert_eq!(code(out.status), 75, "{}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let error = stderr
            .lines()
            .find(|l| after_time(l).starts_with("entitled: error:"))
            .unwrap_or_else(|| panic!("no error line: {stderr}"));
        assert!(error.contains(endpoint), "{error}");
        // aws-config's ECS provider retries a 500 itself, so the last
        // attempt may be cut by the deadline: a timeout, still a cause.
        let causes: &[&str] = if target == PRODUCT {
            &["last cause: server_error"]
        } else {
            &["last cause: server_error", "last cause: timeout"]
        };
        assert!(causes.iter().any(|c| error.contains(c)), "{error}");
    }
}

#[test]
fn quiet_logs_nothing_on_success_and_the_error_on_failure() {
    let emu = emulator();
    let out = output_within(
        guard(&emu)
            .args(product_flags(PRODUCT))
            .args(["-q", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    assert!(out.stderr.is_empty(), "{}", describe(&out));
    let out = output_within(
        guard(&emu)
            .args(product_flags(DENIED))
            .args(["-q", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 77, "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().count(),
        1,
        "{}",
        describe(&out)
    );
}

#[test]
fn key_rotation_is_warned_with_an_rfc3339_time() {
    let key = private_key();
    let product = entitled_emulator::Product::new(PRODUCT)
        .key_pem(1, &key)
        .unwrap()
        .expired(1, 1_700_000_000);
    let emu = Emulator::spawn(
        entitled_emulator::Config::new()
            .region("us-east-1")
            .product(product),
    )
    .unwrap();
    // `-q` never hides it: it is the one line a seller must see.
    for quiet in [&[][..], &["-q"]] {
        let out = output_within(
            guard(&emu)
                .args(product_flags(PRODUCT))
                .args(quiet)
                .arg("--check"),
            PATIENCE,
        );
        assert_eq!(code(out.status), 0, "{}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "entitled: warning: public key version 1 of product prod-entitled-test expired at 2023-11-14T22:13:20Z"
            ),
            "{quiet:?}: {stderr}"
        );
        if !quiet.is_empty() {
            assert_eq!(stderr.lines().count(), 1, "only the warning: {stderr}");
        }
    }
}

/// The failure line names the product and key version, as the success line
/// does, whichever step failed.
#[test]
fn the_json_failure_line_names_the_product_and_key_version() {
    let emu = emulator();
    let bad_key = fixture("TEST-ONLY-weak-key-rsa1024.public.pem");
    let cases: [(Vec<String>, i32); 2] = [
        (product_flags(DENIED), 77),
        (
            strings(&[
                "--product-code",
                PRODUCT,
                "--public-key-version",
                "2",
                "--public-key",
            ])
            .into_iter()
            .chain([bad_key.display().to_string()])
            .collect(),
            64,
        ),
    ];
    for (flags, exit) in cases {
        let out = output_within(
            guard(&emu)
                .args(&flags)
                .args(["--log-format", "json", "--check"]),
            PATIENCE,
        );
        assert_eq!(code(out.status), exit, "{}", describe(&out));
        let line: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim()).unwrap();
        assert_eq!(line["event"], "failed", "{line}");
        assert_eq!(line["product_code"], flags[1], "{line}");
        let version = if exit == 64 { 2 } else { 1 };
        assert_eq!(line["key_version"], version, "{line}");
    }
}

/// A usage error is JSON when `--log-format json` is anywhere among the
/// guard's flags, also after the mistake.
#[test]
fn a_usage_error_is_json_wherever_the_log_format_flag_stands() {
    let emu = emulator();
    let out = output_within(
        guard(&emu).args(["--bogus", "--log-format", "json", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 64, "{}", describe(&out));
    let line: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&out)));
    assert_eq!(
        (line["event"].as_str(), line["exit_code"].as_u64()),
        (Some("failed"), Some(64))
    );
    assert!(
        line["message"].as_str().unwrap().contains("--bogus"),
        "{line}"
    );
}

/// When the deadline leaves no time for another attempt, the last retry
/// line says so instead of promising a retry ("retrying in 0 ms").
#[test]
fn the_last_failure_before_the_deadline_says_no_attempt_follows() {
    let emu = emulator();
    emu.push_fault(PRODUCT, error("ThrottlingException"), 100_000);
    let out = output_within(
        guard(&emu)
            .args(product_flags(PRODUCT))
            .args(["--deadline", "1500ms", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 75, "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| after_time(l).starts_with("entitled: warning: attempt"))
        .collect();
    let (last, retried) = warnings.split_last().expect("failures are logged");
    assert!(
        last.ends_with("; no time left before the deadline for another attempt"),
        "{stderr}"
    );
    assert!(
        retried
            .iter()
            .all(|l| l.contains("; retrying in ") && !l.contains("retrying in 0 ms")),
        "{stderr}"
    );
}

/// A wrong key file is named for what it is, with the `openssl` command
/// that extracts the public key; a private key carries the warning.
#[test]
fn a_wrong_key_file_is_named_with_its_fix() {
    let emu = emulator();
    let cases = [
        (
            "TEST-ONLY-product-key-v1-rsa3072.private.pem",
            "a PKCS#8 private key, not a public key (never ship a private key in an image); extract the public key with `openssl pkey -in key.pem -pubout`",
        ),
        ("TEST-ONLY-not-rsa-ec-p256.public.pem", "an EC public key"),
    ];
    for (name, needle) in cases {
        let out = output_within(
            guard(&emu)
                .args(["--product-code", PRODUCT, "--public-key"])
                .arg(fixture(name))
                .arg("--check"),
            PATIENCE,
        );
        assert_eq!(code(out.status), 64, "{}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{name}: {stderr}");
        assert!(emu.calls().is_empty(), "nothing is called");
    }
}
