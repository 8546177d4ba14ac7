//! Contract pricing outside AWS ("Anywhere"): the guard as a subprocess with no task role,
//! only a buyer's licence token file and a role ARN, as the secret
//! `aws-marketplace-license-config` provides them. The token goes through License Manager
//! `GetAccessToken` (unsigned) and STS `AssumeRoleWithWebIdentity`, both on the emulator over
//! loopback, and the checkout is signed with the session credentials.

mod common;

use std::path::Path;
use std::process::Command;

use common::anywhere::*;
use common::*;
use entitled_emulator::{Emulator, Fault, Operation};

/// The guard with only the Anywhere variables (see [`anywhere_env`]).
fn anywhere_guard(binary: &Path, emu: &Emulator, token_file: &Path) -> Command {
    let mut cmd = Command::new(binary);
    anywhere_env(&mut cmd, emu, token_file);
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = output_within(cmd, PATIENCE);
    (
        code(out.status),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each call's operation and the access key it was signed with (`None`: unsigned).
fn operations(emu: &Emulator) -> Vec<(String, Option<String>)> {
    emu.calls()
        .into_iter()
        .map(|c| (c.operation, c.caller))
        .collect()
}

fn chain_checks_out_as_the_buyer(binary: &Path) {
    let (emu, arn) = anywhere_emulator();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("license_token");
    // A trailing newline, as `kubectl create secret --from-file` keeps it.
    std::fs::write(
        &token_file,
        format!("{}\n", licence_token(&emu, &arn, false)),
    )
    .unwrap();
    let (code, stdout, stderr) = run(anywhere_guard(binary, &emu, &token_file).args([
        "--",
        "/bin/sh",
        "-c",
        "printf %s \"$ENTITLED_LICENSE_ARN\"",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, arn);
    let ops = operations(&emu);
    let names: Vec<&str> = ops.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        names,
        [
            "GetAccessToken",
            "AssumeRoleWithWebIdentity",
            "CheckoutLicense",
            "CheckInLicense"
        ],
        "{ops:?}"
    );
    assert_eq!(ops[0].1, None, "GetAccessToken is sent unsigned");
    let checkout = emu
        .calls()
        .into_iter()
        .find(|c| c.operation == "CheckoutLicense")
        .unwrap();
    assert_eq!(checkout.account.as_deref(), Some(BUYER), "as the buyer");
    assert_eq!(
        checkout.role.as_deref(),
        Some(ROLE),
        "with the secret's role"
    );
}

#[test]
fn a_licence_token_file_checks_out_as_the_buyer_in_the_default_region() {
    chain_checks_out_as_the_buyer(&guard_binary());
}

/// The shipped build: static musl, release.
#[test]
fn the_static_guard_takes_a_licence_token_too() {
    chain_checks_out_as_the_buyer(&musl_guard());
}

#[test]
fn the_go_samples_variable_names_the_token_file_too() {
    let (emu, arn) = anywhere_emulator();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("license_token");
    std::fs::write(&token_file, licence_token(&emu, &arn, false)).unwrap();
    let mut cmd = anywhere_guard(&guard_binary(), &emu, &token_file);
    cmd.env_remove("AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE")
        .env("AWS_LICENSE_ACCESS_FILE", &token_file)
        .arg("--check");
    let (code, _, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stderr}");
}

/// Each way the buyer's secret can be wrong: 78, naming the file or role and the secret,
/// and nothing checked out.
#[test]
fn a_missing_expired_or_refused_token_is_78_naming_the_secret() {
    let (emu, arn) = anywhere_emulator();
    let dir = tempfile::tempdir().unwrap();
    let expired = dir.path().join("expired");
    std::fs::write(&expired, licence_token(&emu, &arn, true)).unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let good = dir.path().join("good");
    std::fs::write(&good, licence_token(&emu, &arn, false)).unwrap();
    let missing = dir.path().join("missing");
    type Row<'a> = (&'a str, &'a Path, Option<&'a str>, &'a str);
    let rows: Vec<Row> = vec![
        ("missing file", &missing, Some(ROLE), "missing"),
        ("empty file", &empty, Some(ROLE), "is empty"),
        (
            "expired token",
            &expired,
            Some(ROLE),
            "AuthorizationException",
        ),
        ("no role", &good, None, "AWS_ROLE_ARN is not set"),
        (
            "a role that does not trust License Manager",
            &good,
            Some("arn:aws:iam::555555555555:role/other"),
            "AssumeRoleWithWebIdentity refused it",
        ),
    ];
    for (name, file, role, text) in rows {
        emu.clear_calls();
        let mut cmd = anywhere_guard(&guard_binary(), &emu, file);
        match role {
            Some(role) => cmd.env("AWS_ROLE_ARN", role),
            None => cmd.env_remove("AWS_ROLE_ARN"),
        };
        let (code, _, stderr) = run(cmd.arg("--check"));
        assert_eq!(code, 78, "{name}: {stderr}");
        for want in [
            text,
            "LicenseTokenRefused",
            "aws-marketplace-license-config",
        ] {
            assert!(stderr.contains(want), "{name}: lacks {want:?}: {stderr}");
        }
        assert!(
            !operations(&emu)
                .iter()
                .any(|(op, _)| op == "CheckoutLicense"),
            "{name}: nothing is checked out"
        );
    }
}

/// GetAccessToken busy to the deadline is transient (75), at the credentials endpoint.
#[test]
fn a_busy_get_access_token_is_retried_to_the_deadline() {
    let (emu, arn) = anywhere_emulator();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("license_token");
    std::fs::write(&token_file, licence_token(&emu, &arn, false)).unwrap();
    emu.push_fault_for(
        "*",
        Operation::GetAccessToken,
        Fault::error("ServerInternalException"),
        100_000,
    );
    let mut cmd = anywhere_guard(&guard_binary(), &emu, &token_file);
    let (code, _, stderr) = run(cmd.args(["--deadline", "4s", "--check"]));
    assert_eq!(code, 75, "{stderr}");
    assert!(stderr.contains("GetAccessToken"), "{stderr}");
    let tries = operations(&emu)
        .iter()
        .filter(|(op, _)| op == "GetAccessToken")
        .count();
    assert!(tries >= 2, "retried: {tries}");
}
