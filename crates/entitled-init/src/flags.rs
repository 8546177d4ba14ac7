//! Every flag of the guard, defined once: its names, its value, its help
//! line and its parser live in one row of [`FLAGS`]. The shared shell
//! (`entitled-shell`) parses by the table, adds the flags every binary has
//! (`--log-format`, `-q`, `-v`, `-h`, `-V`) and renders `--help` from both,
//! so parser and help cannot drift apart.

use std::path::PathBuf;
use std::time::Duration;

use entitled::contract::{CheckoutType, Requested};
use entitled::KeyVersion;
use entitled_shell::{parse_duration, Flag, Program, Repeat};

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
    /// `--check`.
    pub check_only: bool,
    /// `--handoff-file`.
    pub handoff_file: Option<PathBuf>,
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

/// The guard's command line: its flags, then COMMAND.
pub const PROGRAM: Program<Options> = Program {
    name: "entitled",
    flags: FLAGS,
    quiet_help: "log errors and the key-rotation warning only",
    verbose_help: "also log the configuration and the program run",
    takes_command: true,
};

/// The guard's own flags, in the order `--help` lists them.
pub const FLAGS: &[Flag<Options>] = &[
    Flag {
        long: "--product-code",
        short: None,
        value: Some("CODE"),
        help: "the product code from AWS Marketplace",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.product_code = Some(v);
            Ok(())
        },
    },
    Flag {
        long: "--public-key",
        short: None,
        value: Some("PATH"),
        help: "the product's public key file from AWS Marketplace: PEM (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\") or DER",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.public_key = Some(PathBuf::from(v));
            Ok(())
        },
    },
    Flag {
        long: "--public-key-version",
        short: None,
        value: Some("N"),
        help: "the key's version; default 1",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.public_key_version = Some(parse_key_version(&v)?);
            Ok(())
        },
    },
    Flag {
        long: "--deadline",
        short: None,
        value: Some("DURATION"),
        help: "total time for the check, e.g. 500ms, 20s, 5m, 1h; default 30m",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.deadline = Some(parse_duration(&v)?);
            Ok(())
        },
    },
    Flag {
        long: "--attempt-timeout",
        short: None,
        value: Some("DURATION"),
        help: "per call; default 10s",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.attempt_timeout = Some(parse_duration(&v)?);
            Ok(())
        },
    },
    Flag {
        long: "--check",
        short: None,
        value: None,
        help: "verify, then exit 0 without running a command",
        repeat: Repeat::Once,
        apply: |o, _| {
            o.check_only = true;
            Ok(())
        },
    },
    Flag {
        long: "--handoff-file",
        short: None,
        value: Some("PATH"),
        help: "with --check: after a passed check, write the token and nonce to PATH (mode 0600, atomically) for an app container",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.handoff_file = Some(PathBuf::from(v));
            Ok(())
        },
    },
    Flag {
        long: "--contract",
        short: None,
        value: None,
        help: "contract pricing: check out from AWS License Manager instead of calling RegisterUsage",
        repeat: Repeat::Once,
        apply: |o, _| {
            o.contract = true;
            Ok(())
        },
    },
    Flag {
        long: "--product-sku",
        short: None,
        value: Some("ID"),
        help: "--contract: the product id from AWS Marketplace (License Manager's ProductSKU)",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.product_sku = Some(v);
            Ok(())
        },
    },
    Flag {
        long: "--entitlement",
        short: None,
        value: Some("SPEC"),
        help: "--contract, repeatable: NAME for a tier (ask for every tier), NAME:UNIT:VALUE for counted units such as Seats:Count:1",
        repeat: Repeat::Many,
        apply: |o, v| {
            o.entitlements.push(v.parse().map_err(|e| format!("{e}"))?);
            Ok(())
        },
    },
    Flag {
        long: "--checkout-type",
        short: None,
        value: Some("TYPE"),
        help: "--contract: provisional (default; checked in at once) or perpetual (draws down on every start)",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.checkout_type = Some(v.parse().map_err(|e| format!("{e}"))?);
            Ok(())
        },
    },
    Flag {
        long: "--key-fingerprint",
        short: None,
        value: Some("FP"),
        help: "--contract: the licence issuer's key fingerprint; default AWS Marketplace's",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.key_fingerprint = Some(v);
            Ok(())
        },
    },
    Flag {
        long: "--node-id",
        short: None,
        value: Some("ID"),
        help: "--contract: the node id to send; default a fresh random one per checkout",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.node_id = Some(v);
            Ok(())
        },
    },
    Flag {
        long: "--license-public-key",
        short: None,
        value: Some("PATH"),
        help: "--contract: a seller-issued licence's issuer public key; the SignedToken must then verify (PS384)",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.license_public_key = Some(PathBuf::from(v));
            Ok(())
        },
    },
    Flag {
        long: "--hold",
        short: None,
        value: None,
        help: "--contract: run COMMAND as a supervised child and keep the checkout extended until it exits (floating licences)",
        repeat: Repeat::Once,
        apply: |o, _| {
            o.hold = true;
            Ok(())
        },
    },
    Flag {
        long: "--on-loss",
        short: None,
        value: Some("ACTION"),
        help: "--hold: when the licence is lost, terminate (default: SIGTERM, SIGKILL after --grace, exit 77) or warn",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.on_loss_warn = Some(match v.as_str() {
                "terminate" => false,
                "warn" => true,
                _ => return Err(format!("{v:?} is not an action; use terminate or warn")),
            });
            Ok(())
        },
    },
    Flag {
        long: "--grace",
        short: None,
        value: Some("DURATION"),
        help: "--hold: time between SIGTERM and SIGKILL when the licence is lost; default 30s",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.grace = Some(parse_duration(&v)?);
            Ok(())
        },
    },
];

/// The usage line and one help row per flag, as `--help` and the READMEs'
/// "Command-line contract" block show them.
pub fn synopsis() -> String {
    format!(
        "entitled [OPTIONS] -- COMMAND [ARG...]\n{}",
        PROGRAM.render_flags()
    )
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
    fn the_table_is_sound() {
        PROGRAM.assert_table_is_sound();
    }

    #[test]
    fn every_flag_has_a_help_row() {
        let text = synopsis();
        assert!(text.contains("\n  --deadline DURATION        total time for the check"));
        assert!(text.contains(
            "\n  -q, --quiet                log errors and the key-rotation warning only\n"
        ));
        // The guard's own flags, then the five every binary has.
        assert_eq!(text.lines().count(), 1 + FLAGS.len() + 5);
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
