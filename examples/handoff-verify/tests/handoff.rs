//! The example application, built and run as a subprocess with the hand-off
//! the guard would give it: a token signed with the product's key, echoing the
//! nonce, starts it; no token, a token signed with another key (a buyer's fake
//! endpoint), a replayed nonce, another product or a stale token does not. The
//! top README prints parts of `src/main.rs`; `scripts/check_readme_blocks.py`
//! holds them to the file.

use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use entitled_emulator::token::{sign_claims, SigningKey};
use serde_json::json;

const APP: &str = env!("CARGO_BIN_EXE_entitled-example-handoff-verify");
const NONCE: &str = "nonce-the-guard-sent";

fn key(name: &str) -> SigningKey {
    let path = format!(
        "{}/../../tests/fixtures/TEST-ONLY-{name}.private.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    SigningKey::from_pkcs8_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(product: &str, nonce: &str, iat: u64, signer: &str) -> String {
    let claims = json!({"productCode": product, "publicKeyVersion": 1, "nonce": nonce, "iat": iat});
    sign_claims(&claims, &key(signer))
}

fn run(handoff: Option<(&str, &str)>) -> Output {
    let mut cmd = Command::new(APP);
    cmd.env_clear();
    if let Some((token, nonce)) = handoff {
        cmd.env("ENTITLED_TOKEN", token)
            .env("ENTITLED_NONCE", nonce);
    }
    cmd.output().unwrap()
}

#[test]
fn a_hand_off_from_the_guard_starts_the_application() {
    let out = run(Some((
        &token("demo-product", NONCE, now(), "product-key-v1-rsa3072"),
        NONCE,
    )));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("hand-off verified: product demo-product, key version 1"),
        "{stdout}"
    );
}

#[test]
fn no_hand_off_means_the_guard_was_skipped_77() {
    let out = run(None);
    assert_eq!(out.status.code(), Some(77));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_wrong_hand_off_is_refused_with_65() {
    let cases = [
        (
            "a buyer's key",
            token("demo-product", NONCE, now(), "attacker-key-rsa3072"),
            NONCE,
        ),
        (
            "a replayed nonce",
            token(
                "demo-product",
                "an-earlier-nonce",
                now(),
                "product-key-v1-rsa3072",
            ),
            NONCE,
        ),
        (
            "another product",
            token("cheaper-product", NONCE, now(), "product-key-v1-rsa3072"),
            NONCE,
        ),
        (
            "an hour old",
            token(
                "demo-product",
                NONCE,
                now() - 3600,
                "product-key-v1-rsa3072",
            ),
            NONCE,
        ),
    ];
    for (what, token, nonce) in cases {
        let out = run(Some((&token, nonce)));
        assert_eq!(
            out.status.code(),
            Some(65),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{what}: the application did not start"
        );
    }
}
