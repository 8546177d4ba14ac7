//! Hand-off from the guard to the program it execs.
//!
//! A buyer can override ENTRYPOINT and skip the guard. The guard passes the
//! verified token and its nonce on, so the program can check them again,
//! offline and in microseconds, and refuse to run without them.

use std::time::Duration;

use crate::keys::KeySet;
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

/// Re-verifies a handed-off token: signature, product code, key version,
/// nonce equality and a maximum age.
///
/// ```
/// use std::time::Duration;
/// use entitled::{verify_handoff, KeySet, PublicKey};
/// let key = PublicKey::from_file("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem").unwrap();
/// let keys = KeySet::new().with(1, key).unwrap();
/// assert!(verify_handoff("x.y.z", "nonce", &keys, "prod", 1, Duration::from_secs(300)).is_err());
/// ```
pub fn verify_handoff(
    token: &str,
    nonce: &str,
    keys: &KeySet,
    product_code: &str,
    key_version: u32,
    max_age: Duration,
) -> Result<VerifiedToken, HandoffError> {
    let expected = Expected::new(product_code, key_version, nonce).max_age(max_age);
    Ok(verify(token, keys, &expected)?)
}

/// [`verify_handoff`] on `ENTITLED_TOKEN` and `ENTITLED_NONCE`, with the
/// default maximum age of 5 minutes.
///
/// ```no_run
/// use entitled::{verify_handoff_from_env, KeySet, PublicKey};
/// let keys = KeySet::new().with(1, PublicKey::from_file("/etc/entitled/key.pem").unwrap()).unwrap();
/// let token = verify_handoff_from_env(&keys, "prod-1234", 1).expect("not entitled");
/// println!("entitled to {}", token.product_code());
/// ```
pub fn verify_handoff_from_env(
    keys: &KeySet,
    product_code: &str,
    key_version: u32,
) -> Result<VerifiedToken, HandoffError> {
    let token = std::env::var(ENV_TOKEN).map_err(|_| HandoffError::Missing(ENV_TOKEN))?;
    let nonce = std::env::var(ENV_NONCE).map_err(|_| HandoffError::Missing(ENV_NONCE))?;
    verify_handoff(
        &token,
        &nonce,
        keys,
        product_code,
        key_version,
        DEFAULT_HANDOFF_MAX_AGE,
    )
}
