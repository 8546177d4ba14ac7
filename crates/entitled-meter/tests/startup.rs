//! The start-up check, driven through the built sidecar against the emulator: before
//! `listening on`, a MeterUsage `DryRun` per dimension. A refusal exits 78 with the reason and
//! hint and never listens; "not entitled" starts and says so; a stalled or failing AWS
//! starts within the 5 s bound with the status "unknown", and becomes verified in the
//! background once AWS answers.

mod common;

use std::time::{Duration, Instant};

use common::*;
use entitled_emulator::{Config, Fault, Product};
use entitled_test_support::process::{code, output_within, wait_until};
use serde_json::Value;

const KEY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem"
);

/// A product AWS lists with the dimension `users` only: the sidecar's `gb_scanned` is not one
/// of its dimensions.
const USERS_ONLY: &str = "prod-users-only";

fn static_keys() -> Vec<(&'static str, String)> {
    vec![
        (
            "AWS_ACCESS_KEY_ID",
            entitled_emulator::DEFAULT_ACCESS_KEY_ID.into(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            entitled_emulator::DEFAULT_SECRET_ACCESS_KEY.into(),
        ),
    ]
}

/// Each row: what is wrong, the emulator, the product, the credentials, and the reason the
/// sidecar must exit 78 with (and a word of its hint).
#[test]
fn each_start_up_refusal_exits_78_before_listening() {
    let pem = std::fs::read_to_string(KEY_FILE).unwrap();
    let users_only = Product::new(USERS_ONLY)
        .key_pem(1, &pem)
        .unwrap()
        .dimensions(["users"]);
    let no_credentials = vec![
        ("AWS_CONFIG_FILE", "/nonexistent/aws-config".to_owned()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials".to_owned(),
        ),
    ];
    type Row<'a> = (
        &'a str,
        Config,
        &'a str,
        Option<Vec<(&'a str, String)>>,
        &'a str,
        &'a str,
    );
    let table: Vec<Row> = vec![
        (
            "refused ECS credentials token",
            Config::new().container_authorization("Bearer task-token"),
            PRODUCT,
            None,
            "CredentialsRefused",
            "authorization token",
        ),
        (
            "no credentials at all",
            Config::new(),
            PRODUCT,
            Some(no_credentials),
            "NoCredentials",
            "task role",
        ),
        (
            "a product code AWS does not know",
            Config::new().known_products_only(true),
            "prod-mistyped",
            Some(static_keys()),
            "InvalidProductCodeException",
            "product code",
        ),
        (
            "a dimension the product does not have",
            Config::new().product(users_only),
            USERS_ONLY,
            Some(static_keys()),
            "InvalidUsageDimensionException",
            "gb_scanned",
        ),
        (
            "long-term keys, outside ECS and EKS",
            Config::new().platform_rule(true),
            PRODUCT,
            Some(static_keys()),
            "PlatformNotSupportedException",
            "ECS task",
        ),
        (
            "a role without aws-marketplace:MeterUsage",
            Config::new(),
            PRODUCT,
            Some(static_keys()),
            "AccessDeniedException",
            "aws-marketplace:MeterUsage",
        ),
    ];
    for (what, config, product, credentials, reason, hint) in table {
        let emulator = emulator(config);
        if reason == "AccessDeniedException" {
            // What MeterUsage answers a DryRun the role may not make.
            emulator.push_fault(PRODUCT, Fault::error("UnauthorizedException"), 1);
        }
        let credentials = credentials.unwrap_or_else(|| {
            vec![
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    emulator.credentials_url(),
                ),
                (
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                    "Bearer wrong-token".into(),
                ),
            ]
        });
        let journal = tempfile::tempdir().unwrap();
        let out = output_within(
            &mut command(
                &emulator,
                journal.path(),
                product,
                &["--log-format", "json"],
                &credentials,
            ),
            Duration::from_secs(60),
        );
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(code(out.status), 78, "{what}: {stderr}");
        assert!(!stdout.contains("listening on"), "{what}: {stdout}");
        // One line, as the guard logs a refusal: event `failed`, the reason, the hint.
        let last: Value = serde_json::from_str(stderr.lines().last().unwrap_or("")).unwrap();
        assert_eq!(
            (
                &last["event"],
                &last["class"],
                &last["reason"],
                &last["exit_code"]
            ),
            (
                &Value::from("failed"),
                &Value::from("rejected"),
                &Value::from(reason),
                &Value::from(78)
            ),
            "{what}: {stderr}"
        );
        assert!(
            last["message"].as_str().unwrap().contains(hint),
            "{what}: {stderr}"
        );
        assert!(emulator.usage().is_empty(), "{what}: nothing recorded");
        if reason.starts_with("Credentials") || reason == "NoCredentials" {
            assert!(
                emulator.calls().iter().all(|c| c.operation != "MeterUsage"),
                "{what}: nothing was sent unsigned"
            );
        }
    }
}

