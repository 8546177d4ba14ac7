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
//! The smallest correct in-process check is a whole program: the product
//! code and key compiled into the application, `?` from the key into
//! [`CheckError`], each retried failure logged through
//! [`on_retry`](CheckBuilder::on_retry), an expired key version's rotation
//! time printed as RFC 3339, and a failure's documented exit code returned
//! through [`std::process::ExitCode`]. The hidden lines only point the check
//! at the local emulator (which throttles once and reports key version 1 as
//! expired); in production the endpoint, Region and credentials come from
//! the ECS task or EKS pod.
//!
//! ```
//! use std::process::ExitCode;
//!
//! use entitled::{Check, CheckError, Entitlement, KeySet, KeyVersion, PublicKey};
//!
//! // From AWS Marketplace, compiled in: the task definition cannot swap them.
//! const PRODUCT_CODE: &str = "prod-abc123";
//! const PUBLIC_KEY: &[u8] =
//!     include_bytes!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
//!
//! async fn check_entitlement() -> Result<Entitlement, CheckError> {
//!     let key = PublicKey::from_pem(PUBLIC_KEY)?;
//!     Check::builder()
//!         .product_code(PRODUCT_CODE)
//!         .keys(KeySet::new().with(KeyVersion::FIRST, key))
//!         .key_version(1)
//!         .on_retry(|event| eprintln!("entitlement: {event}"))
//! #       .endpoint_url(emulator::URL.get().unwrap())
//! #       .region("us-east-1")
//! #       .static_credentials(entitled::StaticCredentials {
//! #           access_key_id: "AKIDEXAMPLE".into(),
//! #           secret_access_key: "secret".into(),
//! #           session_token: None,
//! #       })
//! #       .backoff(entitled::Backoff::new(std::time::Duration::from_millis(10), std::time::Duration::from_millis(20)))
//!         .run()
//!         .await
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> ExitCode {
//! #   let _emulator = emulator::start().await;
//!     match check_entitlement().await {
//!         Ok(entitlement) => {
//!             if let Some(at) = entitlement.key_rotation_rfc3339() {
//!                 eprintln!(
//!                     "entitlement: warning: public key version {} expired at {at}; ship the new key and version from AWS Marketplace",
//!                     entitlement.key_version()
//!                 );
//!             }
//! #           assert_eq!(entitlement.key_rotation_rfc3339().as_deref(), Some("2026-01-01T00:00:00Z"));
//! #           assert_eq!(entitlement.attempts(), 2, "one throttle, one retry");
//!             // Entitled: start serving here.
//!             ExitCode::SUCCESS
//!         }
//!         Err(err) => {
//!             eprintln!("entitlement: {err}");
//!             ExitCode::from(err.exit_code())
//!         }
//!     }
//! }
//! # mod emulator {
//! #     pub static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
//! #     pub async fn start() -> entitled_emulator::Emulator {
//! #         use entitled_emulator::{Config, Emulator, Fault, Product};
//! #         let pem = std::fs::read_to_string("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem").unwrap();
//! #         let product = Product::new(super::PRODUCT_CODE).key_pem(1, &pem).unwrap().expired(1, 1_767_225_600);
//! #         let config = Config::new().region("us-east-1").static_credentials("AKIDEXAMPLE", "secret").product(product);
//! #         let emulator = Emulator::start(config).await.unwrap();
//! #         emulator.push_fault(super::PRODUCT_CODE, Fault::Error { code: "ThrottlingException".into(), message: None }, 1);
//! #         URL.set(emulator.endpoint_url()).unwrap();
//! #         emulator
//! #     }
//! # }
//! ```
//!
//! [`CheckBuilder`] shows the builder's testing methods. A failed check is a
//! [`CheckError`], whose class gives the process exit code:
//!
//! | class | exit code | meaning |
//! |---|---|---|
//! | [`CheckError::Config`] | 64 | bad input; nothing was called |
//! | [`CheckError::Verification`] | 65 | the token failed verification |
//! | [`CheckError::Unavailable`] | 75 | transient failures until the deadline |
//! | [`CheckError::NotEntitled`] | 77 | `CustomerNotEntitledException` |
//! | [`CheckError::NotLicensed`] | 77 | contract pricing ([`contract`]): no licence allows the checkout |
//! | [`CheckError::LicenseAnswer`] | 65 | contract pricing: an answer inconsistent with the request, or a seller-issued `SignedToken` that does not verify |
//! | [`CheckError::Rejected`] | 78 | a [`RejectReason`]: unsupported platform, bad product code, key version or Region, API disabled, access denied, a non-AWS 4xx, an untrusted TLS certificate, no Region, no or refused credentials |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod anywhere;
mod backoff;
mod body_limit;
mod builder_setters;
mod check;
mod classify;
mod connection;
pub mod contract;
mod contract_error;
mod credential_source;
mod credentials;
mod entitlement;
mod env_files;
mod error;
pub mod meter;
mod reason;
mod region;
mod signing_credentials;
mod transport;
mod trust;

pub use backoff::{Backoff, Waits};
pub use check::{Check, CheckBuilder, RetryEvent, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_DEADLINE};
pub use credential_source::CredentialSource;
pub use entitlement::Entitlement;
pub use env_files::{MAX_PROFILE_FILE_BYTES, MAX_TOKEN_FILE_BYTES};
pub use error::{CheckError, ConfigError};
pub use reason::{Endpoint, RejectReason, Transient, TransientCause};
pub use trust::{Warning, MAX_CA_FILE_BYTES};
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
