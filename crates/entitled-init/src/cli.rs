//! The command line: `entitled [OPTIONS] -- COMMAND [ARG...]`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use entitled::KeyVersion;

use crate::contract_flags::contract_options;
pub use crate::contract_flags::{ContractCli, Hold};
use crate::exit::EXIT_CODES;
use crate::flags::{self, Action, Options, FLAGS};
use crate::log::{Format, Logger, Verbosity};
pub use crate::usage::UsageError;

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

/// The default `--deadline`: AWS advises retrying for up to 30 minutes.
pub const DEFAULT_DEADLINE: Duration = entitled::DEFAULT_DEADLINE;
/// The default `--attempt-timeout`.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = entitled::DEFAULT_ATTEMPT_TIMEOUT;

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Parsed, UsageError> {
    let mut options = Options::default();
    let json_asked = asks_for_json(&args);
    match parse_into(&mut options, args) {
        Ok(parsed) => Ok(parsed),
        Err(message) => Err(UsageError {
            message,
            // A log pipeline that asked for JSON gets the error as JSON
            // wherever the flag stood, even after the mistake that stopped
            // parsing.
            format: if json_asked {
                Format::Json
            } else {
                options.format
            },
        }),
    }
}

/// Whether `--log-format json` (or `--log-format=json`) appears among the
/// guard's own arguments: anywhere before a `--`, after which they are
/// COMMAND's.
fn asks_for_json(args: &[OsString]) -> bool {
    let own = args.iter().take_while(|a| *a != "--");
    let mut previous: Option<&OsString> = None;
    for arg in own {
        if arg == "--log-format=json"
            || (previous.is_some_and(|p| p == "--log-format") && arg == "json")
        {
            return true;
        }
        previous = Some(arg);
    }
    false
}

/// Applies each flag's row of [`FLAGS`] until COMMAND starts.
///
/// Every flag may be given once. A task definition whose ENTRYPOINT lacks
/// the closing `--` would otherwise let the buyer's CMD override an earlier
/// `--product-code`; the rule is the same for every flag so that there is
/// nothing to remember about which ones may repeat.
fn parse_into(options: &mut Options, args: Vec<OsString>) -> Result<Parsed, String> {
    let mut parser = lexopt::Parser::from_args(args);
    let mut seen = [false; FLAGS.len()];
    let mut command = Vec::new();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        let found = match &arg {
            lexopt::Arg::Long(long) => flags::by_long(long),
            lexopt::Arg::Short(short) => flags::by_short(*short),
            lexopt::Arg::Value(_) => None,
        };
        let Some((index, flag)) = found else {
            if let lexopt::Arg::Value(first) = arg {
                // COMMAND starts here; everything after it is its own,
                // flags included, taken verbatim.
                command.push(first);
                command.extend(parser.raw_args().map_err(|e| e.to_string())?);
                break;
            }
            return Err(arg.unexpected().to_string());
        };
        let repeatable = matches!(flag.action, Action::Repeated(_));
        if std::mem::replace(&mut seen[index], true) && !repeatable {
            return Err(format!("{} is given twice; give it once", flag.name()));
        }
        match flag.action {
            Action::Help => return Ok(Parsed::Help),
            Action::Version => return Ok(Parsed::Version),
            Action::Switch(switch) => options.turn_on(switch),
            Action::Value(apply) | Action::Repeated(apply) => {
                let value = parser
                    .value()
                    .map_err(|_| format!("{} needs a value", flag.name()))?;
                apply(options, value).map_err(|e| format!("{}: {e}", flag.name()))?;
            }
        }
    }
    finish(options, command)
}

fn finish(options: &mut Options, command: Vec<OsString>) -> Result<Parsed, String> {
    if options.check_only && !command.is_empty() {
        return Err("--check runs no COMMAND; drop the COMMAND or --check".into());
    }
    if options.handoff_file.is_some() && !options.check_only {
        return Err("--handoff-file needs --check: with a COMMAND the guard hands the token to it in ENTITLED_TOKEN and ENTITLED_NONCE; use `entitled --check --handoff-file PATH` in an init container".into());
    }
    if !options.check_only && command.is_empty() {
        return Err("no COMMAND given; put the program to run after `--`, or pass --check".into());
    }
    let contract = contract_options(options)?;
    let verbosity = match (options.quiet, options.verbose) {
        (true, true) => return Err("-q/--quiet and -v/--verbose contradict; give one".into()),
        (true, false) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    Ok(Parsed::Run(Cli {
        product_code: options.product_code.take(),
        public_key: options.public_key.take(),
        public_key_version: options.public_key_version,
        deadline: options.deadline.unwrap_or(DEFAULT_DEADLINE),
        attempt_timeout: options.attempt_timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT),
        check_only: options.check_only,
        handoff_file: options.handoff_file.take(),
        logger: Logger {
            format: options.format,
            verbosity,
        },
        command,
        contract,
    }))
}

/// The `--help` text. The exit codes come from the same table the code uses.
pub fn help() -> String {
    let mut text = format!(
        "entitled {version}: check AWS Marketplace entitlement, then exec the real process

Usage: {synopsis}
Each flag may be given once, except --entitlement.

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
(ECS task role, EKS IRSA), AWS_REGION, AWS_ENDPOINT_URL_MARKETPLACE_METERING,
AWS_ENDPOINT_URL_LICENSE_MANAGER and SSL_CERT_FILE. The product code and key
come only from flags or from values compiled into this binary.
",
        version = env!("CARGO_PKG_VERSION"),
        synopsis = flags::synopsis(),
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
        assert!(help.contains("Each flag may be given once, except --entitlement."));
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
        for flag in FLAGS {
            let spelled = format!("--{}", flag.long);
            let once: Vec<&str> = match flag.action {
                // These end parsing at their first appearance.
                Action::Help | Action::Version => continue,
                // Each value adds one: see `entitlements_repeat_and_contract_excludes_register_usage`.
                Action::Repeated(_) => continue,
                Action::Switch(_) => vec![&spelled],
                Action::Value(_) => {
                    let value = match flag.value_name {
                        "N" => "1",
                        "DURATION" => "1s",
                        "text|json" => "json",
                        "TYPE" => "perpetual",
                        "ACTION" => "warn",
                        _ => "x",
                    };
                    vec![&spelled, value]
                }
            };
            let mut list = once.clone();
            // The one-letter name counts as the same flag.
            let short = flag.short.map(|c| format!("-{c}"));
            match &short {
                Some(short) => list.push(short),
                None => list.extend(&once),
            }
            if spelled != "--check" {
                list.push("--check");
            }
            let message = usage_error(&list);
            assert!(
                message.contains(&format!("{} is given twice; give it once", flag.name())),
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
