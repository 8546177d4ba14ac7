//! # entitled
//!
//! Verified AWS Marketplace entitlement for paid containers.
//!
//! A paid container product must call the Metering Service's `RegisterUsage`
//! when it starts. This crate makes that call with a fresh random nonce and
//! verifies the PS256 token in the answer against the product's own public
//! key: its signature, algorithm, nonce, product code and key version. Only a
//! verified answer becomes an [`Entitlement`].
//!
//! [`CheckBuilder`] shows a whole check, run against the local emulator;
//! the repository's README shows it in production. A failed check is a
//! [`CheckError`], whose class gives the process exit code:
//!
//! | class | exit code | meaning |
//! |---|---|---|
//! | [`CheckError::Config`] | 64 | bad input; nothing was called |
//! | [`CheckError::Verification`] | 65 | the token failed verification |
//! | [`CheckError::Unavailable`] | 75 | transient failures until the deadline |
//! | [`CheckError::NotEntitled`] | 77 | `CustomerNotEntitledException` |
//! | [`CheckError::Rejected`] | 78 | a [`RejectReason`]: unsupported platform, bad product code, key version or Region, API disabled, access denied, a non-AWS 4xx, an untrusted TLS certificate, no Region, no or refused credentials |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backoff;
mod body_limit;
mod check;
mod classify;
mod connection;
mod credential_source;
mod credentials;
mod entitlement;
mod env_files;
mod error;
pub mod meter;
mod reason;
mod region;
mod transport;

pub use backoff::{Backoff, Waits};
pub use check::{Check, CheckBuilder, RetryEvent, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_DEADLINE};
pub use credential_source::CredentialSource;
pub use entitlement::Entitlement;
pub use env_files::{MAX_PROFILE_FILE_BYTES, MAX_TOKEN_FILE_BYTES};
pub use error::{CheckError, ConfigError};
pub use reason::{Endpoint, RejectReason, Transient, TransientCause};
pub use transport::{Warning, MAX_CA_FILE_BYTES};
// Token verification lives in `entitled-verify`, which has no network or AWS
// dependency; re-exported so `use entitled::{KeySet, verify, ..}` works.
pub use connection::StaticCredentials;
pub use entitled_verify::calendar;
pub use entitled_verify::{
    verify, verify_handoff, verify_handoff_from_env, verify_handoff_from_file, Expected, Handoff,
    HandoffError, KeyError, KeySet, KeyVersion, KeyVersionError, Nonce, ProductCode,
    ProductCodeError, PublicKey, RandomError, VerifiedToken, VerifyError, DEFAULT_HANDOFF_MAX_AGE,
    DEFAULT_MAX_SKEW, ENV_NONCE, ENV_TOKEN, MAX_TOKEN_BYTES,
};
