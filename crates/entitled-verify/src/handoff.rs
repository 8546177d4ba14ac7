//! Hand-off from the guard to the program it execs.
//!
//! A buyer can override ENTRYPOINT and skip the guard. The guard passes the
//! verified token and its nonce on, so the program can check them again,
//! offline and in microseconds, and refuse to run without them.

use std::time::Duration;

use crate::key_version::KeyVersion;
use crate::keys::KeySet;
use crate::product_code::ProductCode;
use crate::token::{verify, Expected, VerifiedToken, VerifyError};

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
}

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
