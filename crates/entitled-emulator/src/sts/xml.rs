//! STS's awsQuery answers: XML results and `ErrorResponse` errors, each with
//! `x-amzn-RequestId`.

use http::{HeaderValue, Response, StatusCode};

use crate::encoding::xml_escape;
use crate::wire::{json_response, Body};

/// The namespace of every STS response element.
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// STS answers `text/xml`.
pub(crate) const CONTENT_TYPE: &str = "text/xml";

/// An STS error: code, message and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl StsError {
    /// An error with the status STS gives `code`: 403 for `AccessDenied`, 500 for
    /// `InternalFailure`, 503 for `ServiceUnavailable`, else 400 (throttling included).
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> StsError {
        let code = code.into();
        let status = match code.as_str() {
            "AccessDenied" => StatusCode::FORBIDDEN,
            "InternalFailure" => StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceUnavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        StsError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A missing or malformed parameter, phrased as STS phrases it.
    pub fn validation(message: impl Into<String>) -> StsError {
        StsError::new("ValidationError", message)
    }
}

/// An XML response with STS's content type and request id.
pub(crate) fn respond(status: StatusCode, request_id: &str, body: String) -> Response<Body> {
    let mut response = json_response(status, request_id, Body::full(body));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    response
}

/// `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
pub(crate) fn error(err: &StsError, request_id: &str) -> Response<Body> {
    let kind = if err.status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        xml_escape(&err.code),
        xml_escape(&err.message),
    );
    respond(err.status, request_id, body)
}

/// A successful `{action}Response` wrapping `{action}Result` (already XML) and the
/// response metadata.
pub(crate) fn result(action: &str, result_xml: &str, request_id: &str) -> Response<Body> {
    let body = format!(
        "<{action}Response xmlns=\"{XMLNS}\">\n  <{action}Result>\n{result_xml}  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n"
    );
    respond(StatusCode::OK, request_id, body)
}

/// `<name>text</name>` with the text escaped, indented by `depth` levels of two spaces.
pub(crate) fn element(depth: usize, name: &str, text: &str) -> String {
    format!(
        "{}<{name}>{}</{name}>\n",
        "  ".repeat(depth),
        xml_escape(text)
    )
}
