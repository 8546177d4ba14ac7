//! `entitled --check --handoff-file PATH`, the init-container pattern: the file is written
//! only after a passed check, whole, owner-only, and an app verifying it refuses a missing,
//! partial, tampered or stale one.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use common::*;
use entitled::{verify_handoff_from_file, HandoffError, KeySet, KeyVersion, PublicKey};

fn keys() -> KeySet {
    KeySet::new().with(
        KeyVersion::FIRST,
        PublicKey::from_file(public_key()).unwrap(),
    )
}

fn app_verifies(path: &Path) -> Result<(), HandoffError> {
    let product = PRODUCT.parse().unwrap();
    verify_handoff_from_file(path, &keys(), &product, KeyVersion::FIRST).map(|_| ())
}

fn init_container(
    emu: &entitled_emulator::Emulator,
    product: &str,
    path: &Path,
) -> std::process::Output {
    let mut args = product_flags(product);
    args.extend([
        "--check".into(),
        "--handoff-file".into(),
        path.display().to_string(),
    ]);
    output_within(guard(emu).args(&args), PATIENCE)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_passed_check_writes_the_whole_file_owner_only_and_the_app_accepts_it() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entitlement");
    let out = init_container(&emu, PRODUCT, &path);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    assert_eq!(
        entries(dir.path()),
        ["entitlement"],
        "no temporary file left"
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "never group- or world-readable");
    let text = std::fs::read_to_string(&path).unwrap();
    let nonce = emu.calls()[0].nonce.clone().unwrap();
    assert!(text.starts_with("ENTITLED_TOKEN="), "{text}");
    assert!(
        text.ends_with(&format!("\nENTITLED_NONCE={nonce}\n")),
        "{text}"
    );
    app_verifies(&path).unwrap();
}

#[test]
fn a_failed_check_leaves_no_file_even_where_an_old_one_was() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entitlement");
    let out = init_container(&emu, PRODUCT, &path);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let out = init_container(&emu, DENIED, &path);
    assert_eq!(code(out.status), 77, "{}", describe(&out));
    assert_eq!(
        entries(dir.path()),
        Vec::<String>::new(),
        "the earlier file is gone"
    );
    assert!(matches!(
        app_verifies(&path),
        Err(HandoffError::File { .. })
    ));
}

#[test]
fn an_unwritable_place_is_refused_before_any_call() {
    let emu = emulator();
    let out = init_container(
        &emu,
        PRODUCT,
        Path::new("/nonexistent-entitled/entitlement"),
    );
    assert_eq!(code(out.status), 64, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-entitled"));
    assert!(emu.calls().is_empty(), "no call was made");
}

#[test]
fn with_a_command_the_flag_is_a_usage_error() {
    let emu = emulator();
    let mut args = product_flags(PRODUCT);
    args.extend([
        "--handoff-file".into(),
        "/tmp/x".into(),
        "--".into(),
        "true".into(),
    ]);
    let out = output_within(guard(&emu).args(&args), PATIENCE);
    assert_eq!(code(out.status), 64, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--handoff-file needs --check"));
    assert!(emu.calls().is_empty());
}

/// Each row: how the file an app finds is wrong. Every one is refused.
#[test]
fn the_app_refuses_a_missing_partial_tampered_or_stale_file() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let out = init_container(&emu, PRODUCT, &good);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let text = std::fs::read_to_string(&good).unwrap();
    let (token_line, nonce_line) = text.split_once('\n').unwrap();

    // A token signed by the product key, but issued ten minutes ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let key = entitled_emulator::token::SigningKey::from_pkcs8_pem(&private_key()).unwrap();
    let stale_token = entitled_emulator::token::sign_claims(
        &serde_json::json!({
            "productCode": PRODUCT, "publicKeyVersion": 1, "nonce": "n", "iat": now - 600,
        }),
        &key,
    );
    let mut tampered = token_line.to_owned();
    tampered.insert(
        tampered.len() - 3,
        if tampered.ends_with('A') { 'B' } else { 'A' },
    );
    let rows: [(&str, Option<String>); 6] = [
        ("missing", None),
        ("partial: no nonce", Some(format!("{token_line}\n"))),
        (
            "partial: cut mid-line",
            Some(text[..text.len() - 1].to_owned()),
        ),
        (
            "tampered signature",
            Some(format!("{tampered}\n{nonce_line}")),
        ),
        (
            "another nonce",
            Some(format!("{token_line}\nENTITLED_NONCE=other\n")),
        ),
        (
            "stale: issued 10 minutes ago",
            Some(format!("ENTITLED_TOKEN={stale_token}\nENTITLED_NONCE=n\n")),
        ),
    ];
    for (case, contents) in rows {
        let path = dir.path().join("case");
        let _ = std::fs::remove_file(&path);
        if let Some(contents) = contents {
            std::fs::write(&path, contents).unwrap();
        }
        assert!(app_verifies(&path).is_err(), "{case} must be refused");
    }
    assert!(
        app_verifies(&good).is_ok(),
        "the untouched file still verifies"
    );
}
