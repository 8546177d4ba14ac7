//! `--contract`: check out from AWS License Manager, check a provisional
//! checkout back in at once (the guard cannot extend after exec), and exec
//! with the licence in `ENTITLED_LICENSE_ARN`, `ENTITLED_ENTITLEMENTS` and
//! `ENTITLED_LICENSE_TOKEN`.

use std::time::{Duration, Instant};

use entitled::contract::{Contract, License};
use entitled::{CheckError, PublicKey, RetryEvent};
use serde_json::Value;

use crate::cli::{Cli, ContractCli};
use crate::exit::Failure;
use crate::signals::SignalState;
use entitled_shell::{Level, Logger};

/// The licence's ARN.
pub const ENV_LICENSE_ARN: &str = "ENTITLED_LICENSE_ARN";
/// The allowed entitlements, `NAME` or `NAME:UNIT:VALUE`, comma-separated.
pub const ENV_ENTITLEMENTS: &str = "ENTITLED_ENTITLEMENTS";
/// The answer's signed token.
pub const ENV_LICENSE_TOKEN: &str = "ENTITLED_LICENSE_TOKEN";

/// What a passed checkout leaves for the program.
struct Passed {
    license: License,
    attempts: u32,
}

/// The steps of contract mode: build the checkout, run it (and the check-in),
/// report, then exec or, with `--check`, return.
pub fn guard(cli: &Cli, flags: &ContractCli, signals: &mut SignalState) -> Result<u8, Failure> {
    let started = Instant::now();
    let contract = build(cli, flags)?;
    if flags.hold.is_some() {
        // Before the first thread: every thread inherits the blocked set.
        signals.supervise()?;
    }
    let stop_fd = signals.install()?;
    let logger = cli.logger;
    let deadline_at = started + cli.deadline;
    let check_in = flags.hold.is_none();
    let passed = crate::run_job(
        async move { checkout_and_return(contract, logger, deadline_at, check_in).await },
        stop_fd,
        cli.deadline,
    )?;
    report_success(&cli.logger, &passed, started.elapsed());
    if cli.check_only {
        return Ok(0);
    }
    let entitlements = passed.license.entitlements_text();
    let handoff = [
        (ENV_LICENSE_ARN, passed.license.license_arn()),
        (ENV_ENTITLEMENTS, entitlements.as_str()),
        (ENV_LICENSE_TOKEN, passed.license.signed_token()),
    ];
    if let Some(hold) = flags.hold {
        return crate::hold::run(cli, hold, signals, &passed.license, &handoff);
    }
    crate::hand_off(cli, signals, &handoff).map(|()| 0)
}

fn build(cli: &Cli, flags: &ContractCli) -> Result<Contract, Failure> {
    let logger = cli.logger;
    let asked: Vec<String> = flags.entitlements.iter().map(ToString::to_string).collect();
    logger.log(
        Level::Debug,
        "config",
        &format!(
            "checking out {} of product SKU {} ({}, deadline {} ms, attempt timeout {} ms)",
            asked.join(","),
            flags.product_sku,
            flags.checkout_type,
            cli.deadline.as_millis(),
            cli.attempt_timeout.as_millis()
        ),
        &[
            ("product_sku", Value::from(flags.product_sku.as_str())),
            ("entitlements", Value::from(asked.join(","))),
            ("checkout_type", Value::from(flags.checkout_type.as_str())),
        ],
    );
    let mut builder = Contract::builder();
    if crate::compiled::COMPILED.locked {
        builder = builder.locked();
    }
    let mut builder = builder
        .product_sku(&flags.product_sku)
        .checkout_type(flags.checkout_type)
        .deadline(cli.deadline)
        .attempt_timeout(cli.attempt_timeout)
        .on_retry(move |event: &RetryEvent| crate::report_retry(&logger, event))
        .on_warning(move |warning: &entitled::Warning| {
            logger.log(Level::Warn, "skipped", &warning.to_string(), &[])
        });
    for requested in &flags.entitlements {
        builder = builder.entitlement(requested.clone());
    }
    if let Some(fp) = &flags.key_fingerprint {
        builder = builder.key_fingerprint(fp);
    }
    if let Some(id) = &flags.node_id {
        builder = builder.node_id(id);
    }
    if let Some(path) = &flags.license_public_key {
        builder = builder.issuer_public_key(PublicKey::from_file(path).map_err(CheckError::from)?);
    }
    Ok(builder.build()?)
}

/// Checks out; a provisional checkout is checked back in before exec, since
/// nothing extends it afterwards and a held unit would lock a one-seat buyer
/// out until its time-to-live. A failed check-in never stops the start: the
/// unit returns by itself after the time-to-live.
async fn checkout_and_return(
    contract: Contract,
    logger: Logger,
    deadline_at: Instant,
    check_in: bool,
) -> Result<Passed, CheckError> {
    let license = contract.checkout().await?;
    let attempts = license.attempts();
    if let Some(lease) = license.lease().filter(|_| check_in) {
        let left = deadline_at.saturating_duration_since(Instant::now());
        let returned =
            tokio::time::timeout(left.max(Duration::from_millis(1)), lease.check_in()).await;
        let problem = match returned {
            Ok(Ok(())) => None,
            Ok(Err(err)) => Some(err.to_string()),
            Err(_) => Some("the deadline passed".to_owned()),
        };
        if let Some(problem) = problem {
            logger.log(
                Level::Warn,
                "check_in",
                &format!("the provisional checkout could not be checked in ({problem}); its units return by themselves when it expires"),
                &[("license_arn", Value::from(license.license_arn()))],
            );
        }
    }
    Ok(Passed { license, attempts })
}

fn report_success(logger: &Logger, passed: &Passed, elapsed: Duration) {
    let license = &passed.license;
    let verified = if license.token_verified() {
        "signed token verified"
    } else {
        "signed token not verified: no issuer key"
    };
    logger.log(
        Level::Info,
        "entitled",
        &format!(
            "checkout passed: {} from licence {} ({}, {verified}, {} attempt(s), {} ms)",
            license.entitlements_text(),
            license.license_arn(),
            license.checkout_type(),
            passed.attempts,
            elapsed.as_millis()
        ),
        &[
            ("license_arn", Value::from(license.license_arn())),
            ("entitlements", Value::from(license.entitlements_text())),
            (
                "checkout_type",
                Value::from(license.checkout_type().as_str()),
            ),
            ("token_verified", Value::from(license.token_verified())),
            ("attempts", Value::from(passed.attempts)),
            ("elapsed_ms", Value::from(elapsed.as_millis() as u64)),
        ],
    );
}
