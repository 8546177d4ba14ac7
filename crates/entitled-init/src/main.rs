//! `entitled`: check AWS Marketplace entitlement, then exec the real process.
//!
//! ```text
//! ENTRYPOINT ["/entitled", "--product-code", "prod-abc123", "--public-key", "/etc/entitled/key.pem", "--"]
//! CMD ["/app/server", "--port", "8080"]
//! ```
//!
//! The binary is a thin layer over the `entitled` library: it parses flags,
//! runs the check, maps the outcome to an exit code and execs. See the
//! crate README for the contract.
//!
//! The entry point is a plain C `main`, not Rust's: the Rust runtime sets
//! SIGPIPE to ignored before `main`, and an ignored disposition survives
//! exec, so the program would not see the SIGPIPE disposition the guard was
//! started with.

#![cfg_attr(not(test), no_main)]
// Under `cargo test` the C entry point is compiled out and the harness's
// main is used, so the run path is unreferenced there.
#![cfg_attr(test, allow(dead_code))]

mod cli;
mod compiled;
mod contract;
mod contract_flags;
mod exec;
mod exit;
mod flags;
mod handoff_file;
mod hold;
mod product;
mod signals;
mod stdio;

use std::ffi::{CStr, OsStr, OsString};
use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use entitled::{Check, Entitlement, RetryEvent, ENV_NONCE, ENV_TOKEN};
use libc::{c_char, c_int};
use serde_json::Value;

use crate::cli::{Cli, Parsed};
use crate::exit::Failure;
use crate::product::Product;
use crate::signals::SignalState;
use entitled_shell::{Level, Logger};

/// musl's allocator maps and unmaps memory for nearly every burst of
/// allocations (109 mmap and 61 munmap calls in one check); dlmalloc keeps
/// what it maps. Measured with hyperfine, 200 runs against the emulator:
/// `--check` 4.6 ms with musl's malloc, 4.0 ms with dlmalloc, for 9 KiB.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// How long shutting the runtime down may take. A DNS lookup stuck in the
/// blocking pool must not delay the exec or the exit: those threads end
/// with the process image anyway.
const RUNTIME_SHUTDOWN: Duration = Duration::from_millis(250);

/// How long past the deadline the check may take to report on its own
/// before the guard gives up on it as stalled.
const STALL_GRACE: Duration = Duration::from_secs(1);

/// The C entry point, called by the C runtime with `argc` valid pointers in
/// `argv`.
#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes `argc` NUL-terminated strings in `argv`,
    // alive for the whole process.
    let args = unsafe { args_from_c(argc, argv) };
    c_int::from(run(args))
}

/// Copies the C argv. Under `no_main` std::env::args() is empty on musl, so
/// the arguments are read from here, byte for byte.
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings (or end early at NULL).
unsafe fn args_from_c(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
    let count = usize::try_from(argc).unwrap_or(0);
    let mut args = Vec::with_capacity(count);
    if argv.is_null() {
        return args;
    }
    for i in 0..count {
        // SAFETY: i < argc, and the caller promises argc valid entries.
        let arg = unsafe { *argv.add(i) };
        if arg.is_null() {
            break;
        }
        // SAFETY: a non-NULL argv entry is a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(arg) }.to_bytes();
        args.push(OsStr::from_bytes(bytes).to_owned());
    }
    args
}

/// Runs the guard; returns the exit code if it does not exec.
fn run(args: Vec<OsString>) -> u8 {
    // Before anything is opened: a closed standard descriptor must not be
    // taken by a key file or a socket that log lines would then be written to.
    stdio::hold_closed_standard_fds();
    // First, before any thread exists: what the program must inherit.
    let mut signals = match SignalState::capture() {
        Ok(state) => state,
        Err(err) => return report_failure(&cli::DEFAULT_LOGGER, &Failure::from(err), None),
    };
    let cli = match cli::parse(args.into_iter().skip(1).collect()) {
        Ok(Parsed::Run(cli)) => cli,
        Ok(Parsed::Help) => return print_stdout(&cli::help()),
        Ok(Parsed::Version) => return print_stdout(&version()),
        Err(err) => {
            let logger = Logger {
                format: err.format,
                ..cli::DEFAULT_LOGGER
            };
            return report_failure(&logger, &Failure::Usage(err), None);
        }
    };
    let logger = cli.logger;
    let subject = product::subject(&cli, &compiled::COMPILED);
    match guard(cli, &mut signals) {
        Ok(code) => code,
        Err(failure) => report_failure(&logger, &failure, Some(&subject)),
    }
}

