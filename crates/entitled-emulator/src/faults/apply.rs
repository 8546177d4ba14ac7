//! The one place a fault takes effect. The metering pipeline and the ECS credentials endpoint
//! both call [`apply`], so a new fault kind is its [`Fault`] variant plus one arm here.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};

use super::{Fault, TokenVariant};
use crate::operation::Operation;
use crate::wire::{error_response, json_response, Body, ServiceError};

/// What a fault does to a call.
pub(crate) enum Effect {
    /// Answer with this response instead of the normal one.
    Replace(Response<Body>),
    /// Close the connection without a response.
    Drop,
    /// Never answer; the caller holds the connection until the client gives up.
    Stall,
    /// Give the normal answer, changed by `change` if the endpoint has such an answer, and
    /// sent at `trickle` bytes per second when set. A delay has already been waited out.
    Answer {
        /// A change to the normal answer.
        change: Option<Change>,
        /// The sending rate in bytes per second.
        trickle: Option<u64>,
    },
}

/// Faults that change a normal answer rather than replace it. Only the operation that has
/// such an answer applies them (RegisterUsage a token, BatchMeterUsage unprocessed records);
/// every other endpoint answers normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// RegisterUsage returns a token wrong in this way.
    Token(TokenVariant),
    /// BatchMeterUsage returns every record unprocessed.
    Unprocessed,
}

impl Change {
    /// True when `operation` has the answer this change alters; the others answer normally.
    pub(crate) fn alters(self, operation: Operation) -> bool {
        matches!(
            (operation, self),
            (Operation::RegisterUsage, Change::Token(_))
                | (Operation::BatchMeterUsage, Change::Unprocessed)
        )
    }
}

/// How the endpoint a fault hits answers, for the faults that imitate its responses.
pub(crate) struct Endpoint<'a> {
    /// The request id every response carries.
    pub request_id: &'a str,
    /// The endpoint's content type.
    pub content_type: &'static str,
    /// A plausible successful body, which `drop_mid_response` cuts short.
    pub sample_body: Bytes,
    /// The HTTP status the endpoint's service gives an error code (an `error` fault's status).
    pub status_of: fn(&str) -> StatusCode,
}

impl Endpoint<'_> {
    /// A response of this endpoint with the given status and body.
    pub fn respond(&self, status: StatusCode, body: Body) -> Response<Body> {
        let mut response = json_response(status, self.request_id, body);
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        response
    }
}

/// Applies `fault` to a call to `endpoint`: replaces the answer, drops or stalls the
/// connection, waits, slows the answer down or changes it.
pub(crate) async fn apply(fault: Fault, endpoint: &Endpoint<'_>) -> Effect {
    let ok = |body: Body| Effect::Replace(endpoint.respond(StatusCode::OK, body));
    let answer = |change, trickle| Effect::Answer { change, trickle };
    match fault {
        Fault::Error { code, message } => {
            let message =
                message.unwrap_or_else(|| format!("{code} (injected by entitled-emulator)"));
            let status = (endpoint.status_of)(&code);
            Effect::Replace(error_response(
                &ServiceError::new(code, message).with_status(status),
                endpoint.request_id,
            ))
        }
        Fault::Status { status, body } => Effect::Replace(endpoint.respond(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Body::full(body),
        )),
        Fault::Stall => Effect::Stall,
        Fault::Drop => Effect::Drop,
        Fault::DropMidResponse => ok(Body::truncated(endpoint.sample_body.clone())),
        Fault::Malformed { body } => ok(Body::full(body)),
        Fault::Oversized { bytes } => ok(Body::oversized(bytes)),
        Fault::Latency { millis } => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            answer(None, None)
        }
        Fault::Trickle { bytes_per_second } => answer(None, Some(bytes_per_second)),
        changing @ (Fault::Token(_) | Fault::Unprocessed) => answer(changing.change(), None),
    }
}

/// The normal answer's body, trickled when a fault asked for it.
pub(crate) fn paced(body: Bytes, trickle: Option<u64>) -> Body {
    match trickle {
        Some(bytes_per_second) => Body::trickle(body, bytes_per_second),
        None => Body::full(body),
    }
}
