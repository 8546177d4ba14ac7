//! The call log: one record per metering, License Manager or STS call, for tests to assert on.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One call as the emulator saw it. Also served as JSON by `GET /_emulator/calls` (same field
/// names; the License Manager fields appear only on License Manager calls).
///
/// # Example
/// ```
/// use entitled_emulator::CallRecord;
/// let served = r#"[{"operation":"RegisterUsage","product_code":"prod-1","nonce":"n",
///     "key_version":1,"caller":"AKIAEMULATOREXAMPLE","outcome":"CustomerNotEntitledException"}]"#;
/// let calls: Vec<CallRecord> = serde_json::from_str(served).unwrap();
/// assert_eq!(calls[0].product_code.as_deref(), Some("prod-1"));
/// assert_eq!(calls[0].outcome, "CustomerNotEntitledException");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// `RegisterUsage`, `MeterUsage`, `BatchMeterUsage`, `ResolveCustomer`, a License Manager
    /// operation (`CheckoutLicense`, ...), `AssumeRoleWithWebIdentity` (STS), or the raw target
    /// operation name when unknown.
    pub operation: String,
    /// `ProductCode` from the request body, when it had one.
    pub product_code: Option<String>,
    /// `Nonce` from the request body, when it had one.
    pub nonce: Option<String>,
    /// `PublicKeyVersion` from the request body, when it had one.
    pub key_version: Option<u32>,
    /// The access key id the call was signed with, once the signature checked out (before
    /// that, the claimed one, if any).
    pub caller: Option<String>,
    /// For calls signed with IRSA session credentials, and STS calls: the role ARN assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// For calls signed with IRSA session credentials, and STS calls whose token named one:
    /// the service account, `NAMESPACE:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// `ok`, an AWS error code (e.g. `ThrottlingException`), or a fault name (e.g. `Stall`,
    /// `Token:WrongNonce`, `Status:503`).
    pub outcome: String,
    /// License Manager: the caller's AWS account (licences are granted to accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// License Manager: the `ProductSKU` asked for, or the SKU of the licence the call named
    /// (through its ARN or consumption token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_sku: Option<String>,
    /// License Manager: the licence the call used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_arn: Option<String>,
    /// CheckoutLicense: the `Entitlements` asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements_requested: Option<Vec<EntitlementData>>,
    /// CheckoutLicense: the `EntitlementsAllowed` answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements_allowed: Option<Vec<EntitlementData>>,
    /// CheckoutLicense, ExtendLicenseConsumption, CheckInLicense: the consumption token
    /// answered or named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumption_token: Option<String>,
}

/// One License Manager entitlement as a checkout names it (the model's `EntitlementData`):
/// a tier (`unit` `None`, no value) or a number of units.
///
/// # Example
/// ```
/// use entitled_emulator::EntitlementData;
/// let e: EntitlementData = serde_json::from_str(r#"{"name":"Users","unit":"Count","value":"2"}"#).unwrap();
/// assert_eq!(e.value.as_deref(), Some("2"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementData {
    /// The entitlement (dimension) name.
    pub name: String,
    /// The model's `EntitlementDataUnit`: `None` for a tier, `Count` and others for units.
    pub unit: String,
    /// The number of units, as the model's string; absent for a tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct CallLog {
    records: Mutex<Vec<CallRecord>>,
}

impl CallLog {
    pub fn push(&self, record: CallRecord) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }

    pub fn snapshot(&self) -> Vec<CallRecord> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clear(&self) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
