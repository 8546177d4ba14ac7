//! A checked-out licence: what the answer allowed, once it met every rule.

use std::time::SystemTime;

use super::answer::{Accepted, Allowed};
use super::lease::Lease;
use super::request::CheckoutType;

/// What a checkout allowed. Only [`Contract::checkout`](super::Contract::checkout)
/// builds one, after the answer met every rule.
///
/// ```no_run
/// # async fn run(contract: entitled::contract::Contract) -> Result<(), entitled::CheckError> {
/// let license = contract.checkout().await?;
/// let premium = license.allows("Premium");
/// if let Some(lease) = license.lease() {
///     lease.check_in().await?; // the unit is free for the next start
/// }
/// # let _ = premium; Ok(()) }
/// ```
#[derive(Debug)]
pub struct License {
    accepted: Accepted,
    checkout_type: CheckoutType,
    node_id: String,
    attempts: u32,
    lease: Option<Lease>,
}

impl License {
    pub(crate) fn new(
        accepted: Accepted,
        checkout_type: CheckoutType,
        node_id: String,
        attempts: u32,
        lease: Option<Lease>,
    ) -> Self {
        License {
            accepted,
            checkout_type,
            node_id,
            attempts,
            lease,
        }
    }
    /// The licence's ARN.
    pub fn license_arn(&self) -> &str {
        &self.accepted.license_arn
    }
    /// The entitlements allowed: each was asked for, within what was asked.
    pub fn entitlements(&self) -> &[Allowed] {
        &self.accepted.entitlements
    }
    /// True when the entitlement `name` was allowed.
    pub fn allows(&self, name: &str) -> bool {
        self.accepted.entitlements.iter().any(|a| a.name() == name)
    }
    /// The allowed entitlements as `NAME` or `NAME:UNIT:VALUE`, comma-separated
    /// (the guard's `ENTITLED_ENTITLEMENTS`).
    pub fn entitlements_text(&self) -> String {
        let shown: Vec<String> = self
            .accepted
            .entitlements
            .iter()
            .map(Allowed::to_string)
            .collect();
        shown.join(",")
    }
    /// When the consumption was issued.
    pub fn issued_at(&self) -> SystemTime {
        self.accepted.issued_at
    }
    /// When the consumption expires (a provisional unit returns by itself then).
    pub fn expiration(&self) -> SystemTime {
        self.accepted.expiration
    }
    /// The checkout type.
    pub fn checkout_type(&self) -> CheckoutType {
        self.checkout_type
    }
    /// The node id sent and echoed.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }
    /// The answer's `SignedToken`, as received.
    pub fn signed_token(&self) -> &str {
        &self.accepted.signed_token
    }
    /// True when the signed token verified with the issuer's key; false when
    /// no key was given (AWS publishes none for AWS Marketplace licences).
    pub fn token_verified(&self) -> bool {
        self.accepted.token_verified
    }
    /// CheckoutLicense calls made, retries included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// The lease of a provisional checkout; `None` for a perpetual one.
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }
    /// Takes the lease, to hold it apart from the licence.
    pub fn take_lease(&mut self) -> Option<Lease> {
        self.lease.take()
    }
}
