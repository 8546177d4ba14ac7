//! The command line: `entitled [OPTIONS] -- COMMAND [ARG...]`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use entitled::KeyVersion;
pub use entitled_shell::UsageError;
use entitled_shell::{Logger, Request};

use crate::contract_flags::contract_options;
pub use crate::contract_flags::{ContractCli, Hold};
use crate::exit::EXIT_CODES;
use crate::flags::{self, Options, PROGRAM};

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
    pub public_key_version: Option<KeyVersion>,
    /// `--deadline`.
    pub deadline: Duration,
    /// `--attempt-timeout`.
    pub attempt_timeout: Duration,
    /// `--check`: verify, then exit 0.
    pub check_only: bool,
    /// `--handoff-file`: with `--check`, where to write the hand-off after a passed check.
    pub handoff_file: Option<PathBuf>,
    /// `--log-format`, `-q`, `-v`.
    pub logger: Logger,
    /// COMMAND and its arguments, exactly as given.
    pub command: Vec<OsString>,
    /// `--contract` and its flags: check out from License Manager instead.
    pub contract: Option<Box<ContractCli>>,
}

/// How the guard logs before the command line has said otherwise.
pub const DEFAULT_LOGGER: Logger = Logger {
    program: PROGRAM.name,
    format: entitled_shell::Format::Text,
    verbosity: entitled_shell::Verbosity::Normal,
};

/// The default `--deadline`: AWS advises retrying for up to 30 minutes.
pub const DEFAULT_DEADLINE: Duration = entitled::DEFAULT_DEADLINE;
/// The default `--attempt-timeout`.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = entitled::DEFAULT_ATTEMPT_TIMEOUT;

/// Parses the arguments after the program name. The rules every binary
/// shares (a flag given twice, `-q` with `-v`, the error in the format asked
/// for) are the shell's; the guard adds how COMMAND and `--check` combine.
pub fn parse(args: Vec<OsString>) -> Result<Parsed, UsageError> {
    let mut options = Options::default();
    let (format, verbosity, command) = match PROGRAM.parse(&mut options, args)? {
        Request::Help => return Ok(Parsed::Help),
        Request::Version => return Ok(Parsed::Version),
        Request::Run {
            format,
            verbosity,
            command,
        } => (format, verbosity, command),
    };
    let logger = Logger {
        program: PROGRAM.name,
        format,
        verbosity,
    };
    finish(options, logger, command).map_err(|message| PROGRAM.usage_error(format, message))
}

fn finish(mut options: Options, logger: Logger, command: Vec<OsString>) -> Result<Parsed, String> {
    if options.check_only && !command.is_empty() {
        return Err("--check runs no COMMAND; drop the COMMAND or --check".into());
    }
    if options.handoff_file.is_some() && !options.check_only {
        return Err("--handoff-file needs --check: with a COMMAND the guard hands the token to it in ENTITLED_TOKEN and ENTITLED_NONCE; use `entitled --check --handoff-file PATH` in an init container".into());
    }
    if !options.check_only && command.is_empty() {
        return Err("no COMMAND given; put the program to run after `--`, or pass --check".into());
    }
    let contract = contract_options(&mut options, &crate::compiled::COMPILED)?;
    Ok(Parsed::Run(Cli {
        product_code: options.product_code.take(),
        public_key: options.public_key.take(),
        public_key_version: options.public_key_version,
        deadline: options.deadline.unwrap_or(DEFAULT_DEADLINE),
        attempt_timeout: options.attempt_timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT),
        check_only: options.check_only,
        handoff_file: options.handoff_file.take(),
        logger,
        command,
        contract,
    }))
}

