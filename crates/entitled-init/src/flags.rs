//! Every flag, defined once: its names, its value, its help line and its
//! parser live in one row of [`FLAGS`]. The parser in `cli.rs` and the
//! `--help` text are both driven by the table, so they cannot drift apart.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use entitled::contract::{CheckoutType, Requested};
use entitled::KeyVersion;

use crate::duration::parse_duration;
use crate::log::Format;

/// What the flags seen so far have set.
#[derive(Debug, Default)]
pub struct Options {
    /// `--product-code`.
    pub product_code: Option<String>,
    /// `--public-key`.
    pub public_key: Option<PathBuf>,
    /// `--public-key-version`.
    pub public_key_version: Option<KeyVersion>,
    /// `--deadline`.
    pub deadline: Option<Duration>,
    /// `--attempt-timeout`.
    pub attempt_timeout: Option<Duration>,
    /// `--log-format`; kept even when a later flag is bad, so the usage
    /// error is written in the format asked for.
    pub format: Format,
    /// `--check`.
    pub check_only: bool,
    /// `--handoff-file`.
    pub handoff_file: Option<PathBuf>,
    /// `-q`/`--quiet`.
    pub quiet: bool,
    /// `-v`/`--verbose`.
    pub verbose: bool,
    /// `--contract`.
    pub contract: bool,
    /// `--product-sku`.
    pub product_sku: Option<String>,
    /// `--entitlement`, in the order given.
    pub entitlements: Vec<Requested>,
    /// `--checkout-type`.
    pub checkout_type: Option<CheckoutType>,
    /// `--key-fingerprint`.
    pub key_fingerprint: Option<String>,
    /// `--node-id`.
    pub node_id: Option<String>,
    /// `--license-public-key`.
    pub license_public_key: Option<PathBuf>,
    /// `--hold`.
    pub hold: bool,
    /// `--on-loss`: true for `warn`.
    pub on_loss_warn: Option<bool>,
    /// `--grace`.
    pub grace: Option<Duration>,
}

/// What a flag does when it is seen.
pub enum Action {
    /// Takes a value (`--flag VALUE` or `--flag=VALUE`) and stores it; the
    /// error names the problem and the fix, without the flag's name.
    Value(fn(&mut Options, OsString) -> Result<(), String>),
    /// As [`Action::Value`], but may be given more than once; each value adds.
    Repeated(fn(&mut Options, OsString) -> Result<(), String>),
    /// Takes no value; turns a setting on.
    Switch(Switch),
    /// Ends parsing: print the help.
    Help,
    /// Ends parsing: print the version.
    Version,
}

/// The settings a flag without a value turns on. (An enum rather than a
/// function per switch: each function costs unwind-table bytes in a binary
/// that must not grow.)
#[derive(Clone, Copy)]
pub enum Switch {
    /// `--check`.
    CheckOnly,
    /// `-q`/`--quiet`.
    Quiet,
    /// `-v`/`--verbose`.
    Verbose,
    /// `--contract`.
    Contract,
    /// `--hold`.
    Hold,
}

impl Options {
    /// Turns `switch` on.
    pub fn turn_on(&mut self, switch: Switch) {
        *match switch {
            Switch::CheckOnly => &mut self.check_only,
            Switch::Quiet => &mut self.quiet,
            Switch::Verbose => &mut self.verbose,
            Switch::Contract => &mut self.contract,
            Switch::Hold => &mut self.hold,
        } = true;
    }
}

/// One flag.
pub struct Flag {
    /// The long name, without `--`.
    pub long: &'static str,
    /// The one-letter name, if any.
    pub short: Option<char>,
    /// The value's placeholder in the help, for [`Action::Value`] flags.
    pub value_name: &'static str,
    /// The help line.
    pub help: &'static str,
    /// What it does.
    pub action: Action,
}

