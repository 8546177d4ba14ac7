//! The check and the meter take their connection settings from one type, validated and
//! resolved by one set of rules: what one refuses, the other refuses with the same error
//! and exit code. (No Region, which needs the process environment, is held the same for
//! both through the binaries: `crates/entitled-init/tests/shell.rs` and
//! `crates/entitled-meter/tests/shell.rs`.)

use std::time::Duration;

use entitled::meter::{Meter, MeterError};
use entitled::{Check, CheckError, ConfigError};

mod fixtures;
use fixtures::{keys, PRODUCT};

/// A PEM file with a key in it, not a certificate: what a seller passes by mistake.
const NOT_A_CERTIFICATE: &str =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";

fn check_error(builder: entitled::CheckBuilder) -> CheckError {
    match builder.product_code(PRODUCT).keys(keys().clone()).build() {
        Ok(_) => panic!("the check was built"),
        Err(e) => e.into(),
    }
}

async fn meter_error(
    builder: entitled::meter::MeterBuilder,
    journal: &std::path::Path,
) -> MeterError {
    match builder
        .product_code(PRODUCT)
        .dimension("users")
        .journal_dir(journal)
        .build()
        .await
    {
        Ok(_) => panic!("the meter was built"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn extra_roots_without_a_certificate_are_refused_by_both() {
    let journal = tempfile::tempdir().unwrap();
    let check = check_error(Check::builder().extra_root_certificates(NOT_A_CERTIFICATE));
    let meter = meter_error(
        Meter::builder().extra_root_certificates(NOT_A_CERTIFICATE),
        journal.path(),
    )
    .await;
    assert!(
        matches!(check, CheckError::Config(ConfigError::ExtraRoots)),
        "{check}"
    );
    let MeterError::Check(from_meter) = &meter else {
        panic!("{meter:?}")
    };
    assert!(
        matches!(**from_meter, CheckError::Config(ConfigError::ExtraRoots)),
        "{meter}"
    );
    assert_eq!(meter.to_string(), check.to_string());
    assert_eq!((meter.exit_code(), check.exit_code()), (64, 64));
    assert!(
        std::fs::read_dir(journal.path()).unwrap().next().is_none(),
        "refused before the journal is opened"
    );
}

#[tokio::test]
async fn a_zero_attempt_timeout_is_refused_by_both() {
    let journal = tempfile::tempdir().unwrap();
    let check = check_error(Check::builder().attempt_timeout(Duration::ZERO));
    let meter = meter_error(
        Meter::builder().attempt_timeout(Duration::ZERO),
        journal.path(),
    )
    .await;
    assert!(matches!(
        check,
        CheckError::Config(ConfigError::ZeroDuration(_))
    ));
    assert_eq!(meter.to_string(), check.to_string());
    assert_eq!((meter.exit_code(), check.exit_code()), (64, 64));
}
