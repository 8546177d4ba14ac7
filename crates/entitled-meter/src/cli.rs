//! The command line: `entitled-meter --product-code CODE --dimension NAME [--dimension NAME...]
//! --journal DIR [--listen ADDR|unix:PATH] [--shutdown-timeout D] [--log-format text|json]
//! [-q/-v]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::log::{Format, Verbosity};

/// The help text.
pub const USAGE: &str = "\
usage: entitled-meter --product-code CODE --dimension NAME [--dimension NAME...] --journal DIR
                      [--listen ADDR|unix:PATH] [--shutdown-timeout D] [--log-format text|json] [-q|-v]

Meters AWS Marketplace container usage: POST /v1/usage records usage, which is reported with
MeterUsage once per dimension per hour, signed with the task role (ECS) or IRSA (EKS).

  --product-code CODE     the product code AWS Marketplace gave the product
  --dimension NAME        a pricing dimension (repeat, up to 24)
  --journal DIR           where records are kept until reported (an emptyDir or task volume)
  --listen ADDR|unix:PATH where to serve HTTP (default 127.0.0.1:0)
  --shutdown-timeout D    how long SIGTERM may take to report what is pending (default 25s)
  --log-format text|json  log line format on stderr (default text)
  -q, --quiet             log errors only
  -v, --verbose           log every report too
  -h, --help              this text
  -V, --version           the version

Endpoints: POST /v1/usage, GET /v1/status, GET /metrics.
Exit codes: 0 clean shutdown, nothing pending; 64 usage; 75 shutdown timeout with records left
in the journal; 77 not entitled; 78 rejected.";

/// Where to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// TCP.
    Tcp(SocketAddr),
    /// A Unix socket, for ECS tasks in bridge mode where containers share no loopback.
    Unix(PathBuf),
}

/// Parsed arguments.
#[derive(Debug, Clone)]
pub struct Args {
    pub product_code: String,
    pub dimensions: Vec<String>,
    pub journal: PathBuf,
    pub listen: Listen,
    pub shutdown_timeout: Duration,
    pub log_format: Format,
    pub verbosity: Verbosity,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Run(Args),
    Help,
    Version,
}

/// Parses the arguments; the error is a one-line usage message.
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Command, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut product_code = None;
    let mut dimensions = Vec::new();
    let mut journal = None;
    let mut listen = Listen::Tcp(SocketAddr::from(([127, 0, 0, 1], 0)));
    let mut shutdown_timeout = entitled::meter::DEFAULT_SHUTDOWN_TIMEOUT;
    let mut log_format = Format::Text;
    let mut verbosity = Verbosity::Normal;
    let text = |v: std::ffi::OsString, flag: &str| {
        v.into_string()
            .map_err(|_| format!("{flag}: the value is not UTF-8"))
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("product-code") => {
                product_code = Some(text(
                    parser.value().map_err(|e| e.to_string())?,
                    "--product-code",
                )?)
            }
            Long("dimension") => dimensions.push(text(
                parser.value().map_err(|e| e.to_string())?,
                "--dimension",
            )?),
            Long("journal") => {
                journal = Some(PathBuf::from(parser.value().map_err(|e| e.to_string())?))
            }
            Long("listen") => {
                let v = text(parser.value().map_err(|e| e.to_string())?, "--listen")?;
                listen = match v.strip_prefix("unix:") {
                    Some(path) if !path.is_empty() => Listen::Unix(PathBuf::from(path)),
                    _ => Listen::Tcp(v.parse().map_err(|_| {
                        format!("--listen {v:?}: give IP:PORT (127.0.0.1:8080) or unix:PATH")
                    })?),
                };
            }
            Long("shutdown-timeout") => {
                let v = text(
                    parser.value().map_err(|e| e.to_string())?,
                    "--shutdown-timeout",
                )?;
                shutdown_timeout =
                    parse_duration(&v).map_err(|e| format!("--shutdown-timeout: {e}"))?;
            }
            Long("log-format") => {
                let v = text(parser.value().map_err(|e| e.to_string())?, "--log-format")?;
                log_format = match v.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    _ => return Err(format!("--log-format {v:?}: give text or json")),
                };
            }
            Short('q') | Long("quiet") => verbosity = Verbosity::Quiet,
            Short('v') | Long("verbose") => verbosity = Verbosity::Verbose,
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let product_code = product_code.ok_or(
        "--product-code is required; give the product code AWS Marketplace gave the product",
    )?;
    if dimensions.is_empty() {
        return Err("--dimension is required; give each pricing dimension of the product".into());
    }
    let journal = journal
        .ok_or("--journal is required; give a directory that survives container restarts")?;
    Ok(Command::Run(Args {
        product_code,
        dimensions,
        journal,
        listen,
        shutdown_timeout,
        log_format,
        verbosity,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Args, String> {
        match parse(args.iter().map(Into::into))? {
            Command::Run(a) => Ok(a),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn flags_as_the_issue_states_them() {
        let a = run(&[
            "--product-code",
            "p",
            "--dimension",
            "users",
            "--dimension",
            "hosts",
            "--journal",
            "/j",
            "--listen",
            "unix:/run/meter.sock",
            "--shutdown-timeout",
            "10s",
            "--log-format",
            "json",
            "-v",
        ])
        .unwrap();
        assert_eq!(a.dimensions, ["users", "hosts"]);
        assert_eq!(a.listen, Listen::Unix("/run/meter.sock".into()));
        assert_eq!(a.shutdown_timeout, Duration::from_secs(10));
        assert_eq!(
            (a.log_format, a.verbosity),
            (Format::Json, Verbosity::Verbose)
        );
        let d = run(&["--product-code", "p", "--dimension", "u", "--journal", "/j"]).unwrap();
        assert_eq!(d.listen, Listen::Tcp("127.0.0.1:0".parse().unwrap()));
        assert_eq!(d.shutdown_timeout, Duration::from_secs(25));
        for (args, text) in [
            (
                &["--dimension", "u", "--journal", "/j"][..],
                "--product-code is required",
            ),
            (
                &["--product-code", "p", "--journal", "/j"][..],
                "--dimension is required",
            ),
            (
                &["--product-code", "p", "--dimension", "u"][..],
                "--journal is required",
            ),
            (
                &[
                    "--product-code",
                    "p",
                    "--dimension",
                    "u",
                    "--journal",
                    "/j",
                    "--listen",
                    "nowhere",
                ][..],
                "IP:PORT",
            ),
            (
                &[
                    "--product-code",
                    "p",
                    "--dimension",
                    "u",
                    "--journal",
                    "/j",
                    "--log-format",
                    "xml",
                ][..],
                "text or json",
            ),
            (
                &[
                    "--product-code",
                    "p",
                    "--dimension",
                    "u",
                    "--journal",
                    "/j",
                    "--shutdown-timeout",
                    "25",
                ][..],
                "unit",
            ),
        ] {
            let err = run(args).unwrap_err();
            assert!(err.contains(text), "{args:?}: {err}");
        }
    }
}