/// The `--help` text. The exit codes come from the same table the code uses.
pub fn help() -> String {
    let mut text = format!(
        "entitled {version}: check AWS Marketplace entitlement, then exec the real process

Usage: {synopsis}
{rules}

On success the process execs COMMAND (PATH lookup) with the same PID, its
arguments exactly as given and the environment plus ENTITLED_TOKEN and
ENTITLED_NONCE, which the program can re-verify with entitled::verify_handoff.
With --check --handoff-file PATH (an init container) it writes the same two
variables to PATH instead, for entitled::verify_handoff_from_file.

With --contract it checks out from AWS License Manager instead, checks a
provisional checkout back in at once, and execs COMMAND with
ENTITLED_LICENSE_ARN, ENTITLED_ENTITLEMENTS (NAME or NAME:UNIT:VALUE,
comma-separated) and ENTITLED_LICENSE_TOKEN.

The environment is read only for AWS's standard variables: credentials
(ECS task role, EKS IRSA; with --contract outside AWS, a licence token:
AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE or AWS_LICENSE_ACCESS_FILE, and
AWS_ROLE_ARN), AWS_REGION, AWS_ENDPOINT_URL_MARKETPLACE_METERING,
AWS_ENDPOINT_URL_LICENSE_MANAGER, AWS_ENDPOINT_URL_STS and SSL_CERT_FILE. The
product code or SKU and the key come only from flags or from values compiled
into this binary.
",
        version = env!("CARGO_PKG_VERSION"),
        synopsis = flags::synopsis(),
        rules = entitled_shell::COMMON_FLAGS_HELP_LINE,
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
    use entitled_shell::{Format, Verbosity};

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
        assert_eq!(cli.public_key_version.map(KeyVersion::get), Some(2));
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
        let help = help();
        assert!(help.contains("  77       customer not entitled"));
        assert!(help.contains(&crate::flags::synopsis()));
        assert!(help.contains("Each flag may be given once"));
    }

    #[test]
    fn bad_command_lines_are_refused() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "no COMMAND"),
            (&["--product-code", "p"], "no COMMAND"),
            (&["--check", "--", "app"], "--check runs no COMMAND"),
            (
                &["--handoff-file", "/tmp/h", "--", "app"],
                "--handoff-file needs --check",
            ),
            (
                &["--handoff-file", "a", "--handoff-file", "a", "--check"],
                "twice",
            ),
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
                "--log-format is given twice",
            ),
            (&["--check", "--check"], "--check is given twice"),
            (&["-q", "-q", "--check"], "-q/--quiet is given twice"),
            (&["-q", "--quiet", "--check"], "-q/--quiet is given twice"),
            (&["-vv", "--check"], "-v/--verbose is given twice"),
            (
                &["--verbose", "-v", "--check"],
                "-v/--verbose is given twice",
            ),
            (&["-q", "-v", "--check"], "contradict"),
            (
                &[
                    "--public-key-version",
                    "1",
                    "--public-key-version=1",
                    "--check",
                ],
                "twice",
            ),
            (
                &["--deadline", "1s", "--deadline", "1s", "--check"],
                "twice",
            ),
            (
                &[
                    "--attempt-timeout",
                    "1s",
                    "--attempt-timeout",
                    "1s",
                    "--check",
                ],
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
    fn entitlements_repeat_and_contract_excludes_register_usage() {
        let cli = run(&[
            "--contract",
            "--product-sku",
            "prod-1",
            "--entitlement",
            "Basic",
            "--entitlement",
            "Seats:Count:2",
            "--checkout-type",
            "perpetual",
            "--check",
        ]);
        let contract = cli.contract.expect("contract mode");
        let asked: Vec<String> = contract
            .entitlements
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(asked, ["Basic", "Seats:Count:2"]);
        assert_eq!(
            contract.checkout_type,
            entitled::contract::CheckoutType::Perpetual
        );
        assert!(run(&["--product-code", "p", "--check"]).contract.is_none());
        let held = run(&[
            "--contract",
            "--product-sku",
            "s",
            "--entitlement",
            "A",
            "--hold",
            "--on-loss",
            "warn",
            "--grace",
            "2s",
            "--",
            "x",
        ]);
        let hold = held.contract.unwrap().hold.expect("--hold");
        assert!(hold.warn_only);
        assert_eq!(hold.grace, Duration::from_secs(2));
        let cases: &[(&[&str], &str)] = &[
            (
                &[
                    "--contract",
                    "--product-sku",
                    "s",
                    "--entitlement",
                    "A",
                    "--product-code",
                    "p",
                    "--check",
                ],
                "--contract and --product-code exclude each other",
            ),
            (
                &[
                    "--contract",
                    "--product-sku",
                    "s",
                    "--entitlement",
                    "A",
                    "--public-key",
                    "k",
                    "--check",
                ],
                "--contract and --public-key exclude each other",
            ),
            (
                &["--product-code", "p", "--product-sku", "s", "--check"],
                "--product-sku needs --contract",
            ),
            (
                &["--contract", "--entitlement", "A", "--check"],
                "--product-sku",
            ),
            (
                &["--contract", "--product-sku", "s", "--check"],
                "at least one --entitlement",
            ),
            (
                &[
                    "--contract",
                    "--product-sku",
                    "s",
                    "--entitlement",
                    "Seats:None:1",
                    "--check",
                ],
                "a tier is NAME alone",
            ),
            (
                &[
                    "--contract",
                    "--product-sku",
                    "s",
                    "--entitlement",
                    "A",
                    "--checkout-type",
                    "x",
                    "--check",
                ],
                "neither provisional nor perpetual",
            ),
        ];
        for (list, needle) in cases {
            let message = usage_error(list);
            assert!(message.contains(needle), "{list:?}: {message}");
        }
    }

    #[test]
    fn every_flag_given_twice_is_refused() {
        for flag in flags::FLAGS {
            // Each value adds one: see `entitlements_repeat_and_contract_excludes_register_usage`.
            if flag.repeat == entitled_shell::Repeat::Many {
                continue;
            }
            let once: Vec<&str> = match flag.value {
                None => vec![flag.long],
                Some(name) => {
                    let value = match name {
                        "N" => "1",
                        "DURATION" => "1s",
                        "TYPE" => "perpetual",
                        "ACTION" => "warn",
                        _ => "x",
                    };
                    vec![flag.long, value]
                }
            };
            let mut list = once.clone();
            list.extend(&once);
            if flag.long != "--check" {
                list.push("--check");
            }
            let message = usage_error(&list);
            assert!(
                message.contains(&format!("{} is given twice; give it once", flag.long)),
                "{list:?}: {message}"
            );
        }
    }

    #[test]
    fn usage_errors_are_json_wherever_the_flag_stands() {
        for list in [
            &["--log-format", "json", "--bogus"][..],
            &["--bogus", "--log-format", "json"],
            &["--deadline", "x", "--log-format=json", "--check"],
            &["-q", "-v", "--log-format", "json", "--check"],
        ] {
            let err = parse(args(list)).unwrap_err();
            assert_eq!(err.format, Format::Json, "{list:?}");
        }
        // After `--` the words are COMMAND's, and a bad format is no format.
        for list in [
            &["--bogus", "--", "app", "--log-format", "json"][..],
            &["--bogus", "--log-format", "xml"],
            &["--bogus", "json"],
        ] {
            let err = parse(args(list)).unwrap_err();
            assert_eq!(err.format, Format::Text, "{list:?}");
        }
    }
}
