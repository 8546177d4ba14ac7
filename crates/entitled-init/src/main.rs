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

#[cfg(test)]
mod build_check;
mod cli;
mod compiled;
mod duration;
mod exec;
mod exit;
mod flags;
mod handoff_file;
mod log;
mod product;
mod signals;
mod usage;

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
use crate::log::{Level, Logger};
use crate::product::Product;
use crate::signals::SignalState;

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
    // First, before any thread exists: what the program must inherit.
    let mut signals = match SignalState::capture() {
        Ok(state) => state,
        Err(err) => return report_failure(&Logger::default(), &Failure::from(err)),
    };
    let cli = match cli::parse(args.into_iter().skip(1).collect()) {
        Ok(Parsed::Run(cli)) => cli,
        Ok(Parsed::Help) => return print_stdout(&cli::help()),
        Ok(Parsed::Version) => return print_stdout(&version()),
        Err(err) => {
            let logger = Logger {
                format: err.format,
                ..Logger::default()
            };
            return report_failure(&logger, &Failure::Usage(err));
        }
    };
    let logger = cli.logger;
    match guard(cli, &mut signals) {
        Ok(()) => 0,
        Err(failure) => report_failure(&logger, &failure),
    }
}

/// The steps: resolve the product, build the check, run it, report, exec.
/// Returns `Ok` only for a passed `--check`; a passed check otherwise ends
/// in exec and never returns.
fn guard(cli: Cli, signals: &mut SignalState) -> Result<(), Failure> {
    let started = Instant::now();
    let product = product::resolve(&cli, &compiled::COMPILED)?;
    if let Some(path) = &cli.handoff_file {
        // Before any call: a hand-off that cannot be written is a configuration error, and
        // an earlier run's file goes, so a failed check leaves none behind.
        handoff_file::prepare(path).map_err(|e| {
            Failure::Usage(cli::UsageError {
                message: e.to_string(),
                format: cli.logger.format,
            })
        })?;
    }
    let check = build_check(&cli, product)?;
    let stop_fd = signals.install()?;
    let entitlement = run_check(&check, stop_fd)?;
    report_success(&cli.logger, &entitlement, started.elapsed());
    if cli.check_only {
        return match &cli.handoff_file {
            Some(path) => write_handoff_file(&cli.logger, path, &entitlement),
            None => Ok(()),
        };
    }
    hand_off(&cli, signals, &entitlement)
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
    Ok(Check::builder()
        .product_code(product.code)
        .keys(product.keys)
        .key_version(product.key_version)
        .deadline(cli.deadline)
        .attempt_timeout(cli.attempt_timeout)
        .on_retry(move |event: &RetryEvent| report_retry(&logger, event))
        .build()?)
}

/// Runs the check on a single-threaded runtime until it ends or a stop
/// signal arrives, then shuts the runtime down.
fn run_check(check: &Check, stop_fd: OwnedFd) -> Result<Entitlement, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Failure::Setup(format!("async runtime: {e}")))?;
    let outcome = runtime.block_on(async {
        tokio::select! {
            biased;
            // Polled first: a signalfd that cannot be registered fails the
            // start before the check makes any call.
            sig = signals::stopped(stop_fd) => Err(match sig {
                Ok(sig) => Failure::Signal(sig),
                Err(err) => err.into(),
            }),
            result = check.run() => result.map_err(Failure::from),
        }
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    outcome
}

/// Restores the start-up signal state and execs COMMAND with the hand-off
/// variables. Returns only on failure.
fn hand_off(
    cli: &Cli,
    signals: &mut SignalState,
    entitlement: &Entitlement,
) -> Result<(), Failure> {
    let program = cli
        .command
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    cli.logger.log(
        Level::Debug,
        "exec",
        &format!("exec {program:?}"),
        &[("program", Value::from(program.as_str()))],
    );
    if let Some(sig) = signals.restore_for_exec()? {
        return Err(Failure::Signal(sig));
    }
    let handoff = [
        (ENV_TOKEN, entitlement.token()),
        (ENV_NONCE, entitlement.nonce()),
    ];
    Err(exec::exec(&cli.command, &handoff).into())
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
    if let Some(expired) = entitlement.key_rotation() {
        let at = log::rfc3339(expired);
        logger.log(
            Level::Warn,
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
        &format!(
            "attempt {} failed: {}; retrying in {} ms",
            event.attempt,
            event.reason,
            event.delay.as_millis()
        ),
        &[
            ("attempt", Value::from(event.attempt)),
            ("reason", Value::from(event.reason.as_str())),
            ("delay_ms", Value::from(event.delay.as_millis() as u64)),
        ],
    );
}

/// Logs why the guard stops and returns the exit code.
fn report_failure(logger: &Logger, failure: &Failure) -> u8 {
    let code = failure.exit_code();
    logger.log(
        Level::Error,
        "failed",
        &failure.to_string(),
        &[
            ("class", Value::from(failure.class())),
            ("exit_code", Value::from(code)),
        ],
    );
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
