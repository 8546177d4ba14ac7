//! The admin API under `/_emulator/`: ECS credentials, public keys, the call log, faults and
//! registration tokens. No SigV4 here; it is a test tool on loopback.

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{self, Effect, Endpoint, ScheduledFault, CREDENTIALS_TARGET};
use crate::state::{Received, State};
use crate::wire::DropConnection;
use crate::wire::{self, admin_response, Body};

/// How long served session credentials claim to be valid.
const CREDENTIALS_LIFETIME_SECONDS: u64 = 6 * 3600;

/// The admin routes, for `--help` and `GET /_emulator/`.
pub const ADMIN_HELP: &str = "\
Admin API (no signing):
  GET    /_emulator/                         this list
  GET    /_emulator/health                   \"ok\"
  GET    /_emulator/credentials              ECS container credentials JSON (AccessKeyId,
                                             SecretAccessKey, Token, Expiration, RoleArn);
                                             with --container-authorization, a missing
                                             Authorization header gets 401, a wrong one 403;
                                             fault target \"@credentials\"
  GET    /_emulator/public-key?product=CODE&version=N
                                             SPKI PEM public key (version defaults to 1)
  GET    /_emulator/ca                       the CA certificate PEM (with --tls)
  GET    /_emulator/calls                    the call log: JSON array of {operation,
                                             product_code, nonce, key_version, caller, outcome}
  DELETE /_emulator/calls                    empty the call log
  GET    /_emulator/usage                    MeterUsage totals: JSON array of {product_code,
                                             caller, dimension, hour, tags, quantity}
  GET    /_emulator/faults                   queued faults
  POST   /_emulator/faults                   queue {\"target\": CODE|\"*\"|\"@credentials\",
                                             \"fault\": {\"kind\": ...}, \"times\": N} (or an array)
  DELETE /_emulator/faults                   drop every queued fault
  POST   /_emulator/registration-tokens      {\"product_code\": CODE, \"customer_identifier\"?,
                                             \"customer_aws_account_id\"?, \"expired\"?: bool}
                                             -> {\"registration_token\": ..., ...} for ResolveCustomer
Fault kinds: error{code,message?} status{status,body} latency{millis} stall drop
  drop_mid_response malformed{body} oversized{bytes} trickle{bytes_per_second}
  token{variant: wrong_nonce|wrong_product|wrong_key_version|other_key|future_iat|no_nonce|
  alg_none|rs256_pkcs1|pascal_case_claims} unprocessed
";

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    admin_response(status, "text/plain; charset=utf-8", body)
}

fn json_ok(status: StatusCode, v: &impl serde::Serialize) -> Response<Body> {
    admin_response(
        status,
        "application/json",
        serde_json::to_string(v).unwrap_or_default(),
    )
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (crate::encoding::percent_decode(k) == name).then(|| crate::encoding::percent_decode(v))
    })
}

pub(crate) async fn handle(state: &State, req: Received) -> Result<Response<Body>, DropConnection> {
    let path = req.parts.uri.path().trim_end_matches('/');
    let query = req.parts.uri.query().unwrap_or("");
    let method = &req.parts.method;
    Ok(match (method, path) {
        (&Method::GET, "/_emulator") => text(StatusCode::OK, ADMIN_HELP),
        (&Method::GET, "/_emulator/health") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/_emulator/credentials") => return credentials(state, &req).await,
        (&Method::GET, "/_emulator/public-key") => public_key(state, query).await,
        (&Method::GET, "/_emulator/ca") => match &state.ca_pem {
            Some(pem) => admin_response(StatusCode::OK, "application/x-pem-file", pem.clone()),
            None => text(StatusCode::NOT_FOUND, "not serving TLS\n"),
        },
        (&Method::GET, "/_emulator/calls") => json_ok(StatusCode::OK, &state.calls.snapshot()),
        (&Method::DELETE, "/_emulator/calls") => {
            state.calls.clear();
            text(StatusCode::OK, "cleared\n")
        }
        (&Method::GET, "/_emulator/usage") => json_ok(StatusCode::OK, &state.meter_hours.totals()),
        (&Method::GET, "/_emulator/faults") => json_ok(StatusCode::OK, &state.faults.snapshot()),
        (&Method::POST, "/_emulator/faults") => push_faults(state, &req.body),
        (&Method::DELETE, "/_emulator/faults") => {
            state.faults.clear();
            text(StatusCode::OK, "cleared\n")
        }
        (&Method::POST, "/_emulator/registration-tokens") => registration(state, &req.body),
        _ => text(
            StatusCode::NOT_FOUND,
            format!("no admin route {method} {path}\n\n{ADMIN_HELP}"),
        ),
    })
}

