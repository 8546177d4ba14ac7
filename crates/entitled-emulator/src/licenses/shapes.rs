//! Licences and checkouts as JSON: the model's `License`, `GrantedLicense` and
//! `CheckoutLicenseResponse` shapes, and the admin API's own listing.

use serde_json::{json, Map, Value};

use crate::clock::rfc3339;

use super::store::{Checkout, License};

/// What a received licence lets its holder do, for `ReceivedMetadata.AllowedOperations`.
const ALLOWED_OPERATIONS: [&str; 4] = [
    "CheckoutLicense",
    "CheckInLicense",
    "ExtendConsumptionLicense",
    "ListPurchasedLicenses",
];

/// The model's `License`, as GetLicense answers it at `now`.
pub(crate) fn license(l: &License, now: u64) -> Value {
    let entitlements: Vec<Value> = l
        .entitlements
        .iter()
        .map(|e| {
            let mut out = Map::new();
            out.insert("Name".into(), json!(e.name));
            out.insert("Unit".into(), json!(e.unit));
            if let Some(v) = &e.value {
                out.insert("Value".into(), json!(v));
            }
            if let Some(max) = e.max_count {
                out.insert("MaxCount".into(), json!(max));
            }
            if e.unit != "None" {
                out.insert("Overage".into(), json!(e.overage));
            }
            out.insert("AllowCheckIn".into(), json!(e.allow_check_in));
            Value::Object(out)
        })
        .collect();
    json!({
        "LicenseArn": l.arn,
        "LicenseName": format!("{} contract", l.product_sku),
        "ProductName": l.product_sku,
        "ProductSKU": l.product_sku,
        "Issuer": {"Name": l.issuer_name, "SignKey": "", "KeyFingerprint": l.fingerprint},
        "HomeRegion": "us-east-1",
        "Status": l.status_at(now),
        "Validity": {"Begin": rfc3339(l.begin), "End": rfc3339(l.end)},
        "Beneficiary": l.beneficiary,
        "Entitlements": entitlements,
        "ConsumptionConfiguration": {
            "RenewType": "None",
            "ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": l.ttl_seconds / 60},
        },
        "LicenseMetadata": [],
        "CreateTime": rfc3339(l.created),
        "Version": l.version.to_string(),
    })
}

/// The model's `GrantedLicense`, as ListReceivedLicenses answers it: a `License` plus
/// `ReceivedMetadata`.
pub(crate) fn granted(l: &License, now: u64) -> Value {
    let mut out = license(l, now);
    out["ReceivedMetadata"] = json!({
        "ReceivedStatus": "ACTIVE",
        "AllowedOperations": ALLOWED_OPERATIONS,
    });
    out
}

/// CheckoutLicense's answer.
pub(crate) fn checkout(c: &Checkout) -> Value {
    let allowed: Vec<Value> = c
        .consumption
        .allowed
        .iter()
        .map(|e| {
            let mut out = json!({"Name": e.name, "Unit": e.unit});
            if let Some(v) = &e.value {
                out["Value"] = json!(v);
            }
            out
        })
        .collect();
    let mut out = json!({
        "CheckoutType": c.consumption.checkout_type.as_str(),
        "LicenseConsumptionToken": c.consumption.token,
        "EntitlementsAllowed": allowed,
        "SignedToken": c.signed_token,
        "IssuedAt": rfc3339(c.consumption.issued_at),
        "Expiration": rfc3339(c.consumption.expiration),
        "LicenseArn": c.license_arn,
    });
    if let Some(node) = &c.consumption.node_id {
        out["NodeId"] = json!(node);
    }
    out
}

/// One entry of `GET /_emulator/licenses`: the licence and its live consumptions at `now`.
pub(crate) fn admin(l: &License, now: u64) -> Value {
    let entitlements: Vec<Value> = l
        .entitlements
        .iter()
        .map(|e| {
            json!({"name": e.name, "unit": e.unit, "value": e.value, "max_count": e.max_count,
                   "overage": e.overage, "allow_check_in": e.allow_check_in})
        })
        .collect();
    let consumptions: Vec<Value> = l
        .consumptions
        .iter()
        .filter(|c| c.live(now))
        .map(|c| {
            json!({
                "consumption_token": c.token,
                "entitlements": c.allowed,
                "checkout_type": c.checkout_type.as_str(),
                "expiration": rfc3339(c.expiration),
                "node_id": c.node_id,
            })
        })
        .collect();
    json!({
        "license_arn": l.arn,
        "product_sku": l.product_sku,
        "beneficiary": l.beneficiary,
        "status": l.status_at(now),
        "entitlements": entitlements,
        "consumptions": consumptions,
    })
}