/// The steps: resolve the product, build the check, run it, report, exec.
/// Returns `Ok` only for a passed `--check` (0) or a held COMMAND's exit
/// (its code); a passed check otherwise ends in exec and never returns.
fn guard(cli: Cli, signals: &mut SignalState) -> Result<u8, Failure> {
    if let Some(flags) = &cli.contract {
        return contract::guard(&cli, flags, signals);
    }
    let started = Instant::now();
    let product = product::resolve(&cli, &compiled::COMPILED)?;
    if let Some(path) = &cli.handoff_file {
        // Before any call: a hand-off that cannot be written is a configuration error, and
        // an earlier run's file goes, so a failed check leaves none behind.
        handoff_file::prepare(path).map_err(|e| {
            Failure::Usage(flags::PROGRAM.usage_error(cli.logger.format, e.to_string()))
        })?;
    }
    let check = build_check(&cli, product)?;
    let stop_fd = signals.install()?;
    let entitlement = run_check(&check, stop_fd, cli.deadline)?;
    report_success(&cli.logger, &entitlement, started.elapsed());
    if cli.check_only {
        return match &cli.handoff_file {
            Some(path) => write_handoff_file(&cli.logger, path, &entitlement).map(|()| 0),
            None => Ok(0),
        };
    }
    let handoff = [
        (ENV_TOKEN, entitlement.token()),
        (ENV_NONCE, entitlement.nonce()),
    ];
    hand_off(&cli, signals, &handoff).map(|()| 0)
}

fn build_check(cli: &Cli, product: Product) -> Result<Check, Failure> {
    let logger = cli.logger;
    logger.log(
        Level::Debug,
        "config",
        &format!(
            "checking product {} with public key version {} (deadline {} ms, attempt timeout {} ms)",
            product.code,
            product.key_version,
            cli.deadline.as_millis(),
            cli.attempt_timeout.as_millis()
        ),
        &[
            ("product_code", Value::from(product.code.as_str())),
            ("key_version", Value::from(product.key_version.get())),
            ("deadline_ms", Value::from(cli.deadline.as_millis() as u64)),
            ("attempt_timeout_ms", Value::from(cli.attempt_timeout.as_millis() as u64)),
        ],
    );
    let builder = if compiled::COMPILED.locked {
        Check::builder().locked()
    } else {
        Check::builder()
    };
    Ok(builder
        .product_code(product.code)
        .keys(product.keys)
        .key_version(product.key_version)
        .deadline(cli.deadline)
        .attempt_timeout(cli.attempt_timeout)
        .on_retry(move |event: &RetryEvent| report_retry(&logger, event))
        .on_warning(move |warning: &entitled::Warning| {
            logger.log(Level::Warn, "skipped", &warning.to_string(), &[])
        })
        .build()?)
}

/// Runs the check on its own thread until it ends, a stop signal arrives or
/// the deadline (plus [`STALL_GRACE`]) passes, and shuts the runtime down.
///
/// The check runs on a thread of its own because aws-config reads profile
/// and token files with a blocking `read`: a file on a hung network mount,
/// or a FIFO named inside a profile, would otherwise hold the one thread
/// that also waits for SIGTERM. Here that thread only waits. A check thread
/// still stuck when the guard exits ends with the process.
fn run_check(check: &Check, stop_fd: OwnedFd, deadline: Duration) -> Result<Entitlement, Failure> {
    let check = check.clone();
    run_job(async move { check.run().await }, stop_fd, deadline)
}

