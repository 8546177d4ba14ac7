//! The example application, built and run as a subprocess against the emulator
//! with only AWS's standard variables, as in an ECS task: it starts when the
//! customer is entitled and exits with the check's code when not. The crate
//! README prints `src/main.rs` whole; `scripts/check_readme_blocks.py` holds
//! the two equal.

use std::process::{Command, Output};

use entitled_emulator::{Config, Emulator, Product, TokenVariant};

const APP: &str = env!("CARGO_BIN_EXE_entitled-example-in-process-check");
const PRODUCT: &str = "demo-product";

fn private_key() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem"
    );
    std::fs::read_to_string(path).unwrap()
}

fn emulator(product: Product, config: Config) -> Emulator {
    Emulator::spawn(config.region("us-east-1").product(product)).unwrap()
}

fn product() -> Product {
    Product::new(PRODUCT).key_pem(1, &private_key()).unwrap()
}

/// The app with ECS-style container credentials from the emulator.
fn run_app(emu: &Emulator) -> Output {
    Command::new(APP)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_MARKETPLACE_METERING", emu.endpoint_url())
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", emu.credentials_url())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn an_entitled_customer_starts_the_application() {
    let emu = emulator(product(), Config::new());
    let out = run_app(&emu);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "entitled to demo-product after 1 attempt(s); the paid application starts\n"
    );
    assert_eq!(text(&out.stderr), "", "nothing to warn about");
}

#[test]
fn a_customer_who_is_not_entitled_gets_77_and_no_application() {
    let emu = emulator(product(), Config::new().deny(PRODUCT));
    let out = run_app(&emu);
    assert_eq!(out.status.code(), Some(77), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "the application did not start");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn a_replayed_token_gets_65() {
    let emu = emulator(product(), Config::new());
    emu.push_fault(
        PRODUCT,
        entitled_emulator::Fault::Token(TokenVariant::WrongNonce),
        1,
    );
    let out = run_app(&emu);
    assert_eq!(out.status.code(), Some(65), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "the application did not start");
}

#[test]
fn an_expired_key_version_is_reported_in_rfc_3339() {
    let emu = emulator(product().expired(1, 1_700_000_000), Config::new());
    let out = run_app(&emu);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "warning: public key version 1 expired at 2023-11-14T22:13:20Z; ship the new key and key version from AWS Marketplace\n"
    );
}

#[test]
fn a_retried_failure_is_logged_before_the_check_passes() {
    let emu = emulator(product(), Config::new());
    emu.push_fault(
        PRODUCT,
        entitled_emulator::Fault::Error {
            code: "ThrottlingException".into(),
            message: None,
        },
        1,
    );
    let out = run_app(&emu);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("warning: attempt 1 failed: ") && stderr.contains("; retrying in "),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("after 2 attempt(s)"));
}
