//! `entitled-emulator`: run the AWS Marketplace Metering Service emulator as a process.
//! See `entitled-emulator --help`. Its flags, logging and usage rules are the shell all
//! three binaries share (`entitled-shell`).

#![forbid(unsafe_code)]

mod cli;

use std::io::Write as _;
use std::process::ExitCode;

use entitled_emulator::{Emulator, EmulatorError, ADMIN_HELP};
use entitled_shell::{Level, Logger};
use serde_json::Value;

/// The emulator could not start (a bad config file, a port in use): exit 1, as any program
/// that failed; a bad command line is the shell's 64.
const EXIT_START_FAILED: u8 = 1;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(e) => return ExitCode::from(e.report()),
    };
    let (args, logger) = match command {
        cli::Command::Help => {
            print!("{}{ADMIN_HELP}", cli::help());
            return ExitCode::SUCCESS;
        }
        cli::Command::Version => {
            println!("entitled-emulator {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        cli::Command::Run(a, logger) => (a, logger),
    };
    match run(&args, &logger) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logger.log(
                Level::Error,
                "failed",
                &e.to_string(),
                &[("exit_code", Value::from(EXIT_START_FAILED))],
            );
            ExitCode::from(EXIT_START_FAILED)
        }
    }
}

fn run(args: &cli::Args, logger: &Logger) -> Result<(), EmulatorError> {
    let config = cli::to_config(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| EmulatorError::Runtime(e.to_string()))?;
    runtime.block_on(async {
        let emulator = Emulator::start(config).await?;
        write_outputs(&emulator, args)?;
        // Before the announcement: a script may send SIGTERM as soon as it reads the line,
        // and a signal without a handler yet would kill the process instead of stopping it.
        let mut stop = StopSignals::install()?;
        announce(&emulator, args, logger)?;
        stop.wait().await;
        logger.log(Level::Info, "stopping", "shutting down", &[]);
        emulator.shutdown();
        Ok(())
    })
}

/// Writes --ca-out and --public-key-out before announcing, so scripts can read them as soon
/// as the `listening on` line appears.
fn write_outputs(emulator: &Emulator, args: &cli::Args) -> Result<(), EmulatorError> {
    let write = |path: &std::path::Path, text: &str| {
        std::fs::write(path, text).map_err(|source| EmulatorError::File {
            path: path.to_owned(),
            source,
        })
    };
    if let Some(path) = &args.ca_out {
        let Some(ca) = emulator.ca_pem() else {
            return Err(EmulatorError::Config("--ca-out needs --tls".into()));
        };
        write(path, &ca)?;
    }
    if let Some(path) = &args.public_key_out {
        let product = args.first_product();
        let pem = emulator.public_key_pem(product, 1).ok_or_else(|| {
            EmulatorError::Config(format!("product {product} has no version 1 key"))
        })?;
        write(path, &pem)?;
    }
    Ok(())
}

fn announce(emulator: &Emulator, args: &cli::Args, logger: &Logger) -> Result<(), EmulatorError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", emulator.endpoint_url())
        .and_then(|()| out.flush())
        .map_err(|e| EmulatorError::Runtime(format!("writing to stdout: {e}")))?;
    logger.log(
        Level::Info,
        "started",
        &format!(
            "credentials {} / {} (long-term) or ECS-style from {}",
            entitled_emulator::DEFAULT_ACCESS_KEY_ID,
            entitled_emulator::DEFAULT_SECRET_ACCESS_KEY,
            emulator.credentials_url()
        ),
        &[
            ("endpoint", Value::from(emulator.endpoint_url())),
            ("credentials_url", Value::from(emulator.credentials_url())),
        ],
    );
    logger.log(
        Level::Debug,
        "config",
        &format!(
            "serving {} (the first product, whose key --public-key-out writes)",
            args.first_product()
        ),
        &[("product_code", Value::from(args.first_product()))],
    );
    Ok(())
}

/// SIGTERM and SIGINT (Ctrl-C), handled from the moment they are installed.
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Result<StopSignals, EmulatorError> {
        use tokio::signal::unix::{signal, SignalKind};
        let install = |kind| signal(kind).map_err(|e| EmulatorError::Runtime(e.to_string()));
        Ok(StopSignals {
            term: install(SignalKind::terminate())?,
            int: install(SignalKind::interrupt())?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
