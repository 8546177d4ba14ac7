//! Why the guard stops without exec'ing, and the one mapping from that to
//! an exit code.

use entitled::CheckError;

use crate::exec::ExecError;
use entitled_shell::UsageError;

/// Every way the guard can end other than by becoming the program.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A bad command line. No call is made.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The check did not pass, or could not start (a bad key is
    /// `CheckError::Config`).
    #[error(transparent)]
    Check(#[from] CheckError),
    /// SIGTERM, SIGINT or SIGHUP arrived during the check.
    #[error("stopped by {} during the check; COMMAND was not run", crate::signals::name(*.0))]
    Signal(libc::c_int),
    /// The check did not end by the deadline: blocked in a read that does
    /// not return. Reported as unavailable (75).
    #[error("the check did not finish within the {} ms deadline: it is blocked reading a file named by the environment (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, a token file, SSL_CERT_FILE or SSL_CERT_DIR, or one a profile names) or resolving a name; check those files and their mounts, or raise the deadline", .0.as_millis())]
    Stalled(std::time::Duration),
    /// The check passed, but COMMAND could not be exec'd.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The check passed, but `--handoff-file` could not be written.
    #[error(transparent)]
    Handoff(#[from] crate::handoff_file::HandoffFileError),
    /// The process could not be set up (signals, async runtime). Treated as
    /// a configuration error: nothing was called.
    #[error("start-up failed: {0}")]
    Setup(String),
}

impl From<entitled::ConfigError> for Failure {
    fn from(err: entitled::ConfigError) -> Self {
        Failure::Check(err.into())
    }
}

impl From<crate::signals::SignalError> for Failure {
    fn from(err: crate::signals::SignalError) -> Self {
        Failure::Setup(err.to_string())
    }
}

/// Usage or configuration error (sysexits EX_USAGE), as in every binary.
pub const USAGE: u8 = UsageError::EXIT_CODE;
/// `--handoff-file` could not be written (sysexits EX_CANTCREAT).
pub const CANT_CREATE: u8 = 73;
/// The service, or the check itself, stayed unavailable until the deadline
/// (sysexits EX_TEMPFAIL), as [`entitled::CheckError::Unavailable`].
pub const UNAVAILABLE: u8 = 75;
/// COMMAND exists but cannot be executed (as in sh, tini and Docker).
pub const NOT_EXECUTABLE: u8 = 126;
/// COMMAND was not found.
pub const NOT_FOUND: u8 = 127;

impl Failure {
    /// The exit code for this failure; the README's table and `--help`
    /// show the same values (see [`EXIT_CODES`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) | Failure::Setup(_) => USAGE,
            Failure::Check(err) => err.exit_code(),
            Failure::Handoff(_) => CANT_CREATE,
            Failure::Stalled(_) => UNAVAILABLE,
            // 128 + n, as shells report a process ended by signal n.
            Failure::Signal(sig) => 128u8.saturating_add(*sig as u8),
            Failure::Exec(ExecError::NotFound { .. }) => NOT_FOUND,
            Failure::Exec(ExecError::NotExecutable { .. }) => NOT_EXECUTABLE,
        }
    }

    /// What the guard adds to the library's neutral hint: the flag that
    /// holds the value AWS refused.
    pub fn flag_note(&self) -> Option<&'static str> {
        let Failure::Check(CheckError::Rejected { reason, .. }) = self else {
            return None;
        };
        match reason {
            entitled::RejectReason::InvalidPublicKeyVersion => {
                Some("the key version is --public-key-version")
            }
            entitled::RejectReason::InvalidProductCode => {
                Some("the product code is --product-code")
            }
            _ => None,
        }
    }

    /// A short, stable name for structured logs.
    pub fn class(&self) -> &'static str {
        match self {
            Failure::Usage(_) => "usage",
            Failure::Setup(_) => "config",
            Failure::Check(err) => err.class(),
            Failure::Stalled(_) => "unavailable",
            Failure::Signal(_) => "signal",
            Failure::Handoff(_) => "handoff",
            Failure::Exec(_) => "exec",
        }
    }
}

