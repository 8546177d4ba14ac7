//! The admin API over raw HTTP, the JSON config file, and the `entitled-emulator` binary.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use entitled_emulator::{CallRecord, Config, Emulator, Fault, TokenVariant};
use entitled_test_support::log::after_time;

fn emulator() -> Emulator {
    let product = fixtures::product("prod-1");
    Emulator::spawn(
        Config::new()
            .product(product)
            .container_authorization("Bearer t"),
    )
    .unwrap()
}

/// The credentials endpoint goes through the same fault applier as the metering calls: each
/// row is a fault queued for `@credentials` and what the next fetch gets.
#[test]
fn credentials_endpoint_applies_every_fault_kind() {
    let emulator = emulator();
    let addr = emulator.local_addr();
    let fetch = || {
        raw_http(
            addr,
            "GET",
            "/_emulator/credentials",
            &[("Authorization", "Bearer t")],
            "",
        )
    };
    let normal = |body: &str| {
        serde_json::from_str::<serde_json::Value>(body).is_ok_and(|j| j["AccessKeyId"].is_string())
    };
    // Each row checks the status, head and body it got and how long the answer took.
    type Check = fn(u16, &str, &str, Duration) -> bool;
    let rows: [(Fault, Check); 8] = [
        (
            Fault::error("ThrottlingException"),
            |status, head, body, _| {
                status == 400
                    && head.contains("x-amzn-errortype: throttlingexception")
                    && body.contains(r#""__type":"ThrottlingException""#)
            },
        ),
        (
            Fault::Malformed { body: "{".into() },
            |status, head, body, _| {
                status == 200 && head.contains("content-type: application/json") && body == "{"
            },
        ),
        (Fault::Drop, |status, _, body, _| {
            status == 0 && body.is_empty()
        }),
        // Cut short: hyper may close before the headers of so small a body leave.
        (Fault::DropMidResponse, |status, _, body, _| {
            status == 0 || status == 200 && serde_json::from_str::<serde_json::Value>(body).is_err()
        }),
        (Fault::Oversized { bytes: 70_000 }, |status, _, body, _| {
            status == 200 && body.len() == 70_000
        }),
        // The answer, late by the latency asked for.
        (Fault::Latency { millis: 300 }, |status, _, _, took| {
            status == 200 && took >= Duration::from_millis(300)
        }),
        // The answer, at the rate asked for: the body cannot arrive faster than that.
        (
            Fault::Trickle {
                bytes_per_second: 2_000,
            },
            |status, _, body, took| {
                status == 200 && took.as_secs_f64() >= (body.len() as f64 - 64.0) / 2_000.0
            },
        ),
        // A change only RegisterUsage has: credentials are answered normally (checked
        // below), and at once.
        (Fault::Token(TokenVariant::WrongNonce), |status, _, _, _| {
            status == 200
        }),
    ];
    for (fault, check) in rows {
        let name = fault.name();
        emulator.push_fault(entitled_emulator::CREDENTIALS_TARGET, fault, 1);
        let started = Instant::now();
        let (status, head, body) = fetch();
        let took = started.elapsed();
        let head = head.to_ascii_lowercase();
        assert!(
            check(status, &head, &body, took),
            "{name}: {status} in {took:?} {head} {body:.200}"
        );
        if status == 200 && !matches!(name.as_str(), "Malformed" | "DropMidResponse" | "Oversized")
        {
            assert!(normal(&body), "{name}: {body}");
        }
    }
    let (status, _, body) = fetch();
    assert!(
        status == 200 && normal(&body),
        "queue used up: {status} {body}"
    );
}

#[test]
fn credentials_endpoint_checks_authorization_and_serves_ecs_json() {
    let emulator = emulator();
    let addr = emulator.local_addr();
    assert_eq!(
        raw_http(addr, "GET", "/_emulator/credentials", &[], "").0,
        401
    );
    assert_eq!(
        raw_http(
            addr,
            "GET",
            "/_emulator/credentials",
            &[("Authorization", "Bearer x")],
            ""
        )
        .0,
        403
    );
    let (status, _, body) = raw_http(
        addr,
        "GET",
        "/_emulator/credentials",
        &[("Authorization", "Bearer t")],
        "",
    );
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (akid, secret, token) = emulator.session_credentials();
    assert_eq!(json["AccessKeyId"], akid);
    assert_eq!(json["SecretAccessKey"], secret);
    assert_eq!(json["Token"], token);
    assert!(json["RoleArn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:iam::"));
    let expiration = json["Expiration"].as_str().unwrap();
    assert!(
        expiration.ends_with('Z') && expiration.len() == 20,
        "{expiration}"
    );

    // Faults for "@credentials" apply to this endpoint.
    let fault = r#"{"target":"@credentials","fault":{"kind":"status","status":500,"body":"nope"},"times":1}"#;
    assert_eq!(
        raw_http(addr, "POST", "/_emulator/faults", &[], fault).0,
        200
    );
    let (status, _, body) = raw_http(
        addr,
        "GET",
        "/_emulator/credentials",
        &[("Authorization", "Bearer t")],
        "",
    );
    assert_eq!((status, body.as_str()), (500, "nope"));
    assert_eq!(
        raw_http(
            addr,
            "GET",
            "/_emulator/credentials",
            &[("Authorization", "Bearer t")],
            ""
        )
        .0,
        200
    );
}

#[test]
fn admin_routes() {
    let emulator = emulator();
    let addr = emulator.local_addr();
    let (status, _, body) = raw_http(
        addr,
        "GET",
        "/_emulator/public-key?product=prod-1&version=1",
        &[],
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(body, fixture(V1_PUBLIC));
    assert_eq!(
        raw_http(
            addr,
            "GET",
            "/_emulator/public-key?product=prod-1&version=9",
            &[],
            ""
        )
        .0,
        404
    );
    assert_eq!(
        raw_http(addr, "GET", "/_emulator/public-key", &[], "").0,
        400
    );
    // Codes and versions no call could name are refused by the same rules as calls.
    for query in ["product=", "product=a%20b", "product=prod-1&version=0"] {
        let (status, _, body) = raw_http(
            addr,
            "GET",
            &format!("/_emulator/public-key?{query}"),
            &[],
            "",
        );
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(" is invalid"), "{query}: {body}");
    }
    assert_eq!(
        raw_http(addr, "GET", "/_emulator/health", &[], "").2,
        "ok\n"
    );
    assert_eq!(raw_http(addr, "GET", "/_emulator/ca", &[], "").0, 404);
    assert!(raw_http(addr, "GET", "/_emulator/", &[], "")
        .2
        .contains("/_emulator/faults"));

    // Faults: queue, list, clear; bad JSON is a 400.
    let (status, _, body) = raw_http(
        addr,
        "POST",
        "/_emulator/faults",
        &[],
        r#"[{"target":"prod-1","fault":{"kind":"token","variant":"alg_none"},"times":2},{"target":"*","fault":{"kind":"stall"}}]"#,
    );
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value =
        serde_json::from_str(&raw_http(addr, "GET", "/_emulator/faults", &[], "").2).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(
        raw_http(addr, "POST", "/_emulator/faults", &[], r#"{"target":"x"}"#).0,
        400
    );
    assert_eq!(
        raw_http(addr, "DELETE", "/_emulator/faults", &[], "").0,
        200
    );
    assert_eq!(raw_http(addr, "GET", "/_emulator/faults", &[], "").2, "[]");

    // Registration tokens.
    let (status, _, body) = raw_http(
        addr,
        "POST",
        "/_emulator/registration-tokens",
        &[],
        r#"{"product_code":"prod-1","customer_identifier":"cust-42"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let reg: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reg["customer_identifier"], "cust-42");
    assert!(reg["registration_token"].as_str().unwrap().len() > 20);

    // An unsigned metering call is logged and rejected; the log is JSON.
    let (status, head, body) = raw_http(
        addr,
        "POST",
        "/",
        &[
            ("X-Amz-Target", "AWSMPMeteringService.RegisterUsage"),
            ("Content-Type", "application/x-amz-json-1.1"),
        ],
        r#"{"ProductCode":"prod-1","PublicKeyVersion":1,"Nonce":"n1"}"#,
    );
    assert_eq!(status, 403);
    assert!(
        head.to_ascii_lowercase().contains("x-amzn-requestid:"),
        "{head}"
    );
    let err: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["__type"], "MissingAuthenticationTokenException");
    let calls: Vec<CallRecord> =
        serde_json::from_str(&raw_http(addr, "GET", "/_emulator/calls", &[], "").2).unwrap();
    assert_eq!(calls, emulator.calls());
    assert_eq!(calls[0].nonce.as_deref(), Some("n1"));
    assert_eq!(calls[0].outcome, "MissingAuthenticationTokenException");
    assert_eq!(raw_http(addr, "DELETE", "/_emulator/calls", &[], "").0, 200);
    assert!(emulator.calls().is_empty());

    // Unknown operation.
    let (status, _, body) = raw_http(
        addr,
        "POST",
        "/",
        &[("X-Amz-Target", "AWSMPMeteringService.Nope")],
        "{}",
    );
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"));
}

#[test]
fn config_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("v2.pem");
    std::fs::write(&key, fixture(V2_KEY)).unwrap();
    let json = r#"{
        "region": "us-east-1",
        "deny": ["denied"],
        "credentials": [{"access_key_id": "AKIDFILE", "secret_access_key": "s"}],
        "products": [{"code": "p", "keys": [{"version": 2, "key_file": "v2.pem", "expired_at": 1700000000}]}],
        "faults": [{"target": "p", "fault": {"kind": "drop"}, "times": 1}]
    }"#;
    let path = dir.path().join("emulator.json");
    std::fs::write(&path, json).unwrap();
    let emulator = Emulator::spawn(Config::new().config_file(&path).unwrap()).unwrap();
    assert_eq!(emulator.public_key_pem("p", 2).unwrap(), fixture(V2_PUBLIC));
    assert!(emulator.public_key_pem("p", 1).is_none());
    let listed = raw_http(emulator.local_addr(), "GET", "/_emulator/faults", &[], "").2;
    assert!(listed.contains(r#""kind":"drop""#), "{listed}");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"unknown_key": 1}"#).unwrap();
    let err = Config::new().config_file(&bad).unwrap_err().to_string();
    assert!(
        err.contains("bad.json") && err.contains("unknown_key"),
        "{err}"
    );
}

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_entitled-emulator"));
    cmd.env_clear();
    cmd
}

#[test]
fn binary_help_and_version() {
    let out = binary().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--tls",
        "--ca-out",
        "--public-key-out",
        "--product",
        "--key-file",
        "--expired",
        "--deny",
        "--credentials",
        "--container-authorization",
        "--region",
        "--platform-rule",
        "--throttle",
        "--config",
        "/_emulator/credentials",
        "/_emulator/faults",
        "/_emulator/calls",
        "/_emulator/public-key",
        "/_emulator/registration-tokens",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let out = binary().arg("--version").output().unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("entitled-emulator "));
    let out = binary().arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(64));
}

