//! # entitled-verify
//!
//! Offline verification of AWS Marketplace RegisterUsage tokens, with no
//! network, AWS SDK or async runtime: the product's public keys, the PS256
//! token and its claims, the per-call nonce, and the guard's hand-off.
//!
//! The `entitled` crate makes the RegisterUsage call and re-exports all of
//! this; depend on `entitled-verify` alone where a program only re-checks a
//! token, such as the program the `entitled` guard execs.
//!
//! Inputs are validated once, at the boundary, into [`ProductCode`] and
//! [`KeyVersion`]; every crate of the workspace uses these two types, so
//! their rules live in one place.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod calendar;
mod der;
mod handoff;
mod key_version;
mod keys;
mod nonce;
pub mod pem;
mod product_code;
mod token;

pub use handoff::{
    verify_handoff, verify_handoff_from_env, verify_handoff_from_file, Handoff, HandoffError,
    DEFAULT_HANDOFF_MAX_AGE, ENV_NONCE, ENV_TOKEN,
};
pub use key_version::{KeyVersion, KeyVersionError};
pub use keys::{KeyError, KeySet, PublicKey};
pub use nonce::{Nonce, RandomError};
pub use product_code::{ProductCode, ProductCodeError};
pub use token::{verify, Expected, VerifiedToken, VerifyError, DEFAULT_MAX_SKEW, MAX_TOKEN_BYTES};
