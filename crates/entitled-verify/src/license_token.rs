//! The `SignedToken` of a License Manager `CheckoutLicense` answer, for
//! seller-issued licences: a JWS signed PS384 (RSASSA-PSS, SHA-384) with the
//! issuer's own key, over the checked-out entitlements.
//!
//! AWS publishes no public key for licences that AWS Marketplace issues, so
//! those tokens cannot be verified by anyone; trust in such an answer rests
//! on TLS to AWS and SigV4. This module serves the licences a seller issues
//! with a KMS key of their own, whose public half they ship with the product.

use std::collections::BTreeMap;

use jsonwebtoken::Algorithm;
use serde_json::Value;

use crate::keys::PublicKey;
use crate::token::{b64url, decode_object, Segments};

/// Far above a real licence token (License Manager pads them to at least
/// 4096 characters), far below anything that could hurt to decode.
pub const MAX_LICENSE_TOKEN_BYTES: usize = 64 * 1024;

/// Why a licence token was refused. Any of these means the answer is not
/// trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LicenseTokenError {
    /// Refused before decoding.
    #[error("licence token is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// The token's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a compact JWS of JSON objects.
    #[error("licence token is malformed: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than PS384.
    #[error("licence token algorithm is {0:?}, but License Manager signs with PS384 only")]
    Algorithm(String),
    /// The header marks extensions critical.
    #[error("licence token header has a \"crit\" member; no critical extension is understood")]
    CriticalHeader,
    /// The signature does not verify under the issuer's key.
    #[error("licence token signature does not verify with the issuer's public key; the answer did not come from the licence's issuer, or the configured key is wrong")]
    Signature,
    /// A claim is absent or has the wrong JSON type.
    #[error("licence token claim {0} is missing or has the wrong type")]
    Claim(&'static str),
}

/// One entitlement in a licence token's `entitlementsAllowed` claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseEntitlementClaim {
    /// The entitlement's name.
    pub name: String,
    /// Its unit, as License Manager spells it (`None`, `Count`, ...).
    pub unit: String,
    /// Its value, when it has one.
    pub value: Option<String>,
}

/// The claims of a licence token whose signature verified. Only
/// [`verify_license_token`] builds one; the caller compares them with the
/// rest of the answer.
///
/// ```
/// let key = entitled_verify::PublicKey::from_pem(&std::fs::read(
///     "../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem").unwrap()).unwrap();
/// let err = entitled_verify::verify_license_token("a.b.c", &key).unwrap_err();
/// assert!(matches!(err, entitled_verify::LicenseTokenError::Malformed(_)), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LicenseClaims {
    /// `licenseArn`.
    pub license_arn: String,
    /// `licenseConsumptionToken`.
    pub consumption_token: String,
    /// `entitlementsAllowed`.
    pub entitlements: Vec<LicenseEntitlementClaim>,
    /// `nodeId`, when the checkout named one.
    pub node_id: Option<String>,
    /// `issuedAt`, as written.
    pub issued_at: String,
    /// `expiration`, as written.
    pub expiration: String,
}

/// Verifies a licence token's PS384 signature with the issuer's key and reads
/// its claims.
pub fn verify_license_token(
    token: &str,
    issuer_key: &PublicKey,
) -> Result<LicenseClaims, LicenseTokenError> {
    use LicenseTokenError as E;
    if token.len() > MAX_LICENSE_TOKEN_BYTES {
        return Err(E::TooLarge {
            len: token.len(),
            max: MAX_LICENSE_TOKEN_BYTES,
        });
    }
    let malformed = |_| E::Malformed("not a compact JWS of three base64url JSON segments");
    let segments = Segments::split(token).map_err(malformed)?;
    let header = decode_object(segments.header, "header").map_err(malformed)?;
    let payload = decode_object(segments.payload, "payload").map_err(malformed)?;
    let signature = b64url(segments.signature).map_err(malformed)?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "PS384" => {}
        Some(Value::String(alg)) => return Err(E::Algorithm(alg.clone())),
        other => return Err(E::Algorithm(format!("{other:?}"))),
    }
    if header.contains_key("crit") {
        return Err(E::CriticalHeader);
    }
    if signature.len() != issuer_key.bits().div_ceil(8) {
        return Err(E::Signature);
    }
    let verified = jsonwebtoken::crypto::verify(
        segments.signature,
        segments.signing_input.as_bytes(),
        issuer_key.decoding_key(),
        Algorithm::PS384,
    );
    if verified != Ok(true) {
        return Err(E::Signature);
    }
    read_claims(&payload)
}

