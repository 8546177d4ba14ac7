//! The command line: `entitled [OPTIONS] -- COMMAND [ARG...]`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::exit::EXIT_CODES;
use crate::log::{Format, Logger, Verbosity};

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Check, then exec (or exit 0 with `--check`).
    Run(Cli),
    /// `-h`/`--help`.
    Help,
    /// `-V`/`--version`.
    Version,
}

/// The options of a run.
#[derive(Debug)]
pub struct Cli {
    /// `--product-code`.
    pub product_code: Option<String>,
    /// `--public-key`.
    pub public_key: Option<PathBuf>,
    /// `--public-key-version`.
    pub public_key_version: Option<u32>,
    /// `--deadline`.
    pub deadline: Duration,
    /// `--attempt-timeout`.
    pub attempt_timeout: Duration,
    /// `--check`: verify, then exit 0.
    pub check_only: bool,
    /// `--log-format`, `-q`, `-v`.
    pub logger: Logger,
    /// COMMAND and its arguments, exactly as given.
    pub command: Vec<OsString>,
}

/// A bad command line. Exit 64; no call is made.
#[derive(Debug, thiserror::Error)]
#[error("{message}; see `entitled --help`")]
pub struct UsageError {
    /// What is wrong and how to fix it.
    pub message: String,
    /// The log format asked for before the error, so the error line is
    /// written in it.
    pub format: Format,
}

/// The default `--deadline`: AWS advises retrying for up to 30 minutes.
pub const DEFAULT_DEADLINE: Duration = entitled::DEFAULT_DEADLINE;
/// The default `--attempt-timeout`.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = entitled::DEFAULT_ATTEMPT_TIMEOUT;

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Parsed, UsageError> {
    let mut state = State::default();
    match state.parse(args) {
        Ok(parsed) => Ok(parsed),
        Err(message) => Err(UsageError {
            message,
            format: state.format,
        }),
    }
}

#[derive(Default)]
struct State {
    format: Format,
    product_code: Option<String>,
    public_key: Option<PathBuf>,
    public_key_version: Option<u32>,
    deadline: Option<Duration>,
    attempt_timeout: Option<Duration>,
    log_format_seen: bool,
    check_only: bool,
    verbosity: Option<Verbosity>,
}

/// Refuses a second value for a flag. A task definition whose ENTRYPOINT
/// lacks the closing `--` would otherwise let the buyer's CMD override an
/// earlier `--product-code`.
fn once<T>(slot: &mut Option<T>, flag: &str, value: T) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("{flag} is given twice; give it once"));
    }
    *slot = Some(value);
    Ok(())
}

fn utf8(flag: &str, value: OsString) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("{flag} {v:?} is not valid UTF-8"))
}

impl State {
    fn parse(&mut self, args: Vec<OsString>) -> Result<Parsed, String> {
        use lexopt::prelude::*;

        let mut parser = lexopt::Parser::from_args(args);
        let mut command = Vec::new();
        loop {
            let arg = parser.next().map_err(|e| e.to_string())?;
            let Some(arg) = arg else { break };
            match arg {
                Long("product-code") => {
                    let v = utf8("--product-code", flag_value(&mut parser, "--product-code")?)?;
                    once(&mut self.product_code, "--product-code", v)?;
                }
                Long("public-key") => {
                    let v = PathBuf::from(flag_value(&mut parser, "--public-key")?);
                    once(&mut self.public_key, "--public-key", v)?;
                }
                Long("public-key-version") => {
                    let text = utf8(
                        "--public-key-version",
                        flag_value(&mut parser, "--public-key-version")?,
                    )?;
                    let v = parse_key_version(&text)?;
                    once(&mut self.public_key_version, "--public-key-version", v)?;
                }
                Long("deadline") => {
                    let text = utf8("--deadline", flag_value(&mut parser, "--deadline")?)?;
                    let v = parse_duration(&text).map_err(|e| format!("--deadline: {e}"))?;
                    once(&mut self.deadline, "--deadline", v)?;
                }
                Long("attempt-timeout") => {
                    let text = utf8(
                        "--attempt-timeout",
                        flag_value(&mut parser, "--attempt-timeout")?,
                    )?;
                    let v = parse_duration(&text).map_err(|e| format!("--attempt-timeout: {e}"))?;
                    once(&mut self.attempt_timeout, "--attempt-timeout", v)?;
                }
                Long("log-format") => {
                    let text = utf8("--log-format", flag_value(&mut parser, "--log-format")?)?;
                    if self.log_format_seen {
                        return Err("--log-format is given twice; give it once".into());
                    }
                    self.log_format_seen = true;
                    self.format = match text.as_str() {
                        "text" => Format::Text,
                        "json" => Format::Json,
                        _ => {
                            return Err(format!(
                                "--log-format {text:?} is not a format; use text or json"
                            ))
                        }
                    };
                }
                Long("check") => self.check_only = true,
                Short('q') | Long("quiet") => self.verbosity = Some(Verbosity::Quiet),
                Short('v') | Long("verbose") => self.verbosity = Some(Verbosity::Verbose),
                Short('h') | Long("help") => return Ok(Parsed::Help),
                Short('V') | Long("version") => return Ok(Parsed::Version),
                Value(first) => {
                    // COMMAND starts here; everything after it is its own,
                    // flags included, taken verbatim.
                    command.push(first);
                    command.extend(parser.raw_args().map_err(|e| e.to_string())?);
                    break;
                }
                other => return Err(other.unexpected().to_string()),
            }
        }
        self.finish(command)
    }