async fn public_key(state: &State, query: &str) -> Response<Body> {
    let Some(product) = query_param(query, "product") else {
        return text(
            StatusCode::BAD_REQUEST,
            "query parameter product=CODE is required\n",
        );
    };
    let version = match query_param(query, "version").map(|v| v.parse::<u32>()) {
        None => 1,
        Some(Ok(v)) => v,
        Some(Err(_)) => {
            return text(
                StatusCode::BAD_REQUEST,
                "version must be a positive integer\n",
            )
        }
    };
    match state.keys.resolve(&product, version).await {
        Ok(k) => admin_response(
            StatusCode::OK,
            "application/x-pem-file",
            k.key.public_key_pem(),
        ),
        Err(e) => text(
            StatusCode::NOT_FOUND,
            format!("no key for product {product} version {version}: {e:?}\n"),
        ),
    }
}

fn push_faults(state: &State, body: &[u8]) -> Response<Body> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(ScheduledFault),
        Many(Vec<ScheduledFault>),
    }
    match serde_json::from_slice::<OneOrMany>(body) {
        Ok(OneOrMany::One(f)) => {
            state.faults.push(&f.target, f.fault, f.times);
            json_ok(StatusCode::OK, &state.faults.snapshot())
        }
        Ok(OneOrMany::Many(v)) => {
            for f in v {
                state.faults.push(&f.target, f.fault, f.times);
            }
            json_ok(StatusCode::OK, &state.faults.snapshot())
        }
        Err(e) => text(
            StatusCode::BAD_REQUEST,
            format!(
                "expected {{\"target\": ..., \"fault\": {{\"kind\": ...}}, \"times\": N}}: {e}\n"
            ),
        ),
    }
}

fn registration(state: &State, body: &[u8]) -> Response<Body> {
    #[derive(Deserialize)]
    struct Req {
        product_code: String,
        customer_identifier: Option<String>,
        customer_aws_account_id: Option<String>,
        #[serde(default)]
        expired: bool,
    }
    match serde_json::from_slice::<Req>(body) {
        Ok(r) => {
            let reg = state.registrations.issue(
                &r.product_code,
                r.customer_identifier,
                r.customer_aws_account_id,
                r.expired,
            );
            json_ok(StatusCode::CREATED, &reg)
        }
        Err(e) => text(
            StatusCode::BAD_REQUEST,
            format!("expected {{\"product_code\": ...}}: {e}\n"),
        ),
    }
}

/// The ECS container-credentials endpoint, as the ECS agent serves it.
async fn credentials(state: &State, req: &Received) -> Result<Response<Body>, DropConnection> {
    if let Some(expected) = &state.container_authorization {
        match req.parts.headers.get("authorization") {
            None => {
                return Ok(text(
                    StatusCode::UNAUTHORIZED,
                    "Authorization header required\n",
                ))
            }
            Some(got) if got.as_bytes() != expected.as_bytes() => {
                return Ok(text(
                    StatusCode::FORBIDDEN,
                    "Authorization token does not match\n",
                ))
            }
            Some(_) => {}
        }
    }
    let request_id = wire::request_id();
    let s = &state.session;
    let endpoint = Endpoint {
        request_id: &request_id,
        content_type: "application/json",
        sample_body: Bytes::from(
            json!({
                "AccessKeyId": s.access_key_id,
                "SecretAccessKey": s.secret_access_key,
                "Token": s.session_token,
                "Expiration": crate::clock::rfc3339(crate::clock::now_epoch() + CREDENTIALS_LIFETIME_SECONDS),
                "RoleArn": "arn:aws:iam::123456789012:role/entitled-emulator-task-role",
            })
            .to_string(),
        ),
    };
    let effect = match state.faults.take(CREDENTIALS_TARGET) {
        Some(fault) => faults::apply(fault, &endpoint).await,
        None => Effect::Answer {
            change: None,
            trickle: None,
        },
    };
    Ok(match effect {
        Effect::Replace(response) => response,
        Effect::Drop => return Err(DropConnection),
        Effect::Stall => std::future::pending().await,
        // No change applies to credentials: they are answered normally.
        Effect::Answer { trickle, .. } => endpoint.respond(
            StatusCode::OK,
            faults::paced(endpoint.sample_body.clone(), trickle),
        ),
    })
}