/// The flags, in the order `--help` lists them.
pub const FLAGS: &[Flag] = &[
    Flag {
        long: "product-code",
        short: None,
        value_name: "CODE",
        help: "the product code from AWS Marketplace",
        action: Action::Value(|o, v| {
            o.product_code = Some(utf8(v)?);
            Ok(())
        }),
    },
    Flag {
        long: "public-key",
        short: None,
        value_name: "PATH",
        help: "the product's public key file from AWS Marketplace: PEM (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\") or DER",
        action: Action::Value(|o, v| {
            o.public_key = Some(PathBuf::from(v));
            Ok(())
        }),
    },
    Flag {
        long: "public-key-version",
        short: None,
        value_name: "N",
        help: "the key's version; default 1",
        action: Action::Value(|o, v| {
            o.public_key_version = Some(parse_key_version(&utf8(v)?)?);
            Ok(())
        }),
    },
    Flag {
        long: "deadline",
        short: None,
        value_name: "DURATION",
        help: "total time for the check, e.g. 500ms, 20s, 5m, 1h; default 30m",
        action: Action::Value(|o, v| {
            o.deadline = Some(parse_duration(&utf8(v)?)?);
            Ok(())
        }),
    },
    Flag {
        long: "attempt-timeout",
        short: None,
        value_name: "DURATION",
        help: "per call; default 10s",
        action: Action::Value(|o, v| {
            o.attempt_timeout = Some(parse_duration(&utf8(v)?)?);
            Ok(())
        }),
    },
    Flag {
        long: "check",
        short: None,
        value_name: "",
        help: "verify, then exit 0 without running a command",
        action: Action::Switch(Switch::CheckOnly),
    },
    Flag {
        long: "handoff-file",
        short: None,
        value_name: "PATH",
        help: "with --check: after a passed check, write the token and nonce to PATH (mode 0600, atomically) for an app container",
        action: Action::Value(|o, v| {
            o.handoff_file = Some(PathBuf::from(v));
            Ok(())
        }),
    },
    Flag {
        long: "contract",
        short: None,
        value_name: "",
        help: "contract pricing: check out from AWS License Manager instead of calling RegisterUsage",
        action: Action::Switch(Switch::Contract),
    },
    Flag {
        long: "product-sku",
        short: None,
        value_name: "ID",
        help: "--contract: the product id from AWS Marketplace (License Manager's ProductSKU)",
        action: Action::Value(|o, v| {
            o.product_sku = Some(utf8(v)?);
            Ok(())
        }),
    },
    Flag {
        long: "entitlement",
        short: None,
        value_name: "SPEC",
        help: "--contract, repeatable: NAME for a tier (ask for every tier), NAME:UNIT:VALUE for counted units such as Seats:Count:1",
        action: Action::Repeated(|o, v| {
            let text = utf8(v)?;
            o.entitlements
                .push(text.parse().map_err(|e| format!("{e}"))?);
            Ok(())
        }),
    },
    Flag {
        long: "checkout-type",
        short: None,
        value_name: "TYPE",
        help: "--contract: provisional (default; checked in at once) or perpetual (draws down on every start)",
        action: Action::Value(|o, v| {
            o.checkout_type = Some(utf8(v)?.parse().map_err(|e| format!("{e}"))?);
            Ok(())
        }),
    },
    Flag {
        long: "key-fingerprint",
        short: None,
        value_name: "FP",
        help: "--contract: the licence issuer's key fingerprint; default AWS Marketplace's",
        action: Action::Value(|o, v| {
            o.key_fingerprint = Some(utf8(v)?);
            Ok(())
        }),
    },
    Flag {
        long: "node-id",
        short: None,
        value_name: "ID",
        help: "--contract: the node id to send; default a fresh random one per checkout",
        action: Action::Value(|o, v| {
            o.node_id = Some(utf8(v)?);
            Ok(())
        }),
    },
    Flag {
        long: "license-public-key",
        short: None,
        value_name: "PATH",
        help: "--contract: a seller-issued licence's issuer public key; the SignedToken must then verify (PS384)",
        action: Action::Value(|o, v| {
            o.license_public_key = Some(PathBuf::from(v));
            Ok(())
        }),
    },
    Flag {
        long: "hold",
        short: None,
        value_name: "",
        help: "--contract: run COMMAND as a supervised child and keep the checkout extended until it exits (floating licences)",
        action: Action::Switch(Switch::Hold),
    },
    Flag {
        long: "on-loss",
        short: None,
        value_name: "ACTION",
        help: "--hold: when the licence is lost, terminate (default: SIGTERM, SIGKILL after --grace, exit 77) or warn",
        action: Action::Value(|o, v| {
            let text = utf8(v)?;
            o.on_loss_warn = Some(match text.as_str() {
                "terminate" => false,
                "warn" => true,
                _ => return Err(format!("{text:?} is not an action; use terminate or warn")),
            });
            Ok(())
        }),
    },
    Flag {
        long: "grace",
        short: None,
        value_name: "DURATION",
        help: "--hold: time between SIGTERM and SIGKILL when the licence is lost; default 30s",
        action: Action::Value(|o, v| {
            o.grace = Some(parse_duration(&utf8(v)?)?);
            Ok(())
        }),
    },
    Flag {
        long: "log-format",
        short: None,
        value_name: "text|json",
        help: "default text; json is one object per line",
        action: Action::Value(|o, v| {
            let text = utf8(v)?;
            o.format = match text.as_str() {
                "text" => Format::Text,
                "json" => Format::Json,
                _ => return Err(format!("{text:?} is not a format; use text or json")),
            };
            Ok(())
        }),
    },
    Flag {
        long: "quiet",
        short: Some('q'),
        value_name: "",
        help: "log errors and the key-rotation warning only",
        action: Action::Switch(Switch::Quiet),
    },
    Flag {
        long: "verbose",
        short: Some('v'),
        value_name: "",
        help: "also log the configuration and the program run",
        action: Action::Switch(Switch::Verbose),
    },
    Flag {
        long: "help",
        short: Some('h'),
        value_name: "",
        help: "print this help",
        action: Action::Help,
    },
    Flag {
        long: "version",
        short: Some('V'),
        value_name: "",
        help: "print the version",
        action: Action::Version,
    },
];

