//! The admin API under `/_emulator/`: ECS and Pod Identity credentials, web identity tokens,
//! public keys, the call log, faults and registration tokens. No SigV4 here; it is a test tool
//! on loopback.

use bytes::Bytes;
use entitled_verify::{KeyVersion, ProductCode};
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
  GET    /_emulator/usage                    MeterUsage totals: JSON array of {product_code,
                                             caller, dimension, hour, tags, quantity}
  GET    /_emulator/faults                   queued faults
  POST   /_emulator/faults                   queue {\"target\": CODE|\"*\"|\"@credentials\"|\"@sts\"|\"@pod-identity\",
                                             \"fault\": {\"kind\": ...}, \"times\": N,
                                             \"operation\"?: RegisterUsage|MeterUsage|
                                             BatchMeterUsage|ResolveCustomer|CheckoutLicense|
                                             ExtendLicenseConsumption|CheckInLicense|
                                             GetLicense|ListReceivedLicenses|GetAccessToken}
                                             (or an array); License Manager calls use the
                                             queue of their product SKU, then \"*\";
                                             a call uses the first fault that applies to it
  DELETE /_emulator/faults                   drop every queued fault
  POST   /_emulator/registration-tokens      {\"product_code\": CODE, \"customer_identifier\"?,
                                             \"customer_aws_account_id\"?, \"license_arn\"?,
                                             \"expired\"?: bool}
                                             -> {\"registration_token\": ..., ...} for ResolveCustomer
License Manager (AWSLicenseManager.*; shapes in the crate README):
  POST   /_emulator/licenses                 {\"product_sku\", \"entitlements\": [{\"name\", \"unit\",
                                             \"value\"?, \"max_count\"?, \"overage\"?,
                                             \"allow_check_in\"?}], \"beneficiary\"?, \"status\"?,
                                             \"validity\"?: {\"begin\", \"end\"}, \"issuer_name\"?,
                                             \"key_fingerprint\"?, \"provisional_ttl_minutes\"?}
                                             -> 201 {\"license_arn\"}
  GET    /_emulator/licenses                 licences with their live consumptions
  PATCH  /_emulator/licenses/<url-encoded ARN>
                                             {\"status\": AVAILABLE|SUSPENDED|EXPIRED|...}
  POST   /_emulator/license-tokens           {\"license_arn\", \"role_arn\"?, \"expired\"?: bool}
                                             -> 201 {\"token\"}: an Anywhere licence token
  DELETE /_emulator/license-tokens           {\"token\"}: revoke it
  GET    /_emulator/license-issuers/public-key?fingerprint=FP
                                             SPKI PEM that verifies SignedToken (PS384)
  GET    /_emulator/clock                    {\"now\", \"offset_seconds\"}: the licence clock
  POST   /_emulator/clock                    {\"advance_seconds\": N}: move it forward (licence
                                             validity, consumptions, tokens; not SigV4)
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
    if let Some(response) = crate::license_manager::admin::route(state, &req).await {
        return Ok(response);
    }
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
    // Refused before any lookup: an unconfigured code would otherwise get a key generated
    // for it, though no call could ever name it.
    let product = match ProductCode::try_from(product) {
        Ok(code) => code,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let version = match query_param(query, "version").map(|v| v.parse::<KeyVersion>()) {
        None => KeyVersion::FIRST,
        Some(Ok(v)) => v,
        Some(Err(e)) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    match state.keys.resolve(product.as_str(), version.get()).await {
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
        Ok(OneOrMany::One(f)) => push_checked(state, vec![f]),
        Ok(OneOrMany::Many(v)) => push_checked(state, v),
        Err(e) => text(
            StatusCode::BAD_REQUEST,
            format!(
                "expected {{\"target\": ..., \"fault\": {{\"kind\": ...}}, \"times\": N}}: {e}\n"
            ),
        ),
    }
}

/// Queues every fault, or none if one of them can never apply.
fn push_checked(state: &State, faults: Vec<ScheduledFault>) -> Response<Body> {
    if let Some(problem) = faults.iter().find_map(|f| f.check().err()) {
        return text(StatusCode::BAD_REQUEST, format!("{problem}\n"));
    }
    for f in faults {
        state.faults.push(&f.target, f.fault, f.times, f.operation);
    }
    json_ok(StatusCode::OK, &state.faults.snapshot())
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
        license_arn: Option<String>,
        #[serde(default)]
        expired: bool,
    }
    match serde_json::from_slice::<Req>(body) {
        Ok(r) => {
            if let Some(problem) = r.license_arn.as_deref().and_then(license_arn_problem) {
                return text(StatusCode::BAD_REQUEST, format!("{problem}\n"));
            }
            let reg = state.registrations.issue(
                &r.product_code,
                r.customer_identifier,
                r.customer_aws_account_id,
                r.license_arn,
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

/// Why `arn` cannot be a licence ARN, if it cannot: AWS License Manager ARNs start with
/// `arn:aws` (any partition) and the model allows at most 510 characters.
fn license_arn_problem(arn: &str) -> Option<String> {
    (!arn.starts_with("arn:aws") || arn.len() > 510).then(|| {
        format!(
            "license_arn {arn:?} is not a licence ARN; use one like arn:aws:license-manager::123456789012:license:l-0123456789abcdef"
        )
    })
}
