//! `entitled-meter`: the metering sidecar. It parses flags, builds an
//! [`entitled::meter::Meter`], serves its HTTP API, and on SIGTERM reports what is pending
//! and exits with a code from the guard's table. Everything else is the library's.

mod cli;
#[path = "../../entitled-init/src/duration.rs"]
mod duration;
mod exit;
mod log;
mod metrics;
mod records;
mod server;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use entitled::meter::Meter;
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{signal, SignalKind};

use cli::{Args, Command, Listen};
use log::Logger;

/// musl's malloc is slow under many small allocations; dlmalloc keeps what it maps (as in the
/// guard).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> ExitCode {
    let args = match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("entitled-meter {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("entitled-meter: {e} (see entitled-meter --help)");
            return ExitCode::from(exit::USAGE);
        }
    };
    let logger = Logger {
        format: args.log_format,
        verbosity: args.verbosity,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            logger.error(&format!("cannot start the runtime: {e}"));
            return ExitCode::from(exit::TEMPFAIL);
        }
    };
    ExitCode::from(runtime.block_on(run(args, logger)))
}

async fn run(args: Args, logger: Logger) -> u8 {
    // Signals first, so a SIGTERM during start-up is not lost.
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            logger.error("cannot install the SIGTERM handler");
            return exit::TEMPFAIL;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.journal) {
        logger.error(&format!(
            "--journal {}: {e}; give a writable directory",
            args.journal.display()
        ));
        return exit::USAGE;
    }
    let mut builder = Meter::builder()
        .product_code(&args.product_code)
        .journal_dir(&args.journal)
        .on_event(move |e| logger.event(e));
    for d in &args.dimensions {
        builder = builder.dimension(d);
    }
    let meter = match builder.build().await {
        Ok(m) => Arc::new(m),
        // A journal that cannot be opened or a missing Region is configuration.
        Err(e) => {
            logger.error(&e.to_string());
            return exit::USAGE;
        }
    };
    let shown = match listen(&args.listen, meter.clone(), logger).await {
        Ok(shown) => shown,
        Err(e) => {
            logger.error(&e);
            return exit::USAGE;
        }
    };
    // The first stdout line, once connections are accepted: scripts wait for it.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {shown}");
    let _ = out.flush();
    logger.info(&format!(
        "metering product {} dimensions {} as {}; journal {}",
        args.product_code,
        args.dimensions.join(","),
        meter.identity(),
        args.journal.display()
    ));
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    logger.info("stopping: reporting what is pending");
    let left = meter.shutdown(args.shutdown_timeout).await;
    let status = meter.status();
    for p in &left {
        logger.error(&format!(
            "left in the journal for a restart: dimension {}, hour {}, quantity {}",
            p.dimension,
            entitled::meter::rfc3339(p.hour),
            p.quantity
        ));
    }
    if let Listen::Unix(path) = &args.listen {
        let _ = std::fs::remove_file(path);
    }
    exit::after_shutdown(&status, &left)
}

/// Binds and starts accepting; returns what to print after `listening on`.
async fn listen(listen: &Listen, meter: Arc<Meter>, logger: Logger) -> Result<String, String> {
    match listen {
        Listen::Tcp(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--listen {addr}: {e}"))?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            tokio::spawn(async move {
                loop {
                    if let Ok((stream, _)) = listener.accept().await {
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(server::serve(stream, meter.clone(), logger));
                    }
                }
            });
            Ok(format!("http://{local}"))
        }
        Listen::Unix(path) => {
            // A socket left by a killed predecessor would make bind fail.
            if std::fs::symlink_metadata(path)
                .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            {
                let _ = std::fs::remove_file(path);
            }
            let listener = UnixListener::bind(path)
                .map_err(|e| format!("--listen unix:{}: {e}", path.display()))?;
            // The app container may run as another user.
            let _ =
                std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o666));
            tokio::spawn(async move {
                loop {
                    if let Ok((stream, _)) = listener.accept().await {
                        tokio::spawn(server::serve(stream, meter.clone(), logger));
                    }
                }
            });
            Ok(format!("unix:{}", path.display()))
        }
    }
}
