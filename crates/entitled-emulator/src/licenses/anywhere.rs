//! License Manager's Anywhere tokens. A buyer's licence token (what `CreateToken` makes: a JWT
//! whose `aud` is the licence ARN, valid 365 days) is exchanged by `GetAccessToken` for an
//! access token (one hour), which STS `AssumeRoleWithWebIdentity` takes for a role trusting
//! `openid-license-manager.amazonaws.com`.
//!
//! Both are RS256 JWTs signed with the emulator's License Manager token key, and judged on the
//! licence clock. `token_use` tells them apart, so neither can stand in for the other.

use std::collections::HashSet;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::token::{sign_raw, Scheme, SigningKey};

/// The `iss` of every License Manager token.
pub(crate) const ISSUER: &str = "https://license-manager.amazonaws.com/entitled-emulator";
/// A licence token's default lifetime, as `CreateToken`'s `ExpirationInDays` (365).
const REFRESH_SECONDS: u64 = 365 * 86_400;
/// An access token's lifetime.
const ACCESS_SECONDS: u64 = 3600;
const HEADER: &str = r#"{"alg":"RS256","typ":"JWT","kid":"entitled-emulator-license-manager"}"#;

/// What a valid licence (refresh) token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefreshClaims {
    pub license_arn: String,
    /// The account the licence is granted to, which created the token.
    pub account: String,
    pub role_arns: Vec<String>,
    pub token_id: String,
}

/// What a valid access token lets STS do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessClaims {
    pub license_arn: String,
    pub account: String,
    pub role_arns: Vec<String>,
    /// `amr`: `aws:license-manager:token-issuer-account-id:<ACCOUNT>`, which trust policies
    /// match on.
    pub amr: String,
}

/// Why a token was refused: the error code (`ValidationException`, `AuthorizationException`
/// for GetAccessToken; `InvalidIdentityToken`, `ExpiredTokenException` for STS) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub code: &'static str,
    pub message: String,
}

fn refused(code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        code,
        message: message.into(),
    }
}

/// Licence tokens revoked through the admin API, by token id.
#[derive(Debug, Default)]
pub(crate) struct Revoked {
    ids: Mutex<HashSet<String>>,
}

impl Revoked {
    pub fn revoke(&self, token_id: &str) {
        self.lock().insert(token_id.to_owned());
    }

