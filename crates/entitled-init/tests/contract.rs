//! `--contract` end to end: the guard binary as a subprocess, checking out
//! from the emulator's License Manager over loopback with ECS container
//! credentials, then exec'ing (or exiting, with `--check`).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use entitled_emulator::{Config, Emulator, EntitlementSpec, Fault, LicenseSpec, Operation};

const SKU: &str = "prod-contract-guard";
const SELLER_FINGERPRINT: &str = "aws:111122223333:Seller:issuer-fingerprint";

fn licence() -> LicenseSpec {
    LicenseSpec::new(
        SKU,
        vec![
            EntitlementSpec::tier("Premium"),
            EntitlementSpec::count("Seats", 1),
        ],
    )
}

fn emulator_with(licenses: Vec<LicenseSpec>) -> Emulator {
    let mut config = Config::new().region("us-east-1");
    for spec in licenses {
        config = config.license(spec);
    }
    Emulator::spawn(config).unwrap()
}

/// The guard, pointed at `emu`'s License Manager, in contract mode.
fn contract_guard(binary: &Path, emu: &Emulator, flags: &[&str]) -> Command {
    let mut cmd = guard_at(binary, emu);
    cmd.env("AWS_ENDPOINT_URL_LICENSE_MANAGER", emu.endpoint_url())
        .args(["--contract", "--product-sku", SKU])
        .args(flags);
    cmd
}

