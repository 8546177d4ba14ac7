//! The metering endpoint `POST /`: the order every call goes through.
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
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::calls::CallRecord;
use crate::faults::Fault;
use crate::ops::{self, Modifiers, Operation, TARGET_PREFIX};
use crate::sigv4::{self, AuthError, SignedRequest};
use crate::state::{Received, State};
use crate::wire::DropConnection;
use crate::wire::{self, error_response, json_response, Body, ServiceError};

/// What the pipeline decided.
enum Outcome {
    Respond(Response<Body>, String),
    Drop(String),
    Stall(String),
}

fn error(err: ServiceError, request_id: &str) -> Outcome {
    let name = err.code.clone();
    Outcome::Respond(error_response(&err, request_id), name)
}

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
    let op_name = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    let mut record = peek_record(op_name, &req);
    let outcome = match Operation::from_name(op_name) {
        Some(op) => pipeline(state, &req, op, &mut record, &request_id).await,
        None => error(
            ServiceError::new(
                "UnknownOperationException",
                format!("X-Amz-Target '{target}' is not an operation of {TARGET_PREFIX}*"),
            ),
            &request_id,
        ),
    };
    match outcome {
        Outcome::Respond(resp, name) => {
            record.outcome = name;
            state.calls.push(record);
            Ok(resp)
        }
        Outcome::Drop(name) => {
            record.outcome = name;
            state.calls.push(record);
            Err(DropConnection)
        }
        Outcome::Stall(name) => {
            record.outcome = name;
            state.calls.push(record);
            // Held until the client gives up (hyper then drops this future) or shutdown.
            std::future::pending().await
        }
    }
}

/// A call-log record filled from whatever the body and headers show, before any checks.
fn peek_record(op_name: &str, req: &Received) -> CallRecord {
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let claimed_key = req
        .parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .map(str::to_owned);
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
        outcome: String::new(),
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
    let caller = match sigv4::verify(&signed, &state.credentials, crate::clock::now_epoch()) {
        Ok(v) => v,
        Err(e) => return error(auth_error(e), request_id),
    };
    record.caller = Some(caller.access_key_id.clone());
    if let Some(pinned) = &state.region {
        if *pinned != caller.region {
            return error(
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
    let input = match op.parse(&req.body) {
        Ok(i) => i,
        Err(e) => return error(e, request_id),
    };
    let mut modifiers = Modifiers::default();
    let mut trickle = None;
    let mut fault_name = None;
    if let Some(fault) = state.faults.take_for_product(input.product_code()) {
        let name = fault.name();
        match fault {
            Fault::Error { code, message } => {
                let message =
                    message.unwrap_or_else(|| format!("{code} (injected by entitled-emulator)"));
                return error(ServiceError::new(code, message), request_id);
            }
            Fault::Status { status, body } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return Outcome::Respond(json_response(status, request_id, Body::full(body)), name);
            }
            Fault::Stall => return Outcome::Stall(name),
            Fault::Drop => return Outcome::Drop(name),
            Fault::DropMidResponse => {
                let fake = Bytes::from(format!(r#"{{"Signature":"{}"}}"#, "A".repeat(512)));
                return Outcome::Respond(
                    json_response(StatusCode::OK, request_id, Body::truncated(fake)),
                    name,
                );
            }
            Fault::Malformed { body } => {
                return Outcome::Respond(
                    json_response(StatusCode::OK, request_id, Body::full(body)),
                    name,
                );
            }
            Fault::Oversized { bytes } => {
                return Outcome::Respond(
                    json_response(StatusCode::OK, request_id, Body::oversized(bytes)),
                    name,
                );
            }
            Fault::Latency { millis } => tokio::time::sleep(Duration::from_millis(millis)).await,
            Fault::Trickle { bytes_per_second } => trickle = Some(bytes_per_second),
            Fault::Token(v) => {
                if op == Operation::RegisterUsage {
                    modifiers.token = Some(v);
                    fault_name = Some(name);
                }
            }
            Fault::Unprocessed => {
                if op == Operation::BatchMeterUsage {
                    modifiers.unprocessed = true;
                    fault_name = Some(name);
                }
            }
        }
    }
    if op == Operation::RegisterUsage {
        if let Some(bucket) = &state.throttle {
            if !bucket.try_acquire() {
                return error(
                    ServiceError::new("ThrottlingException", "Rate exceeded"),
                    request_id,
                );
            }
        }
    }
    match ops::run(state, input, &caller, modifiers).await {
        Ok(value) => {
            let body = Bytes::from(value.to_string());
            let body = match trickle {
                Some(bps) => Body::trickle(body, bps),
                None => Body::full(body),
            };
            let name = fault_name.unwrap_or_else(|| "ok".to_owned());
            Outcome::Respond(json_response(StatusCode::OK, request_id, body), name)
        }
        Err(e) => error(e, request_id),
    }
}
