//! Hand-off from the guard to the program it execs.
//!
//! A buyer can override ENTRYPOINT and skip the guard. The guard passes the
//! verified token and its nonce on, so the program can check them again,
//! offline and in microseconds, and refuse to run without them.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::key_version::KeyVersion;
use crate::keys::KeySet;
use crate::product_code::ProductCode;
use crate::token::{verify, Expected, VerifiedToken, VerifyError, MAX_TOKEN_BYTES};

/// The variable carrying the verified token to the program.
pub const ENV_TOKEN: &str = "ENTITLED_TOKEN";
/// The variable carrying the nonce the guard sent.
pub const ENV_NONCE: &str = "ENTITLED_NONCE";
/// The default maximum age of a handed-off token.
pub const DEFAULT_HANDOFF_MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// Why a hand-off was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandoffError {
    /// The variable is not set: the guard did not run.
    #[error("{0} is not set: the entitlement guard did not run before this program; start it through the `entitled` entrypoint")]
    Missing(&'static str),
    /// The token did not verify.
    #[error("handed-off entitlement refused: {0}")]
    Verify(#[from] VerifyError),
    /// The hand-off file is missing, unreadable or not in the hand-off format.
    #[error("hand-off file {path}: {reason}; run the guard with `entitled --check --handoff-file {path}` (an init container) before this program, sharing the file's directory")]
    File {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl HandoffError {
    /// The exit code for a program that refuses to run without a valid
    /// hand-off, matching the guard's table: 77 when there is no hand-off at
    /// all (the guard did not run, as when a buyer replaced the
    /// ENTRYPOINT), 65 when the token fails verification.
    ///
    /// ```
    /// use entitled_verify::HandoffError;
    /// assert_eq!(HandoffError::Missing("ENTITLED_TOKEN").exit_code(), 77);
    /// ```
    pub fn exit_code(&self) -> u8 {
        match self {
            HandoffError::Missing(_) | HandoffError::File { .. } => 77,
            HandoffError::Verify(_) => 65,
        }
    }
}

/// The largest hand-off file read: the token's limit, the nonce and the two names.
const MAX_HANDOFF_FILE_BYTES: u64 = MAX_TOKEN_BYTES as u64 + 1024;

/// What the guard handed to the program: the verified token and the nonce
/// it sent. Named fields, so the two strings cannot be swapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// The token, from `ENTITLED_TOKEN`.
    pub token: String,
    /// The nonce, from `ENTITLED_NONCE`.
    pub nonce: String,
}

impl Handoff {
    /// Reads `ENTITLED_TOKEN` and `ENTITLED_NONCE`.
    pub fn from_env() -> Result<Self, HandoffError> {
        let token = std::env::var(ENV_TOKEN).map_err(|_| HandoffError::Missing(ENV_TOKEN))?;
        let nonce = std::env::var(ENV_NONCE).map_err(|_| HandoffError::Missing(ENV_NONCE))?;
        Ok(Self { token, nonce })
    }
}

impl Handoff {
    /// The hand-off file's text: the two variables of the environment hand-off, one
    /// `NAME=value` line each, `ENTITLED_TOKEN` first. The same text is a valid env file
    /// (`docker run --env-file`, `set -a; . FILE`).
    ///
    /// ```
    /// use entitled_verify::Handoff;
    /// let handoff = Handoff { token: "a.b.c".into(), nonce: "n1".into() };
    /// let text = handoff.to_file_text();
    /// assert_eq!(text, "ENTITLED_TOKEN=a.b.c\nENTITLED_NONCE=n1\n");
    /// assert_eq!(Handoff::from_file_text(&text), Ok(handoff));
    /// assert!(Handoff::from_file_text("ENTITLED_TOKEN=a.b.c\n").is_err(), "no nonce");
    /// ```
    pub fn to_file_text(&self) -> String {
        format!("{ENV_TOKEN}={}\n{ENV_NONCE}={}\n", self.token, self.nonce)
    }

    /// Parses [`Handoff::to_file_text`]'s format: exactly the two lines, in that order, each
    /// ended by a newline. Anything else (a half-written file above all) is refused with the
    /// reason.
    pub fn from_file_text(text: &str) -> Result<Self, String> {
        let mut lines = text.split_inclusive('\n');
        let mut line = |name: &str| -> Result<String, String> {
            let line = lines.next().ok_or_else(|| format!("no {name} line"))?;
            let value = line
                .strip_suffix('\n')
                .ok_or_else(|| {
                    format!("the {name} line is not ended by a newline (a partial file)")
                })?
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .ok_or_else(|| format!("expected a {name}=... line"))?;
            if value.is_empty() {
                return Err(format!("{name} is empty"));
            }
            Ok(value.to_owned())
        };
        let token = line(ENV_TOKEN)?;
        let nonce = line(ENV_NONCE)?;
        if lines.next().is_some() {
            return Err(format!("unexpected text after the {ENV_NONCE} line"));
        }
        Ok(Handoff { token, nonce })
    }

    /// Reads a hand-off file written by `entitled --check --handoff-file PATH`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, HandoffError> {
        let path = path.as_ref();
        let fail = |reason: String| HandoffError::File {
            path: path.to_owned(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
        let mut text = String::new();
        file.take(MAX_HANDOFF_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| fail(e.to_string()))?;
        if text.len() as u64 > MAX_HANDOFF_FILE_BYTES {
            return Err(fail(format!("larger than {MAX_HANDOFF_FILE_BYTES} bytes")));
        }
        Handoff::from_file_text(&text).map_err(fail)
    }
}

/// Re-verifies a handed-off token: signature, product code, key version,
/// nonce equality and a maximum age.
///
/// ```
/// use std::time::Duration;
/// use entitled_verify::{verify_handoff, Handoff, HandoffError, KeySet, KeyVersion, PublicKey};
/// let key = PublicKey::from_file("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem").unwrap();
/// let keys = KeySet::new().with(KeyVersion::FIRST, key);
/// let forged = Handoff { token: "x.y.z".into(), nonce: "nonce".into() };
/// let product = "prod".parse().unwrap();
/// let result = verify_handoff(&forged, &keys, &product, KeyVersion::FIRST, Duration::from_secs(300));
/// assert!(matches!(result, Err(HandoffError::Verify(_))));
/// ```
pub fn verify_handoff(
    handoff: &Handoff,
    keys: &KeySet,
    product_code: &ProductCode,
    key_version: KeyVersion,
    max_age: Duration,
) -> Result<VerifiedToken, HandoffError> {
    let expected = Expected::new(product_code, key_version, &handoff.nonce).max_age(max_age);
    Ok(verify(&handoff.token, keys, &expected)?)
}

/// [`verify_handoff`] on `ENTITLED_TOKEN` and `ENTITLED_NONCE`, with the
/// default maximum age of 5 minutes.
///
/// ```
/// use entitled_verify::{verify_handoff_from_env, HandoffError, KeySet, KeyVersion, ENV_TOKEN};
/// // A buyer who overrides the ENTRYPOINT skips the guard: no token at all.
/// std::env::remove_var(ENV_TOKEN);
/// let product = "prod-1234".parse().unwrap();
/// let result = verify_handoff_from_env(&KeySet::new(), &product, KeyVersion::FIRST);
/// assert!(matches!(result, Err(HandoffError::Missing("ENTITLED_TOKEN"))));
/// ```
pub fn verify_handoff_from_env(
    keys: &KeySet,
    product_code: &ProductCode,
    key_version: KeyVersion,
) -> Result<VerifiedToken, HandoffError> {
    verify_handoff(
        &Handoff::from_env()?,
        keys,
        product_code,
        key_version,
        DEFAULT_HANDOFF_MAX_AGE,
    )
}

/// [`verify_handoff`] on a hand-off file written by `entitled --check --handoff-file PATH`
/// (the init-container pattern), with the same rules and default maximum age (5 minutes) as
/// [`verify_handoff_from_env`]. A missing, partial or malformed file is refused
/// ([`HandoffError::File`]); so is a stale or tampered token ([`HandoffError::Verify`]).
///
/// ```
/// use entitled_verify::{verify_handoff_from_file, HandoffError, KeySet, KeyVersion};
/// // The init container did not run, or not with --handoff-file: no file at all.
/// let product = "prod-1234".parse().unwrap();
/// let result = verify_handoff_from_file("/nonexistent/handoff", &KeySet::new(), &product, KeyVersion::FIRST);
/// assert!(matches!(result, Err(HandoffError::File { .. })));
/// ```
pub fn verify_handoff_from_file(
    path: impl AsRef<Path>,
    keys: &KeySet,
    product_code: &ProductCode,
    key_version: KeyVersion,
) -> Result<VerifiedToken, HandoffError> {
    verify_handoff(
        &Handoff::from_file(path)?,
        keys,
        product_code,
        key_version,
        DEFAULT_HANDOFF_MAX_AGE,
    )
}