    fn contains(&self, token_id: &str) -> bool {
        self.lock().contains(token_id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A licence token for `license_arn` granted to `account`, made `now` (licence clock);
/// already expired when `expired`.
pub(crate) fn refresh_token(
    key: &SigningKey,
    license_arn: &str,
    account: &str,
    role_arn: Option<&str>,
    now: u64,
    expired: bool,
) -> String {
    let id: [u8; 16] = rand::random();
    let (iat, exp) = if expired {
        (now - REFRESH_SECONDS.min(now), now.saturating_sub(1))
    } else {
        (now, now + REFRESH_SECONDS)
    };
    let claims = json!({
        "iss": ISSUER,
        "aud": license_arn,
        "sub": account,
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "jti": crate::encoding::hex(&id),
        "token_use": "refresh",
        "roleArns": role_arn.into_iter().collect::<Vec<_>>(),
    });
    sign_raw(HEADER, &claims.to_string(), key, Scheme::Rs256Pkcs1)
}

/// GetAccessToken's check of a licence token: `ValidationException` for something that is
/// not one of this emulator's tokens at all, `AuthorizationException` for one that is forged,
/// expired or revoked.
pub(crate) fn check_refresh(
    key: &SigningKey,
    token: &str,
    now: u64,
    revoked: &Revoked,
) -> Result<RefreshClaims, Refused> {
    let claims = verified_claims(
        key,
        token,
        "refresh",
        "ValidationException",
        "AuthorizationException",
    )?;
    let token_id = string(&claims, "jti");
    if revoked.contains(&token_id) {
        return Err(refused(
            "AuthorizationException",
            "The licence token has been revoked; create a new one",
        ));
    }
    if expired(&claims, now) {
        return Err(refused(
            "AuthorizationException",
            "The licence token has expired; create a new one",
        ));
    }
    Ok(RefreshClaims {
        license_arn: string(&claims, "aud"),
        account: string(&claims, "sub"),
        role_arns: strings(&claims, "roleArns"),
        token_id,
    })
}

/// The access token GetAccessToken answers for a checked licence token.
pub(crate) fn access_token(key: &SigningKey, refresh: &RefreshClaims, now: u64) -> String {
    let id: [u8; 16] = rand::random();
    let claims = json!({
        "iss": ISSUER,
        "aud": crate::roles::LICENSE_MANAGER_PRINCIPAL,
        "sub": refresh.account,
        "amr": [format!("aws:license-manager:token-issuer-account-id:{}", refresh.account)],
        "licenseArn": refresh.license_arn,
        "roleArns": refresh.role_arns,
        "rti": refresh.token_id,
        "iat": now,
        "exp": now + ACCESS_SECONDS,
        "jti": crate::encoding::hex(&id),
        "token_use": "access",
    });
    sign_raw(HEADER, &claims.to_string(), key, Scheme::Rs256Pkcs1)
}

/// STS's check of an access token: `InvalidIdentityToken` unless it is a genuine access
/// token whose licence token was not revoked; `ExpiredTokenException` past its hour.
pub(crate) fn check_access(
    key: &SigningKey,
    token: &str,
    now: u64,
    revoked: &Revoked,
) -> Result<AccessClaims, Refused> {
    let claims = verified_claims(
        key,
        token,
        "access",
        "InvalidIdentityToken",
        "InvalidIdentityToken",
    )?;
    if revoked.contains(&string(&claims, "rti")) {
        return Err(refused(
            "InvalidIdentityToken",
            "The licence token this access token came from has been revoked",
        ));
    }
    if expired(&claims, now) {
        return Err(refused(
            "ExpiredTokenException",
            "Token expired: the License Manager access token is older than one hour; call GetAccessToken again",
        ));
    }
    let account = string(&claims, "sub");
    Ok(AccessClaims {
        license_arn: string(&claims, "licenseArn"),
        amr: strings(&claims, "amr")
            .into_iter()
            .next()
            .unwrap_or_default(),
        role_arns: strings(&claims, "roleArns"),
        account,
    })
}

/// True when `token` claims to come from this emulator's License Manager (whether or not it
/// verifies): STS then judges it as an access token rather than an EKS one.
pub(crate) fn issued_here(token: &str) -> bool {
    parts(token).is_some_and(|(_, claims, _)| {
        decode_json(claims).is_some_and(|c| c.get("iss").and_then(Value::as_str) == Some(ISSUER))
    })
}

fn parts(token: &str) -> Option<(&str, &str, &str)> {
    let mut it = token.trim().split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(c), Some(s), None) => Some((h, c, s)),
        _ => None,
    }
}

fn decode_json(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// The claims of a well-formed token of kind `token_use` whose signature verifies:
/// `malformed` when it is not such a token, `forged` when the signature or kind is wrong.
fn verified_claims(
    key: &SigningKey,
    token: &str,
    token_use: &str,
    malformed: &'static str,
    forged: &'static str,
) -> Result<Value, Refused> {
    let not_ours = || {
        refused(
            malformed,
            format!("The token is not a License Manager {token_use} token"),
        )
    };
    let (header, claims, signature) = parts(token).ok_or_else(not_ours)?;
    let claims_json = decode_json(claims).ok_or_else(not_ours)?;
    decode_json(header).ok_or_else(not_ours)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| not_ours())?;
    let signed = &token.trim()[..header.len() + 1 + claims.len()];
    if !key.verify_rs256(signed.as_bytes(), &signature) {
        return Err(refused(
            forged,
            "The token's signature is not License Manager's",
        ));
    }
    if claims_json.get("token_use").and_then(Value::as_str) != Some(token_use) {
        return Err(refused(
            forged,
            format!("The token is not a {token_use} token"),
        ));
    }
    Ok(claims_json)
}

fn expired(claims: &Value, now: u64) -> bool {
    claims.get("exp").and_then(Value::as_u64).unwrap_or(0) <= now
}

fn string(claims: &Value, name: &str) -> String {
    claims
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn strings(claims: &Value, name: &str) -> Vec<String> {
    claims
        .get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way a token can be wrong, with the error each exchange gives it.
    #[test]
    fn tokens_are_judged_by_kind_signature_time_and_revocation() {
        let key = crate::fixtures::signing_key("TEST-ONLY-product-key-rsa2048.private.pem");
        let other = crate::fixtures::signing_key(crate::fixtures::V1_KEY);
        let arn = "arn:aws:license-manager::294406891311:license:l-1";
        let now = 1_800_000_000;
        let revoked = Revoked::default();
        let good = refresh_token(&key, arn, "123456789012", None, now, false);
        let claims = check_refresh(&key, &good, now, &revoked).unwrap();
        assert_eq!(claims.license_arn, arn);
        assert_eq!(claims.account, "123456789012");
        let access = access_token(&key, &claims, now);
        assert!(issued_here(&access) && issued_here(&good));
        let checked = check_access(&key, &access, now, &revoked).unwrap();
        assert_eq!(
            checked.amr,
            "aws:license-manager:token-issuer-account-id:123456789012"
        );

        let expired_token = refresh_token(&key, arn, "123456789012", None, now, true);
        let forged = refresh_token(&other, arn, "123456789012", None, now, false);
        let refresh_cases = [
            ("not a token", "ValidationException"),
            (expired_token.as_str(), "AuthorizationException"),
            (forged.as_str(), "AuthorizationException"),
            (access.as_str(), "AuthorizationException"),
        ];
        for (token, code) in refresh_cases {
            assert_eq!(
                check_refresh(&key, token, now, &revoked).unwrap_err().code,
                code,
                "{token}"
            );
        }
        assert_eq!(
            check_access(&key, &access, now + ACCESS_SECONDS, &revoked)
                .unwrap_err()
                .code,
            "ExpiredTokenException"
        );
        assert_eq!(
            check_access(&key, &good, now, &revoked).unwrap_err().code,
            "InvalidIdentityToken"
        );
        revoked.revoke(&claims.token_id);
        assert_eq!(
            check_refresh(&key, &good, now, &revoked).unwrap_err().code,
            "AuthorizationException"
        );
        assert_eq!(
            check_access(&key, &access, now, &revoked).unwrap_err().code,
            "InvalidIdentityToken"
        );
    }
}
