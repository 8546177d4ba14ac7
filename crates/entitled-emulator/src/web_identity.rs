//! The emulator's OIDC provider: it issues JWTs shaped like EKS projected service-account
//! tokens (`POST /_emulator/web-identity-tokens`) and checks them for STS
//! `AssumeRoleWithWebIdentity`, as STS checks a cluster's tokens against its OIDC provider.
//!
//! Tokens are RS256 (what EKS signs with), from an RSA-2048 key generated on first use, so an
//! emulator that never serves IRSA pays nothing for it.

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::token::{sign_raw, Scheme, SigningKey};

/// The audience EKS puts in projected tokens for IRSA, and the only one STS accepts here.
pub(crate) const STS_AUDIENCE: &str = "sts.amazonaws.com";
/// The issuer URL in every token: an EKS-shaped OIDC issuer that no real cluster has.
pub(crate) const ISSUER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/ENTITLEDEMULATOR";
/// The `kid` of the OIDC key.
const KEY_ID: &str = "entitled-emulator-oidc";
/// The default token lifetime: the kubelet's default for projected tokens is one hour.
const DEFAULT_EXPIRES_IN: i64 = 3600;

/// `POST /_emulator/web-identity-tokens` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    pub namespace: String,
    pub service_account: String,
    /// Seconds until `exp`; may be negative for an already expired token.
    pub expires_in: Option<i64>,
    /// `aud`; `sts.amazonaws.com` by default.
    pub audience: Option<String>,
}

/// Who a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subject {
    /// `system:serviceaccount:NS:NAME`.
    pub sub: String,
    /// `NS:NAME`, the form the call log and role bindings use.
    pub service_account: String,
}

/// Why STS refuses a web identity token; the STS error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRefused {
    pub code: &'static str,
    pub message: String,
}

fn invalid(message: impl Into<String>) -> TokenRefused {
    TokenRefused {
        code: "InvalidIdentityToken",
        message: message.into(),
    }
}

/// The OIDC signing key, made on first use.
#[derive(Default)]
pub(crate) struct OidcProvider {
    key: Mutex<Option<SigningKey>>,
}

impl OidcProvider {
    /// The key, generating it on first use (blocking, a fraction of a second).
    fn key_blocking(&self) -> Result<SigningKey, String> {
        let mut slot = self.key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = &*slot {
            return Ok(key.clone());
        }
        let key = SigningKey::generate_rsa(2048).map_err(|e| e.to_string())?;
        *slot = Some(key.clone());
        Ok(key)
    }

    /// The key, generated off the async threads when it does not exist yet.
    async fn key(self: &Arc<Self>) -> Result<SigningKey, String> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.key_blocking())
            .await
            .map_err(|e| e.to_string())?
    }

    /// Signs a token for the service account in `req`, valid from `now`.
    pub async fn issue(self: &Arc<Self>, req: &TokenRequest, now: i64) -> Result<String, String> {
        let key = self.key().await?;
        Ok(sign_token(&key, req, now))
    }

    /// [`OidcProvider::issue`] for synchronous callers (the [`crate::Emulator`] handle).
    pub fn issue_blocking(&self, req: &TokenRequest, now: i64) -> Result<String, String> {
        Ok(sign_token(&self.key_blocking()?, req, now))
    }

    /// Checks a token as STS does: well formed, RS256 signed by this provider, issued by it,
    /// for `sts.amazonaws.com`, not expired, naming a service account.
    pub async fn validate(
        self: &Arc<Self>,
        token: &str,
        now: i64,
    ) -> Result<Subject, TokenRefused> {
        let key = self.key().await.map_err(|e| TokenRefused {
            code: "IDPCommunicationError",
            message: format!("the OIDC provider's key is unavailable: {e}"),
        })?;
        validate(&key, token, now)
    }
}