    fn finish(&mut self, command: Vec<OsString>) -> Result<Parsed, String> {
        if self.check_only && !command.is_empty() {
            return Err("--check runs no COMMAND; drop the COMMAND or --check".into());
        }
        if !self.check_only && command.is_empty() {
            return Err(
                "no COMMAND given; put the program to run after `--`, or pass --check".into(),
            );
        }
        Ok(Parsed::Run(Cli {
            product_code: self.product_code.take(),
            public_key: self.public_key.take(),
            public_key_version: self.public_key_version,
            deadline: self.deadline.unwrap_or(DEFAULT_DEADLINE),
            attempt_timeout: self.attempt_timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT),
            check_only: self.check_only,
            logger: Logger {
                format: self.format,
                verbosity: self.verbosity.unwrap_or(Verbosity::Normal),
            },
            command,
        }))
    }
}

/// A flag's value, with a message that names the flag when it is missing.
fn flag_value(parser: &mut lexopt::Parser, flag: &str) -> Result<OsString, String> {
    parser.value().map_err(|_| format!("{flag} needs a value"))
}

fn parse_key_version(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(v) if v >= 1 && v <= i32::MAX as u32 => Ok(v),
        _ => Err(format!(
            "--public-key-version {text:?} is not a key version; use the integer (from 1) AWS Marketplace gave with the key"
        )),
    }
}

