//! Contract pricing: AWS License Manager's `CheckoutLicense` for AWS
//! Marketplace products sold by contract, on AWS or anywhere else.
//!
//! A [`Contract`] asks for tiers (`Unit` `None`; ask for every tier the
//! product has, and the answer holds the one bought) or counted units, and
//! [`Contract::checkout`] returns a [`License`] only when the answer is
//! consistent with the request: every allowed entitlement asked for, within
//! the units asked, a licence ARN, an expiration in the future, the node id
//! echoed. Anything else is a malformed answer (exit 65), never a pass.
//!
//! Failures map onto the check's classes and exit codes: throttling, 5xx and
//! network failures are retried with the check's backoff until its deadline
//! (75); `NoEntitlementsAllowedException`, `EntitlementNotAllowedException`
//! and `ResourceNotFoundException` mean not entitled (77; a counted
//! provisional checkout retries once after a pause first, since a busy unit
//! and no licence look the same); refusals are 78 with a hint.
//!
//! **What is verified.** When the seller issues the licence with a KMS key of
//! their own and ships its public key ([`ContractBuilder::issuer_public_key`]),
//! the answer's `SignedToken` must verify (PS384) and its claims must match
//! the answer. AWS publishes no public key for licences AWS Marketplace
//! issues: their token is not verified, and trust in the answer rests on TLS
//! to the Amazon roots and on SigV4.
//!
//! **Credentials.** On AWS, the same chain as the check (the ECS task role,
//! IRSA, and for License Manager also a node or instance role). Outside AWS
//! ("Anywhere"), when `AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE` (or
//! `AWS_LICENSE_ACCESS_FILE`) and `AWS_ROLE_ARN` are set, the buyer's licence
//! token in that file is exchanged through License Manager `GetAccessToken`
//! (unsigned) and STS `AssumeRoleWithWebIdentity` for session credentials,
//! refreshed before they expire; the Region defaults to `us-east-1`. A token
//! that is missing, unreadable, expired or refused is a 78 with the reason
//! `LicenseTokenRefused` and the credential source
//! [`CredentialSource::LicenseToken`](crate::CredentialSource::LicenseToken).
//!
//! A provisional checkout holds its units until it is checked in or its
//! time-to-live runs out: check it in as soon as the units are not needed
//! ([`Lease::check_in`]), or a one-seat buyer is locked out until then.
//!
//! ```no_run
//! use entitled::contract::Contract;
//!
//! # async fn run() -> Result<(), entitled::CheckError> {
//! let license = Contract::builder()
//!     .product_sku("prod-abc123") // the AWS Marketplace product id
//!     .tier("Basic")
//!     .tier("Premium")
//!     .build()?
//!     .checkout()
//!     .await?;
//! if let Some(lease) = license.lease() {
//!     lease.check_in().await?; // a tier check holds nothing while serving
//! }
//! let premium = license.allows("Premium");
//! # let _ = premium; Ok(()) }
//! ```

mod answer;
mod builder;
mod checkout;
mod lease;
mod license;
mod outcome;
mod redirect;
mod request;
mod retry;
mod session;
mod timestamp;

pub use answer::{Allowed, AnswerError};
pub use builder::{
    Contract, ContractBuilder, DEFAULT_BUSY_RETRY_PAUSE, MARKETPLACE_KEY_FINGERPRINT,
};
pub use lease::{Keeper, Lease};
pub use license::License;
pub use request::{CheckoutType, CheckoutTypeError, EntitlementError, Requested};