/// An empty or invalid product code never reaches a listening emulator: from `--product` it is
/// a usage error (exit 64, as in every binary), from the config file a start-up error (exit 1), and either message
/// names where the code came from and the rule.
#[test]
fn binary_refuses_invalid_product_codes() {
    let dir = tempfile::tempdir().unwrap();
    // Should a code get through, `--ca-out` without `--tls` still stops the process (with
    // another message), so a regression fails the assertions instead of hanging the test.
    let ca_out = dir.path().join("ca.pem");
    let rule = "AWS Marketplace product codes are 1-255 characters of letters, digits and -/=:_.@";
    let long = "x".repeat(256);
    for code in ["", "has space", "semi;colon", &long] {
        let out = binary()
            .args(["--product", code, "--ca-out"])
            .arg(&ca_out)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(64), "--product {code:?}: {stderr}");
        let named = format!(
            "entitled-emulator: error: --product: product code {code:?} is invalid: {rule}"
        );
        assert!(after_time(&stderr).starts_with(&named), "{stderr}");
        assert!(out.stdout.is_empty());

        let config = dir.path().join("emulator.json");
        let json = serde_json::json!({"products": [{"code": code}]});
        std::fs::write(&config, json.to_string()).unwrap();
        let out = binary()
            .arg("--config")
            .arg(&config)
            .arg("--ca-out")
            .arg(&ca_out)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "config code {code:?}: {stderr}");
        let named = format!(
            "entitled-emulator: error: configuration: {}: products: product code {code:?} is invalid: {rule}",
            config.display()
        );
        assert!(after_time(&stderr).starts_with(&named), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn binary_announces_writes_files_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, fixture(V1_KEY)).unwrap();
    let (pk, ca) = (dir.path().join("pk.pem"), dir.path().join("ca.pem"));
    let mut child = binary()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--product",
            "prod-1",
            "--key-file",
        ])
        .arg(&key)
        .arg("--public-key-out")
        .arg(&pk)
        .arg("--ca-out")
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("listening on https://127.0.0.1:"),
        "{line:?}"
    );
    assert_eq!(std::fs::read_to_string(&pk).unwrap(), fixture(V1_PUBLIC));
    assert!(std::fs::read_to_string(&ca)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}

#[test]
fn binary_serves_plain_http() {
    let mut child = binary()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--product",
            "prod-1",
            "--key-file",
        ])
        .arg(fixtures::path(V1_KEY))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(raw_http(addr, "GET", "/_emulator/health", &[], "").0, 200);
    Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}