fn checkouts(emu: &Emulator) -> usize {
    emu.calls()
        .iter()
        .filter(|c| c.operation == "CheckoutLicense")
        .count()
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = output_within(cmd, PATIENCE);
    (
        code(out.status),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PRINT_ENV: &str = r#"printf '%s|%s|%s' "$ENTITLED_LICENSE_ARN" "$ENTITLED_ENTITLEMENTS" "${#ENTITLED_LICENSE_TOKEN}""#;

fn tier_pass_execs_with_the_licence_in_the_environment(binary: &Path) {
    let emu = emulator_with(vec![licence()]);
    let (code, stdout, stderr) = run(&mut contract_guard(
        binary,
        &emu,
        &[
            "--entitlement",
            "Basic",
            "--entitlement",
            "Premium",
            "--",
            "/bin/sh",
            "-c",
            PRINT_ENV,
        ],
    ));
    assert_eq!(code, 0, "{stderr}");
    let parts: Vec<&str> = stdout.split('|').collect();
    assert!(
        parts[0].starts_with("arn:aws:license-manager::"),
        "{stdout}"
    );
    assert_eq!(parts[1], "Premium", "only the tier the licence has");
    assert!(
        parts[2].parse::<usize>().unwrap() > 100,
        "the signed token: {stdout}"
    );
    assert!(stderr.contains("checkout passed: Premium"), "{stderr}");
    assert_eq!(
        held(&emu),
        0,
        "the provisional checkout was checked in before exec"
    );
}

#[test]
fn a_tier_pass_execs_with_the_licence_in_the_environment() {
    tier_pass_execs_with_the_licence_in_the_environment(&guard_binary());
}

/// The shipped build: static musl, release, both modes in one binary.
#[test]
fn the_static_guard_checks_out_too() {
    tier_pass_execs_with_the_licence_in_the_environment(&musl_guard());
}

#[test]
fn counted_units_are_checked_in_before_exec_and_with_check() {
    let emu = emulator_with(vec![licence()]);
    for tail in [
        &["--check"][..],
        &[
            "--",
            "/bin/sh",
            "-c",
            "printf %s \"$ENTITLED_ENTITLEMENTS\"",
        ],
    ] {
        let mut flags = vec!["--entitlement", "Seats:Count:1"];
        flags.extend_from_slice(tail);
        let (code, stdout, stderr) = run(&mut contract_guard(&guard_binary(), &emu, &flags));
        assert_eq!(code, 0, "{tail:?}: {stderr}");
        assert_eq!(held(&emu), 0, "{tail:?}: the one seat is free again");
        if tail.len() > 1 {
            assert_eq!(stdout, "Seats:Count:1");
        }
    }
}

#[test]
fn exhausted_units_exit_77_after_one_retry() {
    let emu = emulator_with(vec![licence()]);
    // Hold the one seat from outside, as another replica would.
    let mut drawn = contract_guard(
        &guard_binary(),
        &emu,
        &[
            "--entitlement",
            "Seats:Count:1",
            "--checkout-type",
            "perpetual",
            "--check",
        ],
    );
    assert_eq!(
        run(&mut drawn).0,
        0,
        "a perpetual checkout draws the seat for good"
    );
    emu.clear_calls();
    let (code, _, stderr) = run(&mut contract_guard(
        &guard_binary(),
        &emu,
        &["--entitlement", "Seats:Count:1", "--check"],
    ));
    assert_eq!(code, 77, "{stderr}");
    assert!(
        stderr.contains("NoEntitlementsAllowedException"),
        "{stderr}"
    );
    assert_eq!(checkouts(&emu), 2, "one retry after a pause");
}

/// One row per failure: faults queued for the SKU, extra flags, exit code,
/// text the error line must hold.
#[test]
fn failures_exit_with_their_documented_codes() {
    let emu = emulator_with(vec![licence()]);
    type Row<'a> = (&'a str, Vec<(Fault, u32)>, Vec<&'a str>, i32, &'a str);
    let rows: Vec<Row> = vec![
        (
            "no such tier",
            vec![],
            vec!["--entitlement", "Gold"],
            77,
            "NoEntitlementsAllowedException",
        ),
        (
            "wrong fingerprint",
            vec![],
            vec![
                "--entitlement",
                "Premium",
                "--key-fingerprint",
                SELLER_FINGERPRINT,
            ],
            77,
            "NoEntitlementsAllowedException",
        ),
        (
            "throttled to the deadline",
            vec![(Fault::error("RateLimitExceededException"), 100_000)],
            vec!["--entitlement", "Premium", "--deadline", "1s"],
            75,
            "throttled",
        ),
        (
            "5xx to the deadline",
            vec![(Fault::error("ServerInternalException"), 100_000)],
            vec!["--entitlement", "Premium", "--deadline", "1s"],
            75,
            "ServerInternalException",
        ),
        (
            "access denied",
            vec![(Fault::error("AccessDeniedException"), 1)],
            vec!["--entitlement", "Premium"],
            78,
            "license-manager:CheckoutLicense",
        ),
        (
            "validation",
            vec![(Fault::error("ValidationException"), 1)],
            vec!["--entitlement", "Premium"],
            78,
            "never with unit None",
        ),
        (
            "foreign redirect",
            vec![(Fault::error("RedirectException"), 1)],
            vec!["--entitlement", "Premium"],
            78,
            "RedirectException",
        ),
        (
            "RegisterUsage flag too",
            vec![],
            vec!["--entitlement", "Premium", "--product-code", "prod-x"],
            64,
            "--contract and --product-code",
        ),
        ("no entitlement", vec![], vec![], 64, "--entitlement"),
    ];
    for (name, faults, flags, expected, text) in rows {
        emu.clear_faults();
        for (fault, times) in faults {
            emu.push_fault_for(SKU, Operation::CheckoutLicense, fault, times);
        }
        let mut flags = flags;
        flags.push("--check");
        let (code, _, stderr) = run(&mut contract_guard(&guard_binary(), &emu, &flags));
        assert_eq!(code, expected, "{name}: {stderr}");
        assert!(
            stderr.contains(text),
            "{name}: stderr lacks {text:?}: {stderr}"
        );
    }
}

#[test]
fn contract_flags_without_contract_are_refused_naming_the_flag() {
    let emu = emulator_with(vec![]);
    let mut cmd = guard(&emu);
    cmd.args(product_flags(PRODUCT))
        .args(["--entitlement", "Premium", "--check"]);
    let (code, _, stderr) = run(&mut cmd);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("--entitlement needs --contract"),
        "{stderr}"
    );
}

#[test]
fn a_seller_issued_licence_verifies_with_its_key_and_a_forged_token_is_65() {
    let mut seller = licence();
    seller.key_fingerprint = Some(SELLER_FINGERPRINT.into());
    let emu = emulator_with(vec![seller]);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("issuer.pem");
    std::fs::write(
        &key,
        emu.license_issuer_public_key(SELLER_FINGERPRINT).unwrap(),
    )
    .unwrap();
    let key = key.display().to_string();
    let wrong = public_key().display().to_string();
    for (key, expected) in [(key.as_str(), 0), (wrong.as_str(), 65)] {
        let (code, _, stderr) = run(&mut contract_guard(
            &guard_binary(),
            &emu,
            &[
                "--entitlement",
                "Premium",
                "--key-fingerprint",
                SELLER_FINGERPRINT,
                "--license-public-key",
                key,
                "--check",
            ],
        ));
        assert_eq!(code, expected, "{key}: {stderr}");
        if expected == 0 {
            assert!(stderr.contains("signed token verified"), "{stderr}");
        }
    }
}
