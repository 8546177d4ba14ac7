//! AWS License Manager on the metering listener: `POST /` with `X-Amz-Target:
//! AWSLicenseManager.<Operation>` (awsJson1.1). The order every call goes through:
//!
//! 1. the operation (`UnknownOperationException` otherwise);
//! 2. SigV4 with signing name `license-manager` (403 `InvalidSignatureException` /
//!    `UnrecognizedClientException`), except GetAccessToken, which is unsigned;
//! 3. the pinned Region, if any: 308 `RedirectException` with a `Location` header;
//! 4. input parsing and validation ([`input`]): 400 `SerializationException` /
//!    `ValidationException` / `InvalidParameterValueException`;
//! 5. the next queued fault for the product SKU the call names (then for `*`);
//! 6. the operation ([`ops`]), against `crate::licenses`.
//!
//! The caller's account is its credentials' (see `Origin::account`). Every call is in the
//! call log, with the SKU, the entitlements asked and allowed and the consumption token.

pub(crate) mod admin;
mod input;
mod ops;

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::calls::CallRecord;
use crate::faults::{self, Effect, Endpoint};
use crate::operation::Operation;
use crate::outcome::{claimed_key, Outcome};
use crate::sigv4::{self, AuthError, SignedRequest};
use crate::state::{Received, State};
use crate::wire::{self, json_response, Body, DropConnection, ServiceError, AWS_JSON};

use input::Input;

/// The `X-Amz-Target` prefix of License Manager.
pub(crate) const TARGET_PREFIX: &str = "AWSLicenseManager.";

/// Serves one License Manager call; `op_name` is the target after [`TARGET_PREFIX`].
pub(crate) async fn handle(
    state: &Arc<State>,
    req: Received,
    op_name: &str,
) -> Result<Response<Body>, DropConnection> {
    let request_id = wire::request_id();
    let mut record = CallRecord {
        operation: op_name.to_owned(),
        caller: claimed_key(&req),
        ..CallRecord::default()
    };
    let outcome = match Operation::license_manager(op_name) {
        Some(op) => pipeline(state, &req, op, &mut record, &request_id).await,
        None => Outcome::refusal(
            ServiceError::new(
                "UnknownOperationException",
                format!(
                    "X-Amz-Target '{TARGET_PREFIX}{op_name}' is not a License Manager operation"
                ),
            ),
            &request_id,
        ),
    };
    outcome.finish(state, record).await
}

fn auth_error(e: AuthError) -> ServiceError {
    let status = match e {
        AuthError::Incomplete(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::FORBIDDEN,
    };
    ServiceError::new(e.code(), e.to_string()).with_status(status)
}

/// The caller's account, after SigV4 and the Region pin; `Ok(None)` for GetAccessToken.
fn authenticate(
    state: &State,
    req: &Received,
    op: Operation,
    record: &mut CallRecord,
) -> Result<Option<String>, ServiceError> {
    if op == Operation::GetAccessToken {
        return Ok(None);
    }
    let signed = SignedRequest {
        method: req.parts.method.as_str(),
        path: req.parts.uri.path(),
        query: req.parts.uri.query().unwrap_or(""),
        headers: &req.parts.headers,
        body: &req.body,
    };
    let caller = sigv4::verify(
        &signed,
        &state.credentials,
        crate::clock::now_epoch(),
        sigv4::LICENSE_MANAGER_SERVICE,
    )
    .map_err(auth_error)?;
    record.caller = Some(caller.access_key_id.clone());
    let origin = state.origins.of(&caller.access_key_id, caller.session);
    record.role = origin.role_arn().map(str::to_owned);
    let account = origin.account();
    record.account = Some(account.clone());
    if let Some(pinned) = state.region.as_ref().filter(|p| **p != caller.region) {
        return Err(ServiceError::license_manager(
            "RedirectException",
            format!(
                "This is not the correct Region for the resource: the request was signed for {}, this endpoint serves {pinned}",
                caller.region
            ),
        ));
    }
    Ok(Some(account))
}

/// The product SKU a call is about, for fault targets and the call log: the one it names, or
/// the one of the licence its ARN or consumption token names.
fn product_sku(state: &State, input: &Input) -> Option<String> {
    let store = &state.licenses.store;
    match input {
        Input::Checkout(req) => Some(req.product_sku.clone()),
        Input::Extend { token, .. } | Input::CheckIn { token } => {
            store.license_of_token(token).map(|l| l.product_sku)
        }
        Input::Get { arn, .. } => store.get(arn).map(|l| l.product_sku),
        Input::List(req) => req
            .filters
            .iter()
            .find(|(name, values)| name == "ProductSKU" && values.len() == 1)
            .map(|(_, values)| values[0].clone()),
        Input::AccessToken { .. } => None,
    }
}

async fn pipeline(
    state: &State,
    req: &Received,
    op: Operation,
    record: &mut CallRecord,
    request_id: &str,
) -> Outcome {
    let account = match authenticate(state, req, op, record) {
        Ok(a) => a,
        Err(e) => return Outcome::refusal(e, request_id),
    };
    let input = match input::parse(op, &req.body) {
        Ok(i) => i,
        Err(e) => return Outcome::refusal(e, request_id),
    };
    record.product_sku = product_sku(state, &input);
    match &input {
        Input::Checkout(c) => record.entitlements_requested = Some(c.entitlements.clone()),
        Input::Extend { token, .. } | Input::CheckIn { token } => {
            record.consumption_token = Some(token.clone());
        }
        _ => {}
    }
    let mut trickle = None;
    if let Some(fault) = state
        .faults
        .take_for_product(record.product_sku.as_deref(), op)
    {
        let name = fault.name();
        let endpoint = Endpoint {
            request_id,
            content_type: AWS_JSON,
            // What drop_mid_response cuts short: shaped like a CheckoutLicense answer.
            sample_body: Bytes::from(format!(r#"{{"SignedToken":"{}"}}"#, "A".repeat(512))),
            status_of: wire::license_manager_status,
        };
        match faults::apply(fault, &endpoint).await {
            Effect::Replace(response) => return Outcome::Respond(response, name),
            Effect::Drop => return Outcome::Drop(name),
            Effect::Stall => return Outcome::Stall(name),
            Effect::Answer { trickle: t, .. } => trickle = t,
        }
    }
    match ops::run(state, input, account.as_deref(), record).await {
        Ok(value) => {
            let body = faults::paced(Bytes::from(value.to_string()), trickle);
            Outcome::Respond(json_response(StatusCode::OK, request_id, body), "ok".into())
        }
        Err(e) => Outcome::refusal(e, request_id),
    }
}
