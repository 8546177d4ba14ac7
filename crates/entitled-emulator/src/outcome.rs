//! How a service call ends, for the Metering Service and License Manager alike: what the
//! pipeline decided (an answer, a dropped connection or a stall), logged in the call log
//! before it happens, whatever it is.

use http::Response;

use crate::calls::CallRecord;
use crate::state::{Received, State};
use crate::wire::{error_response, Body, DropConnection, ServiceError};

/// What the pipeline decided, with the call log's name for it.
pub(crate) enum Outcome {
    Respond(Response<Body>, String),
    Drop(String),
    Stall(String),
}

impl Outcome {
    /// The service's error answer, logged under its code.
    pub(crate) fn refusal(err: ServiceError, request_id: &str) -> Self {
        let name = err.code.clone();
        Outcome::Respond(error_response(&err, request_id), name)
    }

    /// Adds `record` to the call log with this outcome, then answers, drops the connection,
    /// or holds it until the client gives up (hyper then drops this future) or shutdown.
    pub(crate) async fn finish(
        self,
        state: &State,
        mut record: CallRecord,
    ) -> Result<Response<Body>, DropConnection> {
        let (answer, name) = match self {
            Outcome::Respond(response, name) => (Some(Ok(response)), name),
            Outcome::Drop(name) => (Some(Err(DropConnection)), name),
            Outcome::Stall(name) => (None, name),
        };
        record.outcome = name;
        state.calls.push(record);
        match answer {
            Some(answer) => answer,
            None => std::future::pending().await,
        }
    }
}

/// The access key id the `Authorization` header claims, before SigV4 has checked it: the
/// call log names the caller even for a call that is then refused.
pub(crate) fn claimed_key(req: &Received) -> Option<String> {
    req.parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .map(str::to_owned)
}