fn status(sidecar: &Sidecar) -> Value {
    let (code, body) = sidecar.request("GET", "/v1/status", "");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn metrics(sidecar: &Sidecar) -> String {
    sidecar.request("GET", "/metrics", "").1
}

/// Polls the status until `done` holds, failing after a minute; the status that held.
fn wait_for(sidecar: &Sidecar, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut now = Value::Null;
    wait_until(Duration::from_secs(60), what, || {
        now = status(sidecar);
        done(&now)
    });
    now
}

#[test]
fn a_verified_start_says_so_in_the_status_and_metrics() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--log-format", "json"],
    );
    let now = status(&sidecar);
    assert_eq!(
        (&now["entitled"], &now["verification"]),
        (&Value::Bool(true), &Value::from("verified")),
        "{now}"
    );
    let metrics = metrics(&sidecar);
    assert!(
        metrics.contains("\nentitled_meter_entitled 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nentitled_meter_verified 1\n"),
        "{metrics}"
    );
    let dry_runs = emulator
        .calls()
        .iter()
        .filter(|c| c.operation == "MeterUsage" && c.outcome == "DryRunOperation")
        .count();
    assert_eq!(dry_runs, 2, "one DryRun per dimension");
    assert!(emulator.usage().is_empty(), "a DryRun records nothing");
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(r#""verification":"verified""#), "{stderr}");
}

#[test]
fn not_entitled_starts_and_says_so() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(
        &emulator,
        journal.path(),
        "denied-product",
        &["--shutdown-timeout", "5s"],
    );
    let now = status(&sidecar);
    assert_eq!(
        (&now["entitled"], &now["verification"]),
        (&Value::Bool(false), &Value::from("not_entitled")),
        "{now}"
    );
    assert_eq!(now["last_error"]["class"], "CustomerNotEntitledException");
    let metrics = metrics(&sidecar);
    assert!(
        metrics.contains("\nentitled_meter_entitled 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nentitled_meter_verified 1\n"),
        "{metrics}"
    );
    assert_eq!(
        sidecar.post(r#"{"dimension": "users", "quantity": 1}"#).0,
        202,
        "usage is still kept"
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 77, "{stderr}");
    assert!(
        stderr.contains("MeterUsage DryRun refused (CustomerNotEntitledException"),
        "{stderr}"
    );
}

/// The start-up bound: a stalled DryRun would hold start-up for the 10 s attempt timeout
/// per dimension; the sidecar gives up waiting after 5 s.
const WELL_UNDER_A_STALLED_ATTEMPT: Duration = Duration::from_secs(9);

/// Each row: how AWS fails, and the class the status shows. The sidecar starts within the
/// bound with the status "unknown" (no `entitled` metric, `verified` 0), keeps trying, and
/// is verified once the fault is cleared.
#[test]
fn a_stalled_or_failing_aws_starts_unknown_then_verifies_in_the_background() {
    let failures = [
        (Fault::Stall, "timeout"),
        (
            Fault::Status {
                status: 503,
                body: String::new(),
            },
            "server_error",
        ),
    ];
    for (fault, class) in failures {
        let emulator = emulator(Config::new());
        emulator.push_fault(PRODUCT, fault, 1_000);
        let journal = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
        let took = started.elapsed();
        assert!(took < WELL_UNDER_A_STALLED_ATTEMPT, "{class}: {took:?}");
        let now = status(&sidecar);
        assert_eq!(
            (&now["entitled"], &now["verification"]),
            (&Value::Null, &Value::from("unknown")),
            "{class}: {now}"
        );
        assert_eq!(now["last_error"]["class"], class, "{now}");
        let shown = metrics(&sidecar);
        assert!(
            !shown.contains("\nentitled_meter_entitled "),
            "{class}: unknown is not entitled: {shown}"
        );
        assert!(shown.contains("\nentitled_meter_verified 0\n"), "{shown}");

        emulator.clear_faults();
        let now = wait_for(&sidecar, "verified", |s| s["verification"] == "verified");
        assert_eq!(now["entitled"], true, "{now}");
        assert!(metrics(&sidecar).contains("\nentitled_meter_entitled 1\n"));
        let (code, stderr) = sidecar.terminate();
        assert_eq!(code, 0, "{class}: {stderr}");
        assert!(
            stderr.contains("could not verify with AWS at start"),
            "{stderr}"
        );
    }
}
