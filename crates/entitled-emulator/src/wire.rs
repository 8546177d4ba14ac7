//! The awsJson1.1 wire format: response bodies, modelled errors and request ids.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use hyper::body::{Frame, SizeHint};

/// The content type of every awsJson1.1 request and response.
pub(crate) const AWS_JSON: &str = "application/x-amz-json-1.1";

/// A modelled AWS error, as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ServiceError {
    /// An error with the Metering Service's status convention ([`metering_status`]).
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        let status = metering_status(&code);
        ServiceError {
            status,
            code,
            message: message.into(),
        }
    }

    /// An error with License Manager's status for its code ([`license_manager_status`]).
    pub fn license_manager(code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        let status = license_manager_status(&code);
        ServiceError::new(code, message).with_status(status)
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// A model-constraint violation, phrased as AWS phrases them.
    pub fn validation(member: &str, value: &str, constraint: &str) -> Self {
        let shown: String = value.chars().take(64).collect();
        ServiceError::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    /// A request body that is not the JSON the operation expects.
    pub fn serialization(message: impl std::fmt::Display) -> Self {
        ServiceError::new("SerializationException", message.to_string())
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({"__type": self.code, "message": self.message}).to_string()
    }
}

/// The Metering Service's status for an error code: 500 for `InternalServiceErrorException`,
/// else 400.
pub(crate) fn metering_status(code: &str) -> StatusCode {
    if code == "InternalServiceErrorException" {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// License Manager's status for an error code, from the Smithy model's `httpError` traits;
/// 400 for every other code (`ValidationException`, `NoEntitlementsAllowedException`, ...).
pub(crate) fn license_manager_status(code: &str) -> StatusCode {
    match code {
        "RedirectException" => StatusCode::PERMANENT_REDIRECT,
        "AccessDeniedException" => StatusCode::UNAUTHORIZED,
        "AuthorizationException" | "InvalidSignatureException" | "UnrecognizedClientException" => {
            StatusCode::FORBIDDEN
        }
        "ConflictException" => StatusCode::CONFLICT,
        "RateLimitExceededException" => StatusCode::TOO_MANY_REQUESTS,
        "ServerInternalException" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Where a `RedirectException` sends the client: another Region's License Manager.
pub(crate) const REDIRECT_LOCATION: &str = "https://license-manager.us-west-2.amazonaws.com/";

/// A fresh request id in the UUID layout AWS uses.
pub(crate) fn request_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = crate::encoding::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A response with `x-amzn-RequestId` and the awsJson content type.
pub(crate) fn json_response(status: StatusCode, request_id: &str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(AWS_JSON),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// The wire form of a modelled error.
pub(crate) fn error_response(err: &ServiceError, request_id: &str) -> Response<Body> {
    let mut resp = json_response(err.status, request_id, Body::full(err.to_json()));
    if let Ok(v) = HeaderValue::from_str(&err.code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    // License Manager's RedirectException names the right endpoint in `Location`.
    if err.status == StatusCode::PERMANENT_REDIRECT {
        resp.headers_mut().insert(
            http::header::LOCATION,
            HeaderValue::from_static(REDIRECT_LOCATION),
        );
    }
    resp
}

/// A plain-text or JSON response for the admin API.
pub(crate) fn admin_response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut resp = Response::new(Body::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    resp
}

/// Response bodies: whole, or streamed in the ways faults need.
pub(crate) enum Body {
    Full(Option<Bytes>),
    /// `remaining` bytes: `prefix` first, then filler, in 64 KiB chunks (never held whole).
    Repeat {
        prefix: Option<Bytes>,
        remaining: u64,
        total: u64,
    },
    /// `data` in small chunks with a pause before each.
    Trickle {
        data: Bytes,
        chunk: usize,
        interval: Duration,
        sleep: Option<Pin<Box<tokio::time::Sleep>>>,
        total: u64,
    },
    /// Announces `total` bytes, sends `data` (fewer), then fails so the connection is cut.
    Truncated {
        data: Option<Bytes>,
        total: u64,
    },
}

const FILLER: &[u8] = &[b'A'; 64 * 1024];

impl Body {
    pub fn full(b: impl Into<Bytes>) -> Body {
        Body::Full(Some(b.into()))
    }

    pub fn oversized(bytes: u64) -> Body {
        let prefix = Bytes::from_static(br#"{"Signature":""#);
        let prefix = (bytes > prefix.len() as u64).then_some(prefix);
        Body::Repeat {
            prefix,
            remaining: bytes,
            total: bytes,
        }
    }

    pub fn trickle(data: Bytes, bytes_per_second: u64) -> Body {
        let bps = bytes_per_second.max(1);
        let chunk = (bps / 10).max(1);
        let interval = Duration::from_secs_f64(chunk as f64 / bps as f64);
        let total = data.len() as u64;
        Body::Trickle {
            data,
            chunk: chunk as usize,
            interval,
            sleep: None,
            total,
        }
    }

    pub fn truncated(data: Bytes) -> Body {
        let total = data.len() as u64;
        let half = data.slice(..data.len() / 2);
        Body::Truncated {
            data: Some(half),
            total: total.max(2),
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match this {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Repeat {
                prefix, remaining, ..
            } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                if let Some(p) = prefix.take() {
                    *remaining -= p.len() as u64;
                    return Poll::Ready(Some(Ok(Frame::data(p))));
                }
                let n = (*remaining).min(FILLER.len() as u64) as usize;
                *remaining -= n as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&FILLER[..n])))))
            }
            Body::Trickle {
                data,
                chunk,
                interval,
                sleep,
                ..
            } => {
                if data.is_empty() {
                    return Poll::Ready(None);
                }
                let timer = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(*interval)));
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                *sleep = None;
                let n = (*chunk).min(data.len());
                Poll::Ready(Some(Ok(Frame::data(data.split_to(n)))))
            }
            Body::Truncated { data, .. } => match data.take() {
                Some(d) if !d.is_empty() => Poll::Ready(Some(Ok(Frame::data(d)))),
                _ => Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "fault: connection dropped mid-response",
                )))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(b) => b.is_none(),
            Body::Repeat { remaining, .. } => *remaining == 0,
            Body::Trickle { data, .. } => data.is_empty(),
            Body::Truncated { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Repeat { total, .. }
            | Body::Trickle { total, .. }
            | Body::Truncated { total, .. } => SizeHint::with_exact(*total),
        }
    }
}

use std::future::Future as _;

/// Returned by the request handler to make hyper close the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("fault: connection dropped")]
pub(crate) struct DropConnection;
