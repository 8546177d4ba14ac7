//! `entitled-meter`: the metering sidecar. It parses flags, builds an
//! [`entitled::meter::Meter`], serves its HTTP API, and on SIGTERM reports what is pending
//! and exits with a code from the library's errors. Everything else is the library's; the
//! flags, logging and usage rules are the shell all three binaries share.

mod accept;
mod cli;
mod counters;
mod log;
mod metrics;
mod records;
mod server;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use entitled::meter::{Meter, MeterError};
use entitled_shell::{Level, Logger};
use serde_json::Value;
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{signal, SignalKind};

use cli::{Args, Command, Listen};

/// musl's malloc is slow under many small allocations; dlmalloc keeps what it maps (as in the
/// guard).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Configuration that fails before any call: a journal that cannot be opened, a listen
/// address that cannot be bound (sysexits EX_USAGE, as a bad flag).
const EXIT_CONFIG: u8 = entitled_shell::UsageError::EXIT_CODE;
/// The process could not be set up (runtime, signal handlers): try again (EX_TEMPFAIL).
const EXIT_SETUP: u8 = 75;
/// The longest start-up waits for AWS to answer the MeterUsage `DryRun` check; after it the
/// sidecar serves with the status "unknown" and keeps checking in the background.
const VERIFY_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

fn main() -> ExitCode {
    let args = match cli::parse(std::env::args_os().skip(1).collect()) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => return print_stdout(&cli::help()),
        Ok(Command::Version) => {
            return print_stdout(&format!("entitled-meter {}\n", env!("CARGO_PKG_VERSION")))
        }
        Err(e) => return ExitCode::from(e.report()),
    };
    let logger = args.logger;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return failed(
                &logger,
                &format!("cannot start the runtime: {e}"),
                EXIT_SETUP,
            )
        }
    };
    ExitCode::from(runtime.block_on(run(args, logger)))
}

/// Logs why the sidecar stops (event `failed`, with its exit code) and returns the code.
fn failed(logger: &Logger, message: &str, code: u8) -> ExitCode {
    ExitCode::from(fail(logger, message, code, &[]))
}

fn fail(logger: &Logger, message: &str, code: u8, fields: &[(&str, Value)]) -> u8 {
    let mut fields = fields.to_vec();
    fields.push(("exit_code", Value::from(code)));
    logger.log(Level::Error, "failed", message, &fields);
    code
}

async fn run(args: Args, logger: Logger) -> u8 {
    // Signals first, so a SIGTERM during start-up is not lost.
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            return fail(
                &logger,
                "cannot install the SIGTERM handler",
                EXIT_SETUP,
                &[],
            )
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.journal) {
        let message = format!(
            "--journal {}: {e}; give a writable directory",
            args.journal.display()
        );
        return fail(&logger, &message, EXIT_CONFIG, &[]);
    }
    let mut builder = Meter::builder()
        .product_code(args.product_code.as_str())
        .journal_dir(&args.journal)
        .verify_within(VERIFY_WITHIN)
        .on_event(move |e| log::event(&logger, e));
    for d in &args.dimensions {
        builder = builder.dimension(d);
    }
    let meter = match builder.build().await {
        Ok(m) => Arc::new(m),
        Err(e) => return fail(&logger, &e.to_string(), e.exit_code(), &typed_cause(&e)),
    };
    let shown = match listen(&args.listen, meter.clone(), logger).await {
        Ok(shown) => shown,
        Err(e) => return fail(&logger, &e, EXIT_CONFIG, &[]),
    };
    // The first stdout line, once connections are accepted: scripts wait for it.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {shown}");
    let _ = out.flush();
    logger.log(
        Level::Info,
        "started",
        &format!(
            "metering product {} dimensions {} as {}; journal {}",
            args.product_code,
            args.dimensions.join(","),
            meter.identity(),
            args.journal.display()
        ),
        &[
            ("product_code", Value::from(args.product_code.as_str())),
            ("dimensions", Value::from(args.dimensions.clone())),
            ("identity", Value::from(meter.identity())),
            ("listen", Value::from(shown.as_str())),
            ("verification", Value::from(meter.verification().as_str())),
        ],
    );
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    logger.log(
        Level::Info,
        "stopping",
        "stopping: reporting what is pending",
        &[],
    );
    let left = meter.shutdown(args.shutdown_timeout).await;
    let status = meter.status();
    for p in &left {
        let hour = entitled::meter::rfc3339(p.hour);
        logger.log(
            Level::Error,
            "left_in_journal",
            &format!(
                "left in the journal for a restart: dimension {}, hour {hour}, quantity {}",
                p.dimension, p.quantity
            ),
            &[
                ("dimension", Value::from(p.dimension.as_str())),
                ("hour", Value::from(hour.as_str())),
                ("quantity", Value::from(p.quantity)),
            ],
        );
    }
    if let Listen::Unix(path) = &args.listen {
        let _ = std::fs::remove_file(path);
    }
    let code = status.exit_code(&left);
    logger.log(
        Level::Info,
        "stopped",
        &format!("stopped with exit code {code}"),
        &[("exit_code", Value::from(code))],
    );
    code
}

/// The refusal's typed reason, as the guard logs it, so that log pipelines key both alike.
fn typed_cause(err: &MeterError) -> Vec<(&'static str, Value)> {
    match err {
        MeterError::Check(check) => {
            let mut fields = vec![("class", Value::from(check.class()))];
            if let entitled::CheckError::Rejected { reason, .. } = &**check {
                fields.push(("reason", Value::from(reason.code().as_ref())));
            }
            fields
        }
        MeterError::Refused { reason, .. } => vec![
            ("class", Value::from("rejected")),
            ("reason", Value::from(reason.code().as_ref())),
        ],
        _ => vec![("class", Value::from("config"))],
    }
}

/// Binds and starts accepting; returns what to print after `listening on`.
async fn listen(listen: &Listen, meter: Arc<Meter>, logger: Logger) -> Result<String, String> {
    match listen {
        Listen::Tcp(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--listen {addr}: {e}"))?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            let listener = Arc::new(listener);
            let accept = move || {
                let listener = listener.clone();
                async move {
                    let (stream, _) = listener.accept().await?;
                    let _ = stream.set_nodelay(true);
                    Ok(stream)
                }
            };
            tokio::spawn(accept::accept_loop(accept, meter, logger));
            Ok(format!("http://{local}"))
        }
        Listen::Unix(path) => {
            accept::claim_unix_path(path)?;
            let listener = UnixListener::bind(path)
                .map_err(|e| format!("--listen unix:{}: {e}", path.display()))?;
            // The app container may run as another user.
            let _ =
                std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o666));
            let listener = Arc::new(listener);
            let accept = move || {
                let listener = listener.clone();
                async move { listener.accept().await.map(|(stream, _)| stream) }
            };
            tokio::spawn(accept::accept_loop(accept, meter, logger));
            Ok(format!("unix:{}", path.display()))
        }
    }
}

/// Help and version go to stdout; a closed stdout is not an error worth a panic.
fn print_stdout(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    ExitCode::SUCCESS
}
