//! RegisterUsage: a PS256 token proving the caller is entitled to the product.
//!
//! Checks after validation, faults and throttling, in order: the platform rule (if on), the
//! product and key version (`InvalidProductCodeException`, `InvalidPublicKeyVersionException`),
//! entitlement (`CustomerNotEntitledException`).

use entitled_verify::KeyVersion;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_len, check_product_code, from_json, range_error, required};
use crate::faults::TokenVariant;
use crate::keys::KeyError;
use crate::sigv4::Verified;
use crate::state::State;
use crate::token::{self, Scheme, PS256_HEADER};
use crate::wire::ServiceError;

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "ProductCode")]
    product_code: Option<String>,
    #[serde(rename = "PublicKeyVersion")]
    public_key_version: Option<i64>,
    #[serde(rename = "Nonce")]
    nonce: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Input {
    pub product_code: String,
    pub key_version: u32,
    pub nonce: Option<String>,
}

pub(crate) fn parse(body: &[u8]) -> Result<Input, ServiceError> {
    let raw: Raw = from_json(body)?;
    let product_code = required("productCode", raw.product_code)?;
    check_product_code(&product_code)?;
    let version = required("publicKeyVersion", raw.public_key_version)?;
    let key_version = KeyVersion::try_from(version).map_err(|_| {
        let (first, max) = (KeyVersion::FIRST.get(), KeyVersion::MAX.get());
        range_error("publicKeyVersion", version, first.into(), max.into())
    })?;
    if let Some(n) = &raw.nonce {
        check_len("nonce", n, 0, 255)?;
    }
    Ok(Input {
        product_code,
        key_version: key_version.get(),
        nonce: raw.nonce,
    })
}

pub(crate) async fn run(
    state: &State,
    input: Input,
    caller: &Verified,
    variant: Option<TokenVariant>,
) -> Result<Value, ServiceError> {
    if state.platform_refuses(caller) {
        return Err(ServiceError::new(
            "PlatformNotSupportedException",
            "This operation can only be called from within an ECS task or an EKS pod",
        ));
    }
    let key = state
        .keys
        .resolve(&input.product_code, input.key_version)
        .await
        .map_err(|e| match e {
            KeyError::UnknownProduct => ServiceError::new(
                "InvalidProductCodeException",
                format!("Product code {} is not valid", input.product_code),
            ),
            KeyError::UnknownVersion => ServiceError::new(
                "InvalidPublicKeyVersionException",
                format!(
                    "Public key version {} is not valid for product code {}",
                    input.key_version, input.product_code
                ),
            ),
            KeyError::Generation(e) => ServiceError::new("InternalServiceErrorException", e),
        })?;
    if !state.entitled(&input.product_code, &caller.access_key_id) {
        return Err(ServiceError::new(
            "CustomerNotEntitledException",
            format!(
                "The customer is not entitled to product {}",
                input.product_code
            ),
        ));
    }
    let signing_key = match variant {
        Some(TokenVariant::OtherKey) => state
            .keys
            .other_key()
            .await
            .map_err(|_| ServiceError::new("InternalServiceErrorException", "no other key"))?,
        _ => key.key.clone(),
    };
    let signature = build_token(&input, &signing_key, variant, crate::clock::now_epoch());
    let mut out = json!({ "Signature": signature });
    if let Some(rotation) = key.rotation {
        out["PublicKeyRotationTimestamp"] = json!(rotation);
    }
    Ok(out)
}

/// The claims of a genuine token; `nonce` only when the request sent one.
fn claims(product_code: &str, version: u32, nonce: Option<&str>, iat: u64) -> Value {
    let mut c = json!({
        "productCode": product_code,
        "publicKeyVersion": version,
        "iat": iat,
    });
    if let Some(n) = nonce {
        c["nonce"] = json!(n);
    }
    c
}

