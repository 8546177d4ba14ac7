//! The command line, from one table: each flag's names, value, help line and
//! parser live in one row of [`FLAGS`]. The shared shell (`entitled-shell`)
//! parses by it, adds the flags every binary has (`--log-format`, `-q`,
//! `-v`, `-h`, `-V`) and renders `--help` from both; a test holds the
//! README's block to the rendering.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use entitled_shell::{parse_duration, Flag, Logger, Program, Repeat, Request, UsageError};

/// The default `--listen`: loopback on the port the client examples
/// (`examples/meter/`) and the image's `EXPOSE` use, so an app that is given no address
/// finds the sidecar.
pub const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9464);

/// Where to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// TCP.
    Tcp(SocketAddr),
    /// A Unix socket, for ECS tasks in bridge mode where containers share no loopback.
    Unix(PathBuf),
}

/// What the flags seen so far have set.
#[derive(Debug, Default)]
pub struct Options {
    product_code: Option<String>,
    dimensions: Vec<String>,
    journal: Option<PathBuf>,
    listen: Option<Listen>,
    shutdown_timeout: Option<Duration>,
}

/// A run's settings.
#[derive(Debug)]
pub struct Args {
    /// `--product-code`.
    pub product_code: String,
    /// `--dimension`, in the order given.
    pub dimensions: Vec<String>,
    /// `--journal`.
    pub journal: PathBuf,
    /// `--listen`.
    pub listen: Listen,
    /// `--shutdown-timeout`.
    pub shutdown_timeout: Duration,
    /// `--log-format`, `-q`, `-v`.
    pub logger: Logger,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Meter.
    Run(Args),
    /// `-h`/`--help`.
    Help,
    /// `-V`/`--version`.
    Version,
}

/// MeterUsage takes up to 24 dimensions per product.
const MAX_DIMENSIONS: usize = 24;

/// The sidecar's command line.
pub const PROGRAM: Program<Options> = Program {
    name: "entitled-meter",
    flags: FLAGS,
    quiet_help: "log errors only",
    verbose_help: "also log each report",
    takes_command: false,
};

/// The sidecar's own flags, in the order `--help` lists them.
pub const FLAGS: &[Flag<Options>] = &[
    Flag {
        long: "--product-code",
        short: None,
        value: Some("CODE"),
        help: "the product code AWS Marketplace gave the product",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.product_code = Some(v);
            Ok(())
        },
    },
    Flag {
        long: "--dimension",
        short: None,
        value: Some("NAME"),
        help: "a pricing dimension (repeatable, each once, up to 24)",
        repeat: Repeat::Many,
        apply: |o, v| {
            if o.dimensions.contains(&v) {
                return Err(format!("{v:?} is given twice; give each dimension once"));
            }
            if o.dimensions.len() == MAX_DIMENSIONS {
                return Err(format!(
                    "more than {MAX_DIMENSIONS} dimensions; MeterUsage takes at most {MAX_DIMENSIONS}"
                ));
            }
            o.dimensions.push(v);
            Ok(())
        },
    },
    Flag {
        long: "--journal",
        short: None,
        value: Some("DIR"),
        help: "where records are kept until reported (an emptyDir or task volume)",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.journal = Some(PathBuf::from(v));
            Ok(())
        },
    },
    Flag {
        long: "--listen",
        short: None,
        value: Some("ADDR|unix:PATH"),
        help: "where to serve HTTP; default 127.0.0.1:9464",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.listen =
                Some(match v.strip_prefix("unix:") {
                    Some(path) if !path.is_empty() => Listen::Unix(PathBuf::from(path)),
                    _ => Listen::Tcp(v.parse().map_err(|_| {
                        format!("{v:?}: give IP:PORT (127.0.0.1:8080) or unix:PATH")
                    })?),
                });
            Ok(())
        },
    },
    Flag {
        long: "--shutdown-timeout",
        short: None,
        value: Some("DURATION"),
        help: "how long SIGTERM may take to report what is pending; default 25s",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.shutdown_timeout = Some(parse_duration(&v)?);
            Ok(())
        },
    },
];

/// The usage line and one help row per flag, as `--help` and the README's
/// block show them.
pub fn synopsis() -> String {
    format!("entitled-meter [OPTIONS]\n{}", PROGRAM.render_flags())
}

/// The `--help` text.
pub fn help() -> String {
    format!(
        "entitled-meter {version}: meter AWS Marketplace container usage

Usage: {synopsis}
{rules}

POST /v1/usage records usage, which is reported with MeterUsage once per dimension per
hour, signed with the task role (ECS) or IRSA (EKS).
Endpoints: POST /v1/usage, GET /v1/status, GET /metrics.

Exit codes: 0 clean shutdown, nothing pending; 64 usage; 75 shutdown timeout with records
left in the journal; 77 not entitled; 78 rejected or misconfigured (no Region, credentials).
",
        version = env!("CARGO_PKG_VERSION"),
        synopsis = synopsis(),
        rules = entitled_shell::COMMON_FLAGS_HELP_LINE,
    )
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Command, UsageError> {
    let mut options = Options::default();
    let (format, verbosity) = match PROGRAM.parse(&mut options, args)? {
        Request::Help => return Ok(Command::Help),
        Request::Version => return Ok(Command::Version),
        Request::Run {
            format, verbosity, ..
        } => (format, verbosity),
    };
    let logger = Logger {
        program: PROGRAM.name,
        format,
        verbosity,
    };
    finish(options, logger).map_err(|message| PROGRAM.usage_error(format, message))
}

fn finish(options: Options, logger: Logger) -> Result<Command, String> {
    let product_code = options.product_code.ok_or(
        "--product-code is required; give the product code AWS Marketplace gave the product",
    )?;
    if options.dimensions.is_empty() {
        return Err("--dimension is required; give each pricing dimension of the product".into());
    }
    let journal = options
        .journal
        .ok_or("--journal is required; give a directory that survives container restarts")?;
    Ok(Command::Run(Args {
        product_code,
        dimensions: options.dimensions,
        journal,
        listen: options
            .listen
            .unwrap_or(Listen::Tcp(SocketAddr::from(DEFAULT_LISTEN))),
        shutdown_timeout: options
            .shutdown_timeout
            .unwrap_or(entitled::meter::DEFAULT_SHUTDOWN_TIMEOUT),
        logger,
    }))
}

#[cfg(test)]
mod tests;
