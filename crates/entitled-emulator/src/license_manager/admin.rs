//! The License Manager admin routes (no signing): licences, Anywhere licence tokens, issuer
//! public keys and the licence clock. Shapes are in the crate README; unknown JSON fields are
//! refused with 400 naming them.

use http::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::encoding::percent_decode;
use crate::licenses::{anywhere, check_status, shapes, LicenseSpec};
use crate::state::{Received, State};
use crate::wire::{admin_response, Body};

const LICENSES: &str = "/_emulator/licenses";
const LICENSE_TOKENS: &str = "/_emulator/license-tokens";
const PUBLIC_KEY: &str = "/_emulator/license-issuers/public-key";
const CLOCK: &str = "/_emulator/clock";

fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    admin_response(status, "text/plain; charset=utf-8", body.into())
}

fn json_ok(status: StatusCode, v: &serde_json::Value) -> Response<Body> {
    admin_response(status, "application/json", v.to_string())
}

/// The body as `T`, or a 400 naming what is wrong and the shape expected.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{e}; expected {shape}\n"))
}

fn bad_request(message: String) -> Response<Body> {
    text(StatusCode::BAD_REQUEST, message)
}

/// Serves `req` when it is a License Manager admin route; `None` otherwise.
pub(crate) async fn route(state: &State, req: &Received) -> Option<Response<Body>> {
    let path = req.parts.uri.path().trim_end_matches('/');
    let method = &req.parts.method;
    let response = match (method, path) {
        (&Method::POST, LICENSES) => add(state, &req.body).await,
        (&Method::GET, LICENSES) => {
            let now = state.licenses.clock.now();
            let all: Vec<_> = state
                .licenses
                .store
                .snapshot()
                .iter()
                .map(|l| shapes::admin(l, now))
                .collect();
            json_ok(StatusCode::OK, &json!(all))
        }
        (&Method::PATCH, p) if p.starts_with(&format!("{LICENSES}/")) => {
            patch(state, &percent_decode(&p[LICENSES.len() + 1..]), &req.body)
        }
        (&Method::POST, LICENSE_TOKENS) => license_token(state, &req.body).await,
        (&Method::DELETE, LICENSE_TOKENS) => revoke(state, &req.body).await,
        (&Method::GET, PUBLIC_KEY) => public_key(state, req.parts.uri.query().unwrap_or("")),
        (&Method::GET, CLOCK) => clock(state),
        (&Method::POST, CLOCK) => advance(state, &req.body),
        _ => return None,
    };
    Some(response)
}

async fn add(state: &State, bytes: &[u8]) -> Response<Body> {
    let spec: LicenseSpec = match body(
        bytes,
        r#"{"product_sku", "entitlements": [{"name", "unit", ...}], ...}"#,
    ) {
        Ok(s) => s,
        Err(e) => return bad_request(e),
    };
    match state.licenses.add(spec).await {
        Ok(arn) => json_ok(StatusCode::CREATED, &json!({ "license_arn": arn })),
        Err(e) => text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    }
}

fn patch(state: &State, arn: &str, bytes: &[u8]) -> Response<Body> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        status: String,
    }
    let patch: Patch = match body(bytes, r#"{"status": "SUSPENDED"}"#) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    if let Err(e) = check_status(&patch.status) {
        return text(StatusCode::BAD_REQUEST, format!("{e}\n"));
    }
    let lm = &state.licenses;
    if !lm.store.set_status(arn, &patch.status) {
        return text(StatusCode::NOT_FOUND, format!("no licence {arn}\n"));
    }
    match lm.store.get(arn) {
        Some(l) => json_ok(StatusCode::OK, &shapes::admin(&l, lm.clock.now())),
        None => text(StatusCode::NOT_FOUND, format!("no licence {arn}\n")),
    }
}

async fn license_token(state: &State, bytes: &[u8]) -> Response<Body> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TokenRequest {
        license_arn: String,
        role_arn: Option<String>,
        #[serde(default)]
        expired: bool,
    }
    let req: TokenRequest = match body(bytes, r#"{"license_arn", "role_arn"?, "expired"?}"#) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    if let Some(role) = req
        .role_arn
        .as_deref()
        .filter(|r| !crate::roles::is_role_arn(r))
    {
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "role_arn {role:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)\n"
            ),
        );
    }
    let lm = &state.licenses;
    let Some(license) = lm.store.get(&req.license_arn) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("no licence {}\n", req.license_arn),
        );
    };
    let key = match lm.keys.token_key().await {
        Ok(k) => k,
        Err(e) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("token key: {e}\n"),
            )
        }
    };
    let token = anywhere::refresh_token(
        &key,
        &license.arn,
        &license.beneficiary,
        req.role_arn.as_deref(),
        lm.clock.now(),
        req.expired,
    );
    json_ok(StatusCode::CREATED, &json!({ "token": token }))
}

async fn revoke(state: &State, bytes: &[u8]) -> Response<Body> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Revoke {
        token: String,
    }
    let req: Revoke = match body(bytes, r#"{"token": LICENCE_TOKEN}"#) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    let lm = &state.licenses;
    let key = match lm.keys.token_key().await {
        Ok(k) => k,
        Err(e) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("token key: {e}\n"),
            )
        }
    };
    // Revoking an expired token is allowed: only its id matters.
    let far_past = 0;
    match anywhere::check_refresh(&key, &req.token, far_past, &lm.revoked) {
        Ok(claims) => {
            lm.revoked.revoke(&claims.token_id);
            text(StatusCode::OK, "revoked\n")
        }
        Err(e) => text(StatusCode::BAD_REQUEST, format!("{}\n", e.message)),
    }
}

fn public_key(state: &State, query: &str) -> Response<Body> {
    let fingerprint = query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "fingerprint").then(|| percent_decode(v))
    });
    let Some(fingerprint) = fingerprint else {
        return text(
            StatusCode::BAD_REQUEST,
            "query parameter fingerprint=FP is required\n",
        );
    };
    match state.licenses.keys.issuer_if_made(&fingerprint) {
        Some(key) => admin_response(
            StatusCode::OK,
            "application/x-pem-file",
            key.public_key_pem(),
        ),
        None => text(
            StatusCode::NOT_FOUND,
            format!("no licence is issued with key fingerprint {fingerprint}\n"),
        ),
    }
}

fn clock(state: &State) -> Response<Body> {
    let c = &state.licenses.clock;
    json_ok(
        StatusCode::OK,
        &json!({"now": crate::clock::rfc3339(c.now()), "offset_seconds": c.offset()}),
    )
}

fn advance(state: &State, bytes: &[u8]) -> Response<Body> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Advance {
        advance_seconds: u64,
    }
    let req: Advance = match body(
        bytes,
        r#"{"advance_seconds": N} (N >= 0: the clock only moves forward)"#,
    ) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    state.licenses.clock.advance(req.advance_seconds);
    clock(state)
}
