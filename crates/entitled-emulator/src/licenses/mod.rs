//! AWS License Manager's state: licences and their checkouts ([`store`]), the keys that sign
//! checkouts and Anywhere tokens ([`keys`]), the tokens themselves ([`anywhere`]) and the
//! licence clock ([`clock`]). The wire side (request parsing, the operations, faults, the
//! admin routes) is `crate::license_manager`; STS uses [`anywhere`] to take access tokens.

pub(crate) mod anywhere;
pub(crate) mod clock;
pub(crate) mod keys;
pub(crate) mod shapes;
pub(crate) mod signed_token;
mod spec;
pub(crate) mod store;

use std::sync::Arc;

pub(crate) use spec::{check_status, UNITS};
pub use spec::{EntitlementSpec, LicenseSpec, ValiditySpec, MARKETPLACE_FINGERPRINT};

/// Everything License Manager keeps.
#[derive(Debug, Default)]
pub(crate) struct LicenseManager {
    pub store: store::LicenseStore,
    pub keys: Arc<keys::LicenseKeys>,
    pub clock: clock::LicenseClock,
    pub revoked: anywhere::Revoked,
}

impl LicenseManager {
    /// Seeds a licence: checks it, makes its issuer's key if it is the first licence of that
    /// issuer, and stores it. Returns its ARN, or what is wrong with it.
    pub async fn add(&self, spec: LicenseSpec) -> Result<String, String> {
        let license = spec.into_license(self.clock.now())?;
        self.keys
            .issuer(&license.fingerprint)
            .await
            .map_err(|e| format!("generating the issuer's key: {e}"))?;
        let arn = license.arn.clone();
        self.store.insert(license);
        Ok(arn)
    }

    /// [`LicenseManager::add`] for synchronous callers (start-up and the [`crate::Emulator`]
    /// handle).
    pub fn add_blocking(&self, spec: LicenseSpec) -> Result<String, String> {
        let license = spec.into_license(self.clock.now())?;
        self.keys
            .issuer_blocking(&license.fingerprint)
            .map_err(|e| format!("generating the issuer's key: {e}"))?;
        let arn = license.arn.clone();
        self.store.insert(license);
        Ok(arn)
    }
}