/// The documented exit codes, as `--help` prints them.
pub const EXIT_CODES: &[(&str, &str)] = &[
    ("(own)", "after exec, the process is COMMAND and exits with its code; with --contract --hold, the guard exits with COMMAND's code (128+n for signal n)"),
    ("0", "--check: the check passed"),
    ("64", "usage or configuration: a missing or invalid flag, a key that is unreadable, invalid, not a regular file or over 64 KiB, a profile or ECS authorization token file named by the environment that is not a regular file or too large, an AWS_ENDPOINT_URL variable set but empty, no COMMAND without --check; no call is made"),
    ("65", "the token failed verification: signature, algorithm, nonce, product code, key version, iat, malformed; --contract: an answer inconsistent with the request, or a SignedToken that does not verify with --license-public-key"),
    ("73", "--check --handoff-file: the check passed, but the hand-off file could not be written"),
    ("75", "the metering, License Manager or credentials endpoint stayed unavailable until the deadline: throttling, 429, 5xx, network, a TLS handshake cut by the network, timeouts"),
    ("77", "customer not entitled; --contract: no licence allows the checkout (none, suspended, wrong fingerprint, every unit in use after one retry); --hold: the licence was lost and COMMAND was stopped"),
    ("78", "rejected as unsupported or misconfigured: PlatformNotSupported, InvalidProductCode, InvalidPublicKeyVersion, InvalidRegion, DisabledApi, access denied, a 4xx that is not an AWS error (proxy page, 401/403/404/407), a TLS certificate that does not verify (see AWS_CA_BUNDLE), an AWS_ENDPOINT_URL variable given to a locked build, no Region, no or refused credentials; --contract: License Manager access denied or validation, an unfollowed redirect, a refused licence token"),
    ("126/127", "the check passed, but COMMAND is not executable / not found"),
    ("128+n", "stopped by signal n during the check (143 for SIGTERM, 130 SIGINT, 129 SIGHUP)"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use entitled::ConfigError;

    #[test]
    fn one_mapping_for_every_failure() {
        let usage = UsageError {
            program: "entitled",
            message: "x".into(),
            format: entitled_shell::Format::Text,
        };
        let cases: Vec<(Failure, u8)> = vec![
            (Failure::Usage(usage), 64),
            (Failure::Check(ConfigError::NoProductCode.into()), 64),
            (
                Failure::Check(CheckError::NotEntitled {
                    product_code: "p".into(),
                    message: "m".into(),
                }),
                77,
            ),
            (
                Failure::Check(CheckError::Unavailable {
                    attempts: 1,
                    elapsed: std::time::Duration::ZERO,
                    last: entitled::Transient {
                        endpoint: entitled::Endpoint::Metering,
                        cause: entitled::TransientCause::Network,
                        detail: "x".into(),
                    },
                }),
                75,
            ),
            (Failure::Stalled(std::time::Duration::from_secs(1)), 75),
            (Failure::Signal(libc::SIGTERM), 143),
            (Failure::Signal(libc::SIGINT), 130),
            (Failure::Signal(libc::SIGHUP), 129),
            (
                Failure::Exec(ExecError::NotFound {
                    program: "x".into(),
                }),
                127,
            ),
            (
                Failure::Exec(ExecError::NotExecutable {
                    program: "x".into(),
                    reason: "Permission denied".into(),
                }),
                126,
            ),
        ];
        for (failure, code) in cases {
            assert_eq!(failure.exit_code(), code, "{failure:?}");
            assert!(
                EXIT_CODES
                    .iter()
                    .any(|(c, _)| c.split('/').any(|c| c == code.to_string()))
                    || code >= 128,
                "{code} is documented"
            );
        }
    }
}

#[cfg(test)]
mod readme {
    use super::EXIT_CODES;

    #[test]
    fn the_readme_tables_are_the_code_table() {
        let readmes = [
            (
                "crates/entitled-init/README.md",
                include_str!("../README.md"),
            ),
            ("README.md", include_str!("../../../README.md")),
        ];
        for (name, readme) in readmes {
            for (code, meaning) in EXIT_CODES {
                let row = format!("| {code} | {meaning} |");
                assert!(readme.contains(&row), "{name} lacks the row {row}");
            }
        }
    }
}