impl Flag {
    /// How errors name the flag: `--deadline`, or `-q/--quiet`.
    pub fn name(&self) -> String {
        match self.short {
            Some(c) => format!("-{c}/--{}", self.long),
            None => format!("--{}", self.long),
        }
    }
}

/// The row of the flag called `--long`.
pub fn by_long(long: &str) -> Option<(usize, &'static Flag)> {
    FLAGS.iter().enumerate().find(|(_, f)| f.long == long)
}

/// The row of the flag called `-short`.
pub fn by_short(short: char) -> Option<(usize, &'static Flag)> {
    FLAGS
        .iter()
        .enumerate()
        .find(|(_, f)| f.short == Some(short))
}

/// The usage line and one help row per flag, as `--help` and the READMEs'
/// "Command-line contract" block show them.
pub fn synopsis() -> String {
    let mut text = String::from("entitled [OPTIONS] -- COMMAND [ARG...]\n");
    for flag in FLAGS {
        // The left column: `--deadline DURATION`, `-q, --quiet`.
        let mut names = match flag.short {
            Some(c) => format!("-{c}, --{}", flag.long),
            None => format!("--{}", flag.long),
        };
        if matches!(flag.action, Action::Value(_) | Action::Repeated(_)) {
            names.push(' ');
            names.push_str(flag.value_name);
        }
        text.push_str(&format!("  {names:<26} {}\n", flag.help));
    }
    text
}

fn utf8(value: OsString) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("{v:?} is not valid UTF-8"))
}

/// The range lives in `KeyVersion` alone; the flag only names the fix.
fn parse_key_version(text: &str) -> Result<KeyVersion, String> {
    text.parse::<KeyVersion>().map_err(|_| {
        format!("{text:?} is not a key version; use the integer (from 1) AWS Marketplace gave with the key")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, flag) in FLAGS.iter().enumerate() {
            assert_eq!(
                by_long(flag.long).map(|(at, _)| at),
                Some(i),
                "--{}",
                flag.long
            );
            if let Some(c) = flag.short {
                assert_eq!(by_short(c).map(|(at, _)| at), Some(i), "-{c}");
            }
        }
    }

    #[test]
    fn every_flag_has_a_help_row() {
        let text = synopsis();
        assert!(text.contains("\n  --deadline DURATION        total time for the check"));
        assert!(text.contains(
            "\n  -q, --quiet                log errors and the key-rotation warning only\n"
        ));
        assert_eq!(text.lines().count(), FLAGS.len() + 1);
    }
}

#[cfg(test)]
mod readme {
    use super::synopsis;

    #[test]
    fn the_readme_flag_blocks_are_the_rendered_help() {
        let block = format!("```\n{}```\n", synopsis());
        let readmes = [
            (
                "crates/entitled-init/README.md",
                include_str!("../README.md"),
            ),
            ("README.md", include_str!("../../../README.md")),
        ];
        for (name, readme) in readmes {
            assert!(
                readme.contains(&block),
                "{name}'s \"Command-line contract\" block must be exactly:\n{block}"
            );
        }
    }
}