/// Builds the token, genuine or wrong in the way `variant` asks.
fn build_token(
    input: &Input,
    key: &token::SigningKey,
    variant: Option<TokenVariant>,
    now: u64,
) -> String {
    let nonce = input.nonce.as_deref();
    let (product, version) = (input.product_code.as_str(), input.key_version);
    let genuine = || claims(product, version, nonce, now);
    match variant {
        None | Some(TokenVariant::OtherKey) => token::sign_claims(&genuine(), key),
        Some(TokenVariant::WrongNonce) => {
            let wrong = format!("{}-not-your-nonce", nonce.unwrap_or("emulator"));
            token::sign_claims(&claims(product, version, Some(&wrong), now), key)
        }
        Some(TokenVariant::WrongProduct) => {
            let wrong = format!("{product}-other-product");
            token::sign_claims(&claims(&wrong, version, nonce, now), key)
        }
        Some(TokenVariant::WrongKeyVersion) => {
            token::sign_claims(&claims(product, version.saturating_add(1), nonce, now), key)
        }
        Some(TokenVariant::FutureIat) => {
            token::sign_claims(&claims(product, version, nonce, now + 3600), key)
        }
        Some(TokenVariant::NoNonce) => {
            token::sign_claims(&claims(product, version, None, now), key)
        }
        Some(TokenVariant::AlgNone) => token::unsigned_none(&genuine().to_string()),
        Some(TokenVariant::Rs256Pkcs1) => token::sign_raw(
            PS256_HEADER,
            &genuine().to_string(),
            key,
            Scheme::Rs256Pkcs1,
        ),
        Some(TokenVariant::PascalCaseClaims) => {
            let mut c = json!({
                "ProductCode": product,
                "PublicKeyVersion": version,
                "iat": now,
            });
            if let Some(n) = nonce {
                c["Nonce"] = json!(n);
            }
            token::sign_claims(&c, key)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(parse(br#"{"ProductCode":"p","PublicKeyVersion":1}"#).is_ok());
        let bad = [
            &br#"{"PublicKeyVersion":1}"#[..],
            br#"{"ProductCode":"p"}"#,
            br#"{"ProductCode":"","PublicKeyVersion":1}"#,
            br#"{"ProductCode":"p p","PublicKeyVersion":1}"#,
            br#"{"ProductCode":"p","PublicKeyVersion":0}"#,
            br#"{"ProductCode":"p","PublicKeyVersion":"1"}"#,
            br#"not json"#,
        ];
        for b in bad {
            assert!(parse(b).is_err(), "{}", String::from_utf8_lossy(b));
        }
        let long_nonce = format!(
            r#"{{"ProductCode":"p","PublicKeyVersion":1,"Nonce":"{}"}}"#,
            "n".repeat(256)
        );
        assert_eq!(
            parse(long_nonce.as_bytes()).unwrap_err().code,
            "ValidationException"
        );
    }

    /// The decision is `ProductCode`'s and `KeyVersion`'s; the wording stays AWS's, naming the
    /// constraint broken.
    #[test]
    fn refusals_name_the_constraint_in_aws_words() {
        const PATTERN: &str =
            "Member must satisfy regular expression pattern: ^[-a-zA-Z0-9/=:_.@]*$";
        const SHORT: &str = "Member must have length greater than or equal to 1";
        const LONG: &str = "Member must have length less than or equal to 255";
        const LOW: &str = "Member must have value greater than or equal to 1";
        const HIGH: &str = "Member must have value less than or equal to 2147483647";
        let long = "x".repeat(256);
        let cases = [
            ("", 1_i64, "productCode", SHORT),
            (&long, 1, "productCode", LONG),
            ("p p", 1, "productCode", PATTERN),
            ("ünï", 1, "productCode", PATTERN),
            ("p", 0, "publicKeyVersion", LOW),
            ("p", -5, "publicKeyVersion", LOW),
            ("p", 2_147_483_648, "publicKeyVersion", HIGH),
        ];
        for (code, version, member, constraint) in cases {
            let body = json!({"ProductCode": code, "PublicKeyVersion": version}).to_string();
            let err = parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.code, "ValidationException", "{body}");
            assert!(
                err.message.contains(&format!(
                    "' at '{member}' failed to satisfy constraint: {constraint}"
                )),
                "{body}: {}",
                err.message
            );
        }
        let max = parse(br#"{"ProductCode":"p","PublicKeyVersion":2147483647}"#).unwrap();
        assert_eq!(max.key_version, 2_147_483_647);
    }
}
