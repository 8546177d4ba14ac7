//! CheckoutLicense's `SignedToken`: a compact JWS, PS384 (the model's only
//! `DigitalSignatureMethod`, `JWT_PS384`), over the entitlement claims AWS documents, signed
//! with the issuer's key (`GET /_emulator/license-issuers/public-key?fingerprint=FP` gives
//! its public half).

use serde_json::json;

use crate::clock::rfc3339;
use crate::token::{sign_raw, Scheme, SigningKey};

use super::store::Consumption;

/// The JOSE header of every signed token.
pub(crate) const HEADER: &str = r#"{"alg":"PS384","typ":"JWT"}"#;

/// Signs the claims of `consumption` of licence `license_arn`.
pub(crate) fn sign(license_arn: &str, consumption: &Consumption, key: &SigningKey) -> String {
    let entitlements: Vec<_> = consumption
        .allowed
        .iter()
        .map(|e| json!({"name": e.name, "unit": e.unit, "value": e.value}))
        .collect();
    let claims = json!({
        "licenseArn": license_arn,
        "licenseConsumptionToken": consumption.token,
        "entitlementsAllowed": entitlements,
        "nodeId": consumption.node_id,
        "issuedAt": rfc3339(consumption.issued_at),
        "expiration": rfc3339(consumption.expiration),
        "checkoutMetadata": {"checkoutType": consumption.checkout_type.as_str()},
    });
    sign_raw(HEADER, &claims.to_string(), key, Scheme::Ps384)
}
