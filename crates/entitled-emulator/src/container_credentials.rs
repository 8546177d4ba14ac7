//! The container-credentials endpoints: the ECS agent's (`/_emulator/credentials`, task role
//! credentials) and the EKS Pod Identity agent's (`/_emulator/pod-identity/credentials`). Both
//! answer the same JSON and honour `--container-authorization`; they differ in the
//! credentials served, which the platform rule tells apart as AWS Marketplace does.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::json;

use crate::faults::{self, Effect, Endpoint, CREDENTIALS_TARGET, POD_IDENTITY_TARGET};
use crate::sigv4::Credential;
use crate::state::{Received, State};
use crate::wire::{self, admin_response, Body, DropConnection};

/// How long served session credentials claim to be valid.
const CREDENTIALS_LIFETIME_SECONDS: u64 = 6 * 3600;

/// Which agent an endpoint imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agent {
    /// The ECS agent: the task role's credentials.
    Ecs,
    /// The EKS Pod Identity agent: credentials AWS Marketplace does not accept.
    PodIdentity,
}

impl Agent {
    fn credential(self, state: &State) -> &Credential {
        match self {
            Agent::Ecs => &state.session,
            Agent::PodIdentity => &state.pod_identity,
        }
    }

    fn role_arn(self) -> &'static str {
        match self {
            Agent::Ecs => "arn:aws:iam::123456789012:role/entitled-emulator-task-role",
            Agent::PodIdentity => {
                "arn:aws:iam::123456789012:role/entitled-emulator-pod-identity-role"
            }
        }
    }

    fn fault_target(self) -> &'static str {
        match self {
            Agent::Ecs => CREDENTIALS_TARGET,
            Agent::PodIdentity => POD_IDENTITY_TARGET,
        }
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    admin_response(status, "text/plain; charset=utf-8", body)
}

/// Serves `agent`'s credentials, after its `Authorization` rule and queued faults.
pub(crate) async fn serve(
    state: &State,
    req: &Received,
    agent: Agent,
) -> Result<Response<Body>, DropConnection> {
    if let Some(expected) = &state.container_authorization {
        match req.parts.headers.get("authorization") {
            None => {
                return Ok(text(
                    StatusCode::UNAUTHORIZED,
                    "Authorization header required\n",
                ))
            }
            Some(got) if got.as_bytes() != expected.as_bytes() => {
                return Ok(text(
                    StatusCode::FORBIDDEN,
                    "Authorization token does not match\n",
                ))
            }
            Some(_) => {}
        }
    }
    let request_id = wire::request_id();
    let s = agent.credential(state);
    let endpoint = Endpoint {
        request_id: &request_id,
        content_type: "application/json",
        sample_body: Bytes::from(
            json!({
                "AccessKeyId": s.access_key_id,
                "SecretAccessKey": s.secret_access_key,
                "Token": s.session_token,
                "Expiration": crate::clock::rfc3339(crate::clock::now_epoch() + CREDENTIALS_LIFETIME_SECONDS),
                "RoleArn": agent.role_arn(),
            })
            .to_string(),
        ),
        status_of: crate::wire::metering_status,
        };
    let effect = match state.faults.take(agent.fault_target(), None) {
        Some(fault) => faults::apply(fault, &endpoint).await,
        None => Effect::Answer {
            change: None,
            trickle: None,
        },
    };
    Ok(match effect {
        Effect::Replace(response) => response,
        Effect::Drop => return Err(DropConnection),
        Effect::Stall => std::future::pending().await,
        // No change applies to credentials: they are answered normally.
        Effect::Answer { trickle, .. } => endpoint.respond(
            StatusCode::OK,
            faults::paced(endpoint.sample_body.clone(), trickle),
        ),
    })
}