/// Runs `job` as [`run_check`] runs the check.
fn run_job<T, F>(job: F, stop_fd: OwnedFd, deadline: Duration) -> Result<T, Failure>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, entitled::CheckError>> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Failure::Setup(format!("async runtime: {e}")))?;
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("check".into())
        .spawn(move || {
            let built = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build();
            match built {
                Ok(runtime) => {
                    let outcome = runtime.block_on(job);
                    let _ = done.send(Ok(outcome));
                    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
                }
                Err(e) => {
                    let _ = done.send(Err(e));
                }
            }
        })
        .map_err(|e| Failure::Setup(format!("check thread: {e}")))?;
    let outcome = runtime.block_on(async {
        tokio::select! {
            biased;
            // Polled first: a signalfd that cannot be registered fails the
            // start before the check makes any call.
            sig = signals::stopped(stop_fd) => Err(match sig {
                Ok(sig) => Failure::Signal(sig),
                Err(err) => err.into(),
            }),
            result = result => match result {
                Ok(Ok(outcome)) => outcome.map_err(Failure::from),
                Ok(Err(e)) => Err(Failure::Setup(format!("async runtime: {e}"))),
                Err(_) => Err(Failure::Setup("the check thread ended without a result".into())),
            },
            () = tokio::time::sleep(deadline + STALL_GRACE) => Err(Failure::Stalled(deadline)),
        }
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    outcome
}

/// Restores the start-up signal state and execs COMMAND with the hand-off
/// variables. Returns only on failure.
fn hand_off(cli: &Cli, signals: &mut SignalState, handoff: &[(&str, &str)]) -> Result<(), Failure> {
    let program = cli
        .command
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    cli.logger.log(
        Level::Debug,
        "exec",
        &format!("exec {program:?}"),
        &[("command", Value::from(program.as_str()))],
    );
    if let Some(sig) = signals.restore_for_exec()? {
        return Err(Failure::Signal(sig));
    }
    let failed = exec::exec(&cli.command, handoff);
    signals.after_failed_exec()?;
    Err(failed.into())
}

/// `--check --handoff-file`: the passed check's token and nonce, for an app container.
fn write_handoff_file(
    logger: &Logger,
    path: &std::path::Path,
    entitlement: &Entitlement,
) -> Result<(), Failure> {
    let handoff = entitled::Handoff {
        token: entitlement.token().to_owned(),
        nonce: entitlement.nonce().to_owned(),
    };
    handoff_file::write(path, &handoff)?;
    logger.log(
        Level::Debug,
        "handoff_file",
        &format!("wrote the hand-off to {}", path.display()),
        &[("path", Value::from(path.display().to_string()))],
    );
    Ok(())
}

fn report_success(logger: &Logger, entitlement: &Entitlement, elapsed: Duration) {
    logger.log(
        Level::Info,
        "entitled",
        &format!(
            "check passed for product {} (public key version {}, {} attempt(s), {} ms)",
            entitlement.product_code(),
            entitlement.key_version(),
            entitlement.attempts(),
            elapsed.as_millis()
        ),
        &[
            ("product_code", Value::from(entitlement.product_code())),
            ("key_version", Value::from(entitlement.key_version())),
            ("attempts", Value::from(entitlement.attempts())),
            ("elapsed_ms", Value::from(elapsed.as_millis() as u64)),
        ],
    );
    if let Some(at) = entitlement.key_rotation_rfc3339() {
        logger.log(
            Level::Urgent,
            "key_rotation",
            &format!(
                "public key version {} of product {} expired at {at} (PublicKeyRotationTimestamp); ship the new public key and key version from AWS Marketplace in your next release",
                entitlement.key_version(),
                entitlement.product_code()
            ),
            &[
                ("product_code", Value::from(entitlement.product_code())),
                ("key_version", Value::from(entitlement.key_version())),
                ("expired_at", Value::from(at.as_str())),
            ],
        );
    }
}

fn report_retry(logger: &Logger, event: &RetryEvent) {
    logger.log(
        Level::Warn,
        "retry",
        &event.to_string(),
        &[
            ("attempt", Value::from(event.attempt)),
            ("reason", Value::from(event.reason.as_str())),
            ("cause", Value::from(event.cause.cause.code())),
            ("endpoint", Value::from(endpoint_code(event.cause.endpoint))),
            ("delay_ms", Value::from(event.delay.as_millis() as u64)),
            ("no_time_left", Value::from(event.no_time_left)),
        ],
    );
}

/// A stable name for an endpoint, for structured logs.
fn endpoint_code(endpoint: entitled::Endpoint) -> &'static str {
    match endpoint {
        entitled::Endpoint::Metering => "metering",
        entitled::Endpoint::Credentials => "credentials",
        entitled::Endpoint::LicenseManager => "license_manager",
        _ => "region",
    }
}

/// Logs why the guard stops and returns the exit code. The line names the
/// product and key version checked, as the success line does, once the
/// command line has named them (`subject`).
fn report_failure(logger: &Logger, failure: &Failure, subject: Option<&product::Subject>) -> u8 {
    let mut fields = Vec::new();
    if let Some(subject) = subject {
        if let Some(code) = &subject.product_code {
            fields.push(("product_code", Value::from(code.as_str())));
        }
        fields.push(("key_version", Value::from(subject.key_version)));
    }
    let code = failure.exit_code();
    let message = match failure.flag_note() {
        Some(note) => format!("{failure} ({note})"),
        None => failure.to_string(),
    };
    fields.push(("class", Value::from(failure.class())));
    fields.push(("exit_code", Value::from(code)));
    // The typed cause, so that log pipelines can key failures by it.
    match failure {
        Failure::Check(entitled::CheckError::Rejected { reason, .. }) => {
            fields.push(("reason", Value::from(reason.code().as_ref())));
        }
        Failure::Check(entitled::CheckError::Unavailable { last, .. }) => {
            fields.push(("cause", Value::from(last.cause.code())));
            fields.push(("endpoint", Value::from(endpoint_code(last.endpoint))));
        }
        _ => {}
    }
    logger.log(Level::Error, "failed", &message, &fields);
    code
}

fn version() -> String {
    let compiled = compiled::describe();
    if compiled.is_empty() {
        format!("entitled {}\n", env!("CARGO_PKG_VERSION"))
    } else {
        format!("entitled {} ({compiled})\n", env!("CARGO_PKG_VERSION"))
    }
}

/// Help and version go to stdout; a closed stdout is not an error worth a
/// panic.
fn print_stdout(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    0
}
