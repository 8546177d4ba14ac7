//! The admin API under `/_emulator/`: ECS and Pod Identity credentials, web identity tokens,
//! public keys, the call log, faults and registration tokens. No SigV4 here; it is a test tool
//! on loopback.

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::container_credentials::{self, Agent};
use crate::faults::ScheduledFault;
use crate::state::{Received, State};
use crate::web_identity::TokenRequest;
use crate::wire::DropConnection;
use crate::wire::{admin_response, Body};

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
  GET    /_emulator/pod-identity/credentials the EKS Pod Identity agent: the same JSON with
                                             credentials AWS Marketplace refuses (platform
                                             rule); same Authorization rule; \"@pod-identity\"
  POST   /_emulator/web-identity-tokens      {\"namespace\": NS, \"service_account\": NAME,
                                             \"expires_in\"?: seconds, \"audience\"?: AUD}
                                             -> {\"token\": JWT}, an EKS-shaped projected
                                             service-account token for STS
                                             AssumeRoleWithWebIdentity (POST / awsQuery,
                                             fault target \"@sts\")
  GET    /_emulator/public-key?product=CODE&version=N
                                             SPKI PEM public key (version defaults to 1)
  GET    /_emulator/ca                       the CA certificate PEM (with --tls)
  GET    /_emulator/calls                    the call log: JSON array of {operation,
                                             product_code, nonce, key_version, caller, outcome}
  DELETE /_emulator/calls                    empty the call log
  GET    /_emulator/faults                   queued faults
  POST   /_emulator/faults                   queue {\"target\": CODE|\"*\"|\"@credentials\"|\"@sts\"|\"@pod-identity\",
                                             \"fault\": {\"kind\": ...}, \"times\": N} (or an array)
  DELETE /_emulator/faults                   drop every queued fault
  POST   /_emulator/registration-tokens      {\"product_code\": CODE, \"customer_identifier\"?,
                                             \"customer_aws_account_id\"?, \"expired\"?: bool}
                                             -> {\"registration_token\": ..., ...} for ResolveCustomer
Instance metadata (IMDSv2, node role; AWS_EC2_METADATA_SERVICE_ENDPOINT=this address):
  PUT    /latest/api/token                   the session token
  GET    /latest/meta-data/iam/security-credentials/[ROLE]
                                             with X-aws-ec2-metadata-token: the role name, then
                                             its credentials, which the platform rule refuses
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
        (&Method::GET, "/_emulator/credentials") => {
            return container_credentials::serve(state, &req, Agent::Ecs).await
        }
        (&Method::GET, "/_emulator/pod-identity/credentials") => {
            return container_credentials::serve(state, &req, Agent::PodIdentity).await
        }
        (&Method::POST, "/_emulator/web-identity-tokens") => {
            web_identity_token(state, &req.body).await
        }
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

async fn web_identity_token(state: &State, body: &[u8]) -> Response<Body> {
    let request = match serde_json::from_slice::<TokenRequest>(body) {
        Ok(r) => r,
        Err(e) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"namespace\": NS, \"service_account\": NAME}}: {e}\n"),
            )
        }
    };
    let now = crate::clock::now_epoch() as i64;
    match state.oidc.issue(&request, now).await {
        Ok(token) => json_ok(StatusCode::OK, &json!({ "token": token })),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the OIDC key could not be generated: {e}\n"),
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
