//! A node's instance role, as EC2 instance metadata (IMDSv2) serves it, at the paths IMDS
//! uses (`AWS_EC2_METADATA_SERVICE_ENDPOINT` points SDKs here): `PUT /latest/api/token`, then
//! `GET /latest/meta-data/iam/security-credentials/[ROLE]` with the token. Its credentials are
//! a node role's, which AWS Marketplace refuses (platform rule), as it refuses them on EKS and
//! ECS alike.

use http::{Method, Response, StatusCode};
use serde_json::json;

use crate::state::{Received, State};
use crate::wire::{admin_response, Body};

/// Every path this module serves starts with this.
pub(crate) const PREFIX: &str = "/latest/";
/// The role name served.
const ROLE: &str = "entitled-emulator-node-role";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
/// The session token header of IMDSv2.
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";

/// Serves an IMDS path, or 404.
pub(crate) fn handle(state: &State, req: &Received) -> Response<Body> {
    let path = req.parts.uri.path();
    if req.parts.method == Method::PUT && path == "/latest/api/token" {
        return text(StatusCode::OK, state.imds_token.clone());
    }
    if req.parts.method != Method::GET || !path.starts_with(CREDENTIALS_PATH) {
        return text(StatusCode::NOT_FOUND, "Not Found".into());
    }
    let token = req.parts.headers.get(TOKEN_HEADER);
    if token.is_none_or(|t| t.as_bytes() != state.imds_token.as_bytes()) {
        // IMDSv2 only: a missing or unknown session token is 401, as with HttpTokens=required.
        return text(StatusCode::UNAUTHORIZED, "Unauthorized".into());
    }
    match &path[CREDENTIALS_PATH.len()..] {
        "" => text(StatusCode::OK, ROLE.into()),
        ROLE => {
            let c = &state.node_role;
            let now = crate::clock::now_epoch();
            let body = json!({
                "Code": "Success",
                "LastUpdated": crate::clock::rfc3339(now),
                "Type": "AWS-HMAC",
                "AccessKeyId": c.access_key_id,
                "SecretAccessKey": c.secret_access_key,
                "Token": c.session_token,
                "Expiration": crate::clock::rfc3339(now + 6 * 3600),
            });
            admin_response(StatusCode::OK, "application/json", body.to_string())
        }
        _ => text(StatusCode::NOT_FOUND, "Not Found".into()),
    }
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    admin_response(status, "text/plain", body)
}
