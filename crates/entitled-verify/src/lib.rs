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
//! The program the guard execs re-checks the hand-off at start-up and
//! refuses to run without it, with the product code and key compiled in (a
//! buyer who controls the task definition can change flags, mounts and the
//! environment, but not constants in the binary). A whole program, which
//! exits with [`HandoffError::exit_code`]; the hidden lines play the guard,
//! setting `ENTITLED_TOKEN` and `ENTITLED_NONCE`:
//!
//! ```
//! use std::process::ExitCode;
//!
//! use entitled_verify::{verify_handoff_from_env, HandoffError, KeySet, KeyVersion, PublicKey};
//!
//! // From AWS Marketplace, compiled in.
//! const PRODUCT_CODE: &str = "prod-abc123";
//! const PUBLIC_KEY: &[u8] =
//!     include_bytes!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
//!
//! fn check_handoff() -> Result<(), HandoffError> {
//!     // Constants that were checked when this was written: a failure here is a bug.
//!     let key = PublicKey::from_pem(PUBLIC_KEY).expect("the compiled-in key parses");
//!     let product = PRODUCT_CODE.parse().expect("the compiled-in product code is valid");
//!     let keys = KeySet::new().with(KeyVersion::FIRST, key);
//!     verify_handoff_from_env(&keys, &product, KeyVersion::FIRST)?;
//!     Ok(())
//! }
//!
//! fn main() -> ExitCode {
//! #   play_the_guard();
//!     if let Err(err) = check_handoff() {
//!         eprintln!("my-app: {err}");
//!         return ExitCode::from(err.exit_code());
//!     }
//!     // Entitled: start serving here.
//!     ExitCode::SUCCESS
//! }
//! # fn play_the_guard() {
//! #     use base64::Engine as _;
//! #     let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
//! #     let pem = std::fs::read("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem").unwrap();
//! #     let der = entitled_verify::pem::decode_first(&pem).unwrap().der;
//! #     let signer = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
//! #     let iat = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
//! #     let claims = format!(r#"{{"productCode":"{PRODUCT_CODE}","publicKeyVersion":1,"nonce":"n-1","iat":{iat}}}"#);
//! #     let input = format!("{}.{}", b64(br#"{"alg":"PS256","typ":"JWT"}"#), b64(claims.as_bytes()));
//! #     let mut signature = vec![0; signer.public().modulus_len()];
//! #     signer.sign(&ring::signature::RSA_PSS_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut signature).unwrap();
//! #     std::env::set_var("ENTITLED_TOKEN", format!("{input}.{}", b64(&signature)));
//! #     std::env::set_var("ENTITLED_NONCE", "n-1");
//! # }
//! ```
//!
//! Inputs are validated once, at the boundary, into [`ProductCode`] and
//! [`KeyVersion`]; every crate of the workspace uses these two types, so
//! their rules live in one place.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bounded;
pub mod build_config;
pub mod calendar;
mod der;
mod handoff;
mod key_version;
mod keys;
mod license_token;
mod nonce;
pub mod pem;
mod product_code;
mod token;
mod wrong_key;

pub use handoff::{
    verify_handoff, verify_handoff_from_env, verify_handoff_from_file, Handoff, HandoffError,
    DEFAULT_HANDOFF_MAX_AGE, ENV_NONCE, ENV_TOKEN,
};
pub use key_version::{KeyVersion, KeyVersionError};
pub use keys::{KeyError, KeySet, PublicKey, MAX_KEY_FILE_BYTES};
pub use license_token::{
    verify_license_token, LicenseClaims, LicenseEntitlementClaim, LicenseTokenError,
    MAX_LICENSE_TOKEN_BYTES,
};
pub use nonce::{Nonce, RandomError};
pub use product_code::{ProductCode, ProductCodeError};
pub use token::{verify, Expected, VerifiedToken, VerifyError, DEFAULT_MAX_SKEW, MAX_TOKEN_BYTES};
pub use wrong_key::WrongKey;
