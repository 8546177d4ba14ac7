//! The operation a metering or License Manager call names: a leaf module, so that faults
//! (which can be aimed at one operation) and the operations themselves both use it without
//! importing each other.

use serde::{Deserialize, Serialize};

/// A Metering Service or License Manager operation, named as in `X-Amz-Target` (and in JSON).
///
/// ```
/// use entitled_emulator::Operation;
/// let op: Operation = serde_json::from_str(r#""BatchMeterUsage""#).unwrap();
/// assert_eq!(op, Operation::BatchMeterUsage);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    /// `RegisterUsage`, the container entitlement check.
    RegisterUsage,
    /// `MeterUsage`, one usage record from the buyer's account.
    MeterUsage,
    /// `BatchMeterUsage`, up to 25 SaaS usage records.
    BatchMeterUsage,
    /// `ResolveCustomer`, a SaaS registration token to a customer.
    ResolveCustomer,
    /// License Manager `CheckoutLicense`: tiers or units of a contract licence.
    CheckoutLicense,
    /// License Manager `ExtendLicenseConsumption`: a provisional checkout held longer.
    ExtendLicenseConsumption,
    /// License Manager `CheckInLicense`: a checkout's units released.
    CheckInLicense,
    /// License Manager `GetLicense`: one licence.
    GetLicense,
    /// License Manager `ListReceivedLicenses`: the licences granted to the caller's account.
    ListReceivedLicenses,
    /// License Manager `GetAccessToken`: an Anywhere licence token exchanged for an access token.
    GetAccessToken,
}

impl Operation {
    /// The Metering Service operation `name` (after `AWSMPMeteringService.`).
    pub(crate) fn from_name(name: &str) -> Option<Operation> {
        Some(match name {
            "RegisterUsage" => Operation::RegisterUsage,
            "MeterUsage" => Operation::MeterUsage,
            "BatchMeterUsage" => Operation::BatchMeterUsage,
            "ResolveCustomer" => Operation::ResolveCustomer,
            _ => return None,
        })
    }

    /// The License Manager operation `name` (after `AWSLicenseManager.`).
    pub(crate) fn license_manager(name: &str) -> Option<Operation> {
        Some(match name {
            "CheckoutLicense" => Operation::CheckoutLicense,
            "ExtendLicenseConsumption" => Operation::ExtendLicenseConsumption,
            "CheckInLicense" => Operation::CheckInLicense,
            "GetLicense" => Operation::GetLicense,
            "ListReceivedLicenses" => Operation::ListReceivedLicenses,
            "GetAccessToken" => Operation::GetAccessToken,
            _ => return None,
        })
    }

    /// The error a call signed for the wrong Region gets. MeterUsage models
    /// `InvalidEndpointRegionException`; RegisterUsage models `InvalidRegionException`, which the
    /// other two (which model neither) get as well.
    pub(crate) fn region_error(self) -> &'static str {
        match self {
            Operation::MeterUsage => "InvalidEndpointRegionException",
            _ => "InvalidRegionException",
        }
    }
}