/// The `--help` text. The exit codes come from the same table the code uses.
pub fn help() -> String {
    let mut text = format!(
        "entitled {version}: check AWS Marketplace entitlement, then exec the real process

Usage: entitled [OPTIONS] -- COMMAND [ARG...]

Options:
  --product-code CODE        the product code from AWS Marketplace
  --public-key PATH          the product's PEM public key (\"BEGIN PUBLIC KEY\") from AWS Marketplace
  --public-key-version N     the key's version; default 1
  --deadline DURATION        total time for the check, e.g. 500ms, 20s, 5m, 1h; default 30m
  --attempt-timeout DURATION per call; default 10s
  --check                    verify, then exit 0 without running a command
  --log-format text|json     default text; json is one object per line
  -q, --quiet                log errors only
  -v, --verbose              also log the configuration and the program run
  -h, --help                 print this help
  -V, --version              print the version

On success the process execs COMMAND (PATH lookup) with the same PID, its
arguments exactly as given and the environment plus ENTITLED_TOKEN and
ENTITLED_NONCE, which the program can re-verify with entitled::verify_handoff.

The environment is read only for AWS's standard variables: credentials
(ECS task role, EKS IRSA), AWS_REGION, AWS_ENDPOINT_URL_MARKETPLACE_METERING
and SSL_CERT_FILE. The product code and key come only from flags or from
values compiled into this binary.
",
        version = env!("CARGO_PKG_VERSION")
    );
    let compiled = crate::compiled::describe();
    if !compiled.is_empty() {
        text.push_str(&format!(
            "\nCompiled in (flags for these are refused): {compiled}\n"
        ));
    }
    text.push_str("\nExit codes:\n");
    for (code, meaning) in EXIT_CODES {
        text.push_str(&format!("  {code:<9}{meaning}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn run(list: &[&str]) -> Cli {
        match parse(args(list)) {
            Ok(Parsed::Run(cli)) => cli,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    fn usage_error(list: &[&str]) -> String {
        match parse(args(list)) {
            Err(e) => e.to_string(),
            Ok(other) => panic!("{list:?} should fail, got {other:?}"),
        }
    }

    #[test]
    fn full_command_line() {
        let cli = run(&[
            "--product-code",
            "prod-1",
            "--public-key",
            "/k.pem",
            "--public-key-version=2",
            "--deadline",
            "5m",
            "--attempt-timeout",
            "500ms",
            "--log-format",
            "json",
            "-v",
            "--",
            "app",
            "--flag",
            "",
            "two words",
        ]);
        assert_eq!(cli.product_code.as_deref(), Some("prod-1"));
        assert_eq!(cli.public_key, Some(PathBuf::from("/k.pem")));
        assert_eq!(cli.public_key_version, Some(2));
        assert_eq!(cli.deadline, Duration::from_secs(300));
        assert_eq!(cli.attempt_timeout, Duration::from_millis(500));
        assert_eq!(cli.logger.format, Format::Json);
        assert_eq!(cli.logger.verbosity, Verbosity::Verbose);
        assert_eq!(cli.command, args(&["app", "--flag", "", "two words"]));
        assert!(!cli.check_only);
    }

    #[test]
    fn defaults() {
        let cli = run(&["--check"]);
        assert!(cli.check_only && cli.command.is_empty());
        assert_eq!(cli.deadline, Duration::from_secs(30 * 60));
        assert_eq!(cli.attempt_timeout, Duration::from_secs(10));
        assert_eq!(cli.public_key_version, None);
        assert_eq!(cli.logger.format, Format::Text);
        assert_eq!(cli.logger.verbosity, Verbosity::Normal);
    }

    #[test]
    fn command_is_taken_verbatim() {
        assert_eq!(run(&["--", "--", "x"]).command, args(&["--", "x"]));
        assert_eq!(
            run(&["--", "-q", "--check"]).command,
            args(&["-q", "--check"])
        );
        // Without `--`, COMMAND starts at the first non-flag, and the rest is its own.
        let cli = run(&["-q", "app", "--product-code", "x", "--"]);
        assert_eq!(cli.command, args(&["app", "--product-code", "x", "--"]));
        assert_eq!(cli.product_code, None);
        assert_eq!(run(&["--", ""]).command, args(&[""]));
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(parse(args(&["-h"])), Ok(Parsed::Help)));
        assert!(matches!(
            parse(args(&["--help", "--bogus"])),
            Ok(Parsed::Help)
        ));
        assert!(matches!(parse(args(&["-V"])), Ok(Parsed::Version)));
        assert!(help().contains("  77       customer not entitled"));
    }

    #[test]
    fn bad_command_lines_are_refused() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "no COMMAND"),
            (&["--product-code", "p"], "no COMMAND"),
            (&["--check", "--", "app"], "--check runs no COMMAND"),
            (&["--bogus", "--", "x"], "--bogus"),
            (&["-x", "--", "x"], "-x"),
            (&["--check=yes"], "--check"),
            (&["--product-code"], "--product-code needs a value"),
            (
                &["--product-code", "a", "--product-code", "b", "--check"],
                "twice",
            ),
            (
                &["--public-key", "a", "--public-key", "a", "--check"],
                "twice",
            ),
            (
                &["--public-key-version", "0", "--check"],
                "not a key version",
            ),
            (
                &["--public-key-version", "x", "--check"],
                "not a key version",
            ),
            (
                &["--public-key-version", "2147483648", "--check"],
                "not a key version",
            ),
            (&["--deadline", "30", "--check"], "--deadline"),
            (&["--deadline", "0s", "--check"], "zero"),
            (&["--attempt-timeout", "1d", "--check"], "--attempt-timeout"),
            (&["--log-format", "xml", "--check"], "text or json"),
            (
                &["--log-format", "json", "--log-format", "json", "--check"],
                "twice",
            ),
        ];
        for (list, needle) in cases {
            let message = usage_error(list);
            assert!(message.contains(needle), "{list:?}: {message}");
            assert!(message.ends_with("see `entitled --help`"), "{message}");
        }
    }

    #[test]
    fn usage_errors_keep_the_log_format_seen() {
        let err = parse(args(&["--log-format", "json", "--bogus"])).unwrap_err();
        assert_eq!(err.format, Format::Json);
        let err = parse(args(&["--bogus", "--log-format", "json"])).unwrap_err();
        assert_eq!(err.format, Format::Text);
    }
}
