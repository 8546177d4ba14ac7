//! The HTTP API over TCP or a Unix socket: `POST /v1/usage`, `GET /v1/status`,
//! `GET /metrics`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use entitled::meter::{IdempotencyKey, Meter, MeterError};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use entitled_shell::{Level, Logger};

/// The header naming a request so that a resend is acknowledged without adding usage.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Bodies over 1 MiB get `413`.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Serves one connection until it closes.
pub async fn serve<S>(stream: S, meter: Arc<Meter>, logger: Logger)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let meter = meter.clone();
        async move { Ok::<_, Infallible>(route(&meter, req, logger).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .unwrap_or_default()
}

fn error(status: StatusCode, reason: &str) -> Response<Full<Bytes>> {
    reply(
        status,
        "application/json",
        format!("{}\n", serde_json::json!({ "error": reason })),
    )
}

async fn route(meter: &Meter, req: Request<Incoming>, logger: Logger) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::POST, "/v1/usage") => usage(meter, req, logger).await,
        (&Method::GET, "/v1/status") => {
            let status = meter.status();
            let code = if status.accepting && !status.journal_failing {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            reply(code, "application/json", format!("{}\n", status.to_json()))
        }
        (&Method::GET, "/metrics") => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            crate::metrics::render(&meter.metrics(), &meter.status()),
        ),
        (method, path @ ("/v1/usage" | "/v1/status" | "/metrics")) => {
            let allow = if path == "/v1/usage" { "POST" } else { "GET" };
            let mut answer = error(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("{method} {path}: method not allowed; use {allow}"),
            );
            answer
                .headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
            answer
        }
        (_, path) => error(
            StatusCode::NOT_FOUND,
            &format!("no route {path}; use POST /v1/usage, GET /v1/status or GET /metrics"),
        ),
    }
}

async fn usage(meter: &Meter, req: Request<Incoming>, logger: Logger) -> Response<Full<Bytes>> {
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is over 1 MiB; send fewer records per request",
        )
    };
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let key = match idempotency_key(req.headers()) {
        Ok(k) => k,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the body could not be read: {e}"),
            )
        }
    };
    let records = match crate::records::parse(&body) {
        Ok(r) => r,
        Err(reason) => return error(StatusCode::BAD_REQUEST, &reason),
    };
    let n = records.len();
    // A bad record is named by its place in the batch, as the parser names it.
    for (i, r) in records.iter().enumerate() {
        if let Err(e) = meter.check(r) {
            return error(StatusCode::BAD_REQUEST, &format!("record {i}: {e}"));
        }
    }
    let recorded = match key {
        Some(key) => meter.record_once(key, records).await,
        None => meter.record_all(records).await,
    };
    match recorded {
        Ok(()) => reply(
            StatusCode::ACCEPTED,
            "application/json",
            format!("{}\n", serde_json::json!({ "accepted": n })),
        ),
        Err(e @ MeterError::Journal { .. }) => {
            let message = format!("{e}; the records were not kept, send them again later");
            // One per refused request while the disk is full: the logger counts identical
            // lines instead of writing each.
            logger.log(Level::Error, "journal_write_failed", &message, &[]);
            error(StatusCode::SERVICE_UNAVAILABLE, &message)
        }
        Err(e @ MeterError::ShuttingDown) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(e) => {
            // What depends on the hour's totals names a dimension; name its first record.
            let index = match &e {
                MeterError::HourOverflow { dimension } | MeterError::TooManyTagSets(dimension) => {
                    records_of(&body, dimension)
                }
                _ => None,
            };
            match index {
                Some(i) => error(StatusCode::BAD_REQUEST, &format!("record {i}: {e}")),
                None => error(StatusCode::BAD_REQUEST, &e.to_string()),
            }
        }
    }
}

/// The index of the first record of `dimension` in a body that already parsed.
fn records_of(body: &[u8], dimension: &str) -> Option<usize> {
    crate::records::parse(body)
        .ok()?
        .iter()
        .position(|r| r.dimension == dimension)
}

/// The request's `Idempotency-Key`, if it has one.
fn idempotency_key(headers: &http::HeaderMap) -> Result<Option<IdempotencyKey>, MeterError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        MeterError::BadIdempotencyKey("the Idempotency-Key header is not visible ASCII".into())
    })?;
    IdempotencyKey::new(text).map(Some)
}
