//! The metering endpoint `POST /`: the order every call goes through. (License Manager
//! targets, `AWSLicenseManager.*`, go to `crate::license_manager`, which has its own order.)
//!
//! 1. route on `X-Amz-Target` (`UnknownOperationException` otherwise);
//! 2. SigV4 ([`crate::sigv4`]): 403 `InvalidSignatureException` / `UnrecognizedClientException`;
//! 3. the pinned Region, if any: `InvalidRegionException`;
//! 4. input parsing and validation: 400 `SerializationException` / `ValidationException`;
//! 5. the next queued fault for the product code (then for `*`);
//! 6. the RegisterUsage throttle: `ThrottlingException`;
//! 7. the operation itself (see each module in [`crate::ops`]).
//!
//! Every call, whatever its outcome, is added to the call log.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::calls::CallRecord;
use crate::faults::{self, Effect, Endpoint};
use crate::ops::{self, Operation, TARGET_PREFIX};
use crate::outcome::{claimed_key, Outcome};
use crate::sigv4::{self, AuthError, SignedRequest};
use crate::state::origins::Origin;
use crate::state::{Received, State};
use crate::wire::DropConnection;
use crate::wire::{self, json_response, Body, ServiceError, AWS_JSON};

pub(crate) async fn handle(
    state: &Arc<State>,
    req: Received,
) -> Result<Response<Body>, DropConnection> {
    let request_id = wire::request_id();
    let target = req
        .parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(op_name) = target.strip_prefix(crate::license_manager::TARGET_PREFIX) {
        let op_name = op_name.to_owned();
        return crate::license_manager::handle(state, req, &op_name).await;
    }
    let op_name = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    let mut record = peek_record(op_name, &req);
    let outcome = match Operation::from_name(op_name) {
        Some(op) => pipeline(state, &req, op, &mut record, &request_id).await,
        None => Outcome::refusal(
            ServiceError::new(
                "UnknownOperationException",
                format!("X-Amz-Target '{target}' is not an operation of {TARGET_PREFIX}*"),
            ),
            &request_id,
        ),
    };
    outcome.finish(state, record).await
}

/// A call-log record filled from whatever the body and headers show, before any checks.
fn peek_record(op_name: &str, req: &Received) -> CallRecord {
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let claimed_key = claimed_key(req);
    CallRecord {
        operation: if op_name.is_empty() {
            "Unknown".into()
        } else {
            op_name.to_owned()
        },
        product_code: body
            .get("ProductCode")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        nonce: body
            .get("Nonce")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        key_version: body
            .get("PublicKeyVersion")
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok()),
        caller: claimed_key,
        role: None,
        service_account: None,
        outcome: String::new(),
        ..CallRecord::default()
    }
}

fn auth_error(e: AuthError) -> ServiceError {
    let status = match e {
        AuthError::Incomplete(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::FORBIDDEN,
    };
    ServiceError::new(e.code(), e.to_string()).with_status(status)
}

async fn pipeline(
    state: &State,
    req: &Received,
    op: Operation,
    record: &mut CallRecord,
    request_id: &str,
) -> Outcome {
    let signed = SignedRequest {
        method: req.parts.method.as_str(),
        path: req.parts.uri.path(),
        query: req.parts.uri.query().unwrap_or(""),
        headers: &req.parts.headers,
        body: &req.body,
    };
    let caller = match sigv4::verify(
        &signed,
        &state.credentials,
        crate::clock::now_epoch(),
        sigv4::SERVICE,
    ) {
        Ok(v) => v,
        Err(e) => return Outcome::refusal(auth_error(e), request_id),
    };
    record.caller = Some(caller.access_key_id.clone());
    if let Origin::Irsa {
        role_arn,
        service_account,
    } = state.origins.of(&caller.access_key_id, caller.session)
    {
        record.role = Some(role_arn);
        record.service_account = Some(service_account);
    }
    if let Some(pinned) = &state.region {
        if *pinned != caller.region {
            return Outcome::refusal(
                ServiceError::new(
                    op.region_error(),
                    format!(
                        "The request was signed for Region {}, but this endpoint serves {pinned}; call the endpoint of the Region the task runs in",
                        caller.region
                    ),
                ),
                request_id,
            );
        }
    }
    let input = match crate::ops::parse(op, &req.body) {
        Ok(i) => i,
        Err(e) => return Outcome::refusal(e, request_id),
    };
    let mut change = None;
    let mut trickle = None;
    let mut fault_name = None;
    if let Some(fault) = state.faults.take_for_product(input.product_code(), op) {
        let name = fault.name();
        let endpoint = Endpoint {
            request_id,
            content_type: AWS_JSON,
            // What drop_mid_response cuts short: shaped like a RegisterUsage answer.
            sample_body: Bytes::from(format!(r#"{{"Signature":"{}"}}"#, "A".repeat(512))),
            status_of: crate::wire::metering_status,
        };
        match faults::apply(fault, &endpoint).await {
            Effect::Replace(response) => return Outcome::Respond(response, name),
            Effect::Drop => return Outcome::Drop(name),
            Effect::Stall => return Outcome::Stall(name),
            Effect::Answer {
                change: c,
                trickle: t,
            } => {
                trickle = t;
                change = c.filter(|c| c.alters(op));
                fault_name = change.map(|_| name);
            }
        }
    }
    if op == Operation::RegisterUsage {
        if let Some(bucket) = &state.throttle {
            if !bucket.try_acquire() {
                return Outcome::refusal(
                    ServiceError::new("ThrottlingException", "Rate exceeded"),
                    request_id,
                );
            }
        }
    }
    match ops::run(state, input, &caller, change).await {
        Ok(value) => {
            let body = faults::paced(Bytes::from(value.to_string()), trickle);
            let name = fault_name.unwrap_or_else(|| "ok".to_owned());
            Outcome::Respond(json_response(StatusCode::OK, request_id, body), name)
        }
        Err(e) => Outcome::refusal(e, request_id),
    }
}