fn read_claims(payload: &BTreeMap<String, Value>) -> Result<LicenseClaims, LicenseTokenError> {
    let text = |name: &'static str| match payload.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(LicenseTokenError::Claim(name)),
    };
    let node_id = match payload.get("nodeId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(LicenseTokenError::Claim("nodeId")),
    };
    let Some(Value::Array(list)) = payload.get("entitlementsAllowed") else {
        return Err(LicenseTokenError::Claim("entitlementsAllowed"));
    };
    let entitlements = list
        .iter()
        .map(read_entitlement)
        .collect::<Option<Vec<_>>>()
        .ok_or(LicenseTokenError::Claim("entitlementsAllowed"))?;
    Ok(LicenseClaims {
        license_arn: text("licenseArn")?,
        consumption_token: text("licenseConsumptionToken")?,
        entitlements,
        node_id,
        issued_at: text("issuedAt")?,
        expiration: text("expiration")?,
    })
}

fn read_entitlement(value: &Value) -> Option<LicenseEntitlementClaim> {
    let object = value.as_object()?;
    let field = |a: &str, b: &str| object.get(a).or_else(|| object.get(b));
    let value = match field("value", "Value") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return None,
    };
    Some(LicenseEntitlementClaim {
        name: field("name", "Name")?.as_str()?.to_owned(),
        unit: field("unit", "Unit")?.as_str()?.to_owned(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const FIXTURE: &str = "../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn sign(header: &str, claims: &str) -> String {
        let pem = std::fs::read(format!("{FIXTURE}.private.pem")).unwrap();
        let der = crate::pem::decode_first(&pem).unwrap().der;
        let signer = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let mut signature = vec![0; signer.public().modulus_len()];
        signer
            .sign(
                &ring::signature::RSA_PSS_SHA384,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .unwrap();
        format!("{input}.{}", b64(&signature))
    }

    fn key() -> PublicKey {
        PublicKey::from_file(format!("{FIXTURE}.public.pem")).unwrap()
    }

    const CLAIMS: &str = r#"{"licenseArn":"arn:aws:license-manager::1:license:l-1","licenseConsumptionToken":"c-1","entitlementsAllowed":[{"name":"Seats","unit":"Count","value":"2"},{"name":"Pro","unit":"None"}],"nodeId":"n-1","issuedAt":"2026-12-05T10:00:00Z","expiration":"2026-12-05T11:00:00Z","checkoutMetadata":{}}"#;

    #[test]
    fn a_ps384_token_verifies_and_its_claims_are_read() {
        let token = sign(r#"{"alg":"PS384","typ":"JWT"}"#, CLAIMS);
        let claims = verify_license_token(&token, &key()).unwrap();
        assert_eq!(claims.license_arn, "arn:aws:license-manager::1:license:l-1");
        assert_eq!(claims.consumption_token, "c-1");
        assert_eq!(claims.node_id.as_deref(), Some("n-1"));
        assert_eq!(claims.entitlements.len(), 2);
        assert_eq!(claims.entitlements[0].value.as_deref(), Some("2"));
        assert_eq!(claims.entitlements[1].value, None);
        assert_eq!(claims.expiration, "2026-12-05T11:00:00Z");
    }

    /// Each way a token can be wrong, with the refusal it must get.
    #[test]
    fn forged_wrong_algorithm_and_incomplete_tokens_are_refused() {
        let good = sign(r#"{"alg":"PS384"}"#, CLAIMS);
        let (input, _) = good.rsplit_once('.').unwrap();
        let forged_payload = good.replacen(
            good.split('.').nth(1).unwrap(),
            &b64(CLAIMS.replace("\"2\"", "\"200\"").as_bytes()),
            1,
        );
        type Row = (String, fn(&LicenseTokenError) -> bool);
        let cases: Vec<Row> = vec![
            (forged_payload, |e| *e == LicenseTokenError::Signature),
            (format!("{input}.{}", b64(&[0u8; 384])), |e| {
                *e == LicenseTokenError::Signature
            }),
            (sign(r#"{"alg":"PS256"}"#, CLAIMS), |e| {
                matches!(e, LicenseTokenError::Algorithm(_))
            }),
            (sign(r#"{"alg":"PS384","crit":["x"]}"#, CLAIMS), |e| {
                *e == LicenseTokenError::CriticalHeader
            }),
            (sign(r#"{"alg":"PS384"}"#, r#"{"licenseArn":"a"}"#), |e| {
                matches!(e, LicenseTokenError::Claim(_))
            }),
            ("x".repeat(MAX_LICENSE_TOKEN_BYTES + 1), |e| {
                matches!(e, LicenseTokenError::TooLarge { .. })
            }),
            ("only.two".into(), |e| {
                matches!(e, LicenseTokenError::Malformed(_))
            }),
        ];
        for (token, expected) in cases {
            let err = verify_license_token(&token, &key()).unwrap_err();
            assert!(expected(&err), "{err}");
        }
    }
}