fn sign_token(key: &SigningKey, req: &TokenRequest, now: i64) -> String {
    let exp = now + req.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
    let uid: [u8; 16] = rand::random();
    let claims = json!({
        "aud": [req.audience.as_deref().unwrap_or(STS_AUDIENCE)],
        "exp": exp,
        "iat": now,
        "nbf": now,
        "iss": ISSUER,
        "kubernetes.io": {
            "namespace": req.namespace,
            "serviceaccount": {"name": req.service_account, "uid": crate::encoding::hex(&uid)},
        },
        "sub": format!("system:serviceaccount:{}:{}", req.namespace, req.service_account),
    });
    let header = json!({"alg": "RS256", "kid": KEY_ID, "typ": "JWT"});
    sign_raw(
        &header.to_string(),
        &claims.to_string(),
        key,
        Scheme::Rs256Pkcs1,
    )
}

fn validate(key: &SigningKey, token: &str, now: i64) -> Result<Subject, TokenRefused> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(
            "Couldn't parse the web identity token: not a compact JWT",
        ));
    };
    let decode = |part: &str| -> Result<Value, TokenRefused> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| invalid("Couldn't parse the web identity token: bad base64url"))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| invalid("Couldn't parse the web identity token: bad JSON"))
    };
    let header_json = decode(header)?;
    if header_json.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(invalid("The web identity token must be signed with RS256"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| invalid("Couldn't parse the web identity token: bad signature encoding"))?;
    let signed = &token.trim()[..header.len() + 1 + claims.len()];
    if !key.verify_rs256(signed.as_bytes(), &signature) {
        return Err(invalid(
            "The web identity token's signature does not verify against the OIDC provider's keys",
        ));
    }
    let claims = decode(claims)?;
    if claims.get("iss").and_then(Value::as_str) != Some(ISSUER) {
        return Err(invalid(
            "The web identity token's issuer is not a known OIDC provider",
        ));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == STS_AUDIENCE,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(STS_AUDIENCE)),
        _ => false,
    };
    if !audience_ok {
        return Err(invalid(format!(
            "Incorrect token audience: the token's aud must include {STS_AUDIENCE}"
        )));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now {
        return Err(TokenRefused {
            code: "ExpiredTokenException",
            message: format!(
                "Token expired: current date/time {} must be before the expiration date/time {}",
                crate::clock::rfc3339(now.max(0) as u64),
                crate::clock::rfc3339(exp.max(0) as u64)
            ),
        });
    }
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let Some(service_account) = sub.strip_prefix("system:serviceaccount:") else {
        return Err(invalid(
            "The web identity token's sub is not system:serviceaccount:NS:NAME",
        ));
    };
    Ok(Subject {
        sub: sub.to_owned(),
        service_account: service_account.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(expires_in: Option<i64>, audience: Option<&str>) -> TokenRequest {
        TokenRequest {
            namespace: "shop".into(),
            service_account: "app".into(),
            expires_in,
            audience: audience.map(str::to_owned),
        }
    }

    /// Every way a token can be wrong, with the STS error it gets.
    #[test]
    fn tokens_are_checked_as_sts_checks_them() {
        let provider = OidcProvider::default();
        let now = 1_800_000_000;
        let good = provider.issue_blocking(&request(None, None), now).unwrap();
        let key = provider.key_blocking().unwrap();
        let subject = validate(&key, &good, now).unwrap();
        assert_eq!(subject.sub, "system:serviceaccount:shop:app");
        assert_eq!(subject.service_account, "shop:app");

        let other_key = SigningKey::generate_rsa(2048).unwrap();
        let forged = sign_token(&other_key, &request(None, None), now);
        let expired = provider
            .issue_blocking(&request(Some(-1), None), now)
            .unwrap();
        let wrong_aud = provider
            .issue_blocking(&request(None, Some("vault")), now)
            .unwrap();
        let (head, _) = good.rsplit_once('.').unwrap();
        let cases = [
            (forged.as_str(), "InvalidIdentityToken"),
            (expired.as_str(), "ExpiredTokenException"),
            (wrong_aud.as_str(), "InvalidIdentityToken"),
            ("not-a-jwt", "InvalidIdentityToken"),
            (&format!("{head}.AAAA"), "InvalidIdentityToken"),
        ];
        for (token, code) in cases {
            assert_eq!(
                validate(&key, token, now).unwrap_err().code,
                code,
                "{token}"
            );
        }
        assert_eq!(
            validate(&key, &good, now + DEFAULT_EXPIRES_IN)
                .unwrap_err()
                .code,
            "ExpiredTokenException"
        );
    }
}
