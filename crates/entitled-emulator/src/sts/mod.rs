//! STS on the metering listener: `POST /` with `Content-Type:
//! application/x-www-form-urlencoded` and an `Action=` parameter is an awsQuery STS call, as
//! `AWS_ENDPOINT_URL_STS` sends it. `AssumeRoleWithWebIdentity` (unsigned, as on AWS) is the
//! one action served: what EKS IRSA does under every SDK.
//!
//! The order of checks: the action; the next fault queued for `@sts`; the parameters
//! (`ValidationError`); the web identity token ([`crate::web_identity`]:
//! `InvalidIdentityToken`, `ExpiredTokenException`); the role (`AccessDenied`, see
//! [`roles`]). A License Manager access token (the Anywhere flow) is judged by
//! [`license_token`] instead. The session credentials issued are then accepted by the metering operations,
//! which log the role and service account of each call. Every STS call is in the call log as
//! operation `AssumeRoleWithWebIdentity`.

mod license_token;
pub(crate) mod xml;

use std::sync::Arc;

use bytes::Bytes;
use http::Response;

use crate::calls::CallRecord;
use crate::encoding::{form_decode, hex};
use crate::faults::{self, Effect, Endpoint, Fault, STS_TARGET};
use crate::state::origins::Origin;
use crate::state::{Received, State};
use crate::wire::{self, Body, DropConnection};
use xml::{element, StsError};

/// The only action served.
const ASSUME_ROLE_WITH_WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
/// STS's default and bounds for `DurationSeconds`.
const DEFAULT_DURATION: u64 = 3600;
const MIN_DURATION: u64 = 900;
const MAX_DURATION: u64 = 43_200;

/// True when `req` is an awsQuery (STS) call rather than an awsJson metering call.
pub(crate) fn is_query_call(req: &Received) -> bool {
    let form = req
        .parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    form && form_decode(&req.body).iter().any(|(k, _)| k == "Action")
}

/// The decoded form parameters of a call.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What one STS call decided, and what the call log records about it.
struct Outcome {
    response: Result<Response<Body>, DropConnection>,
    name: String,
    role: Option<String>,
    service_account: Option<String>,
}

pub(crate) async fn handle(
    state: &Arc<State>,
    req: Received,
) -> Result<Response<Body>, DropConnection> {
    let request_id = wire::request_id();
    let params = Params(form_decode(&req.body));
    let action = params.get("Action").unwrap_or_default().to_owned();
    let role = params.get("RoleArn").map(str::to_owned);
    let outcome = if action != ASSUME_ROLE_WITH_WEB_IDENTITY {
        refuse(
            StsError::new(
                "InvalidAction",
                format!("Could not find operation {action} for version 2011-06-15"),
            ),
            &request_id,
            None,
        )
    } else {
        match state.faults.take(STS_TARGET, None) {
            Some(fault) => match fault_effect(fault, &request_id).await {
                Ok(outcome) => outcome,
                Err(()) => assume_role(state, &params, &request_id).await,
            },
            None => assume_role(state, &params, &request_id).await,
        }
    };
    state.calls.push(CallRecord {
        operation: if action.is_empty() {
            "Unknown".into()
        } else {
            action
        },
        product_code: None,
        nonce: None,
        key_version: None,
        caller: None,
        outcome: outcome.name,
        role: outcome.role.or(role),
        service_account: outcome.service_account,
        ..CallRecord::default()
    });
    outcome.response
}

fn refuse(err: StsError, request_id: &str, service_account: Option<String>) -> Outcome {
    Outcome {
        response: Ok(xml::error(&err, request_id)),
        name: err.code.clone(),
        role: None,
        service_account,
    }
}

/// A queued `@sts` fault: an error fault answers in STS's XML shape; the others act as on
/// every endpoint. `Err(())` when the fault leaves the normal answer to be given.
async fn fault_effect(fault: Fault, request_id: &str) -> Result<Outcome, ()> {
    let name = fault.name();
    if let Fault::Error { code, message } = &fault {
        let message = message
            .clone()
            .unwrap_or_else(|| format!("{code} (injected by entitled-emulator)"));
        let mut outcome = refuse(StsError::new(code.clone(), message), request_id, None);
        outcome.name = name;
        return Ok(outcome);
    }
    let endpoint = Endpoint {
        request_id,
        content_type: xml::CONTENT_TYPE,
        sample_body: Bytes::from_static(
            b"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>",
        ),
        status_of: crate::wire::metering_status,
    };
    let response = match faults::apply(fault, &endpoint).await {
        Effect::Replace(response) => Ok(response),
        Effect::Drop => Err(DropConnection),
        Effect::Stall => std::future::pending().await,
        Effect::Answer { .. } => return Err(()),
    };
    Ok(Outcome {
        response,
        name,
        role: None,
        service_account: None,
    })
}

/// `AssumeRoleWithWebIdentity`: checks the parameters, the token and the role, then issues
/// session credentials the metering operations accept.
async fn assume_role(state: &Arc<State>, params: &Params, request_id: &str) -> Outcome {
    let (role_arn, session_name, token, duration) = match parameters(params) {
        Ok(p) => p,
        Err(e) => return refuse(e, request_id, None),
    };
    if crate::licenses::anywhere::issued_here(token) {
        let call = license_token::Call {
            role_arn,
            session_name,
            token,
            duration,
        };
        return license_token::assume_role(state, &call, request_id).await;
    }
    let now = crate::clock::now_epoch();
    let subject = match state.oidc.validate(token, now as i64).await {
        Ok(s) => s,
        Err(refused) => {
            return refuse(
                StsError::new(refused.code, refused.message),
                request_id,
                None,
            )
        }
    };
    if let Err(message) = crate::roles::authorize(&state.roles, role_arn, &subject) {
        let mut outcome = refuse(
            StsError::new("AccessDenied", message),
            request_id,
            Some(subject.service_account),
        );
        outcome.role = Some(role_arn.to_owned());
        return outcome;
    }
    let grant = Grant {
        role_arn,
        session_name,
        duration,
        subject: &subject.sub,
        audience: crate::web_identity::STS_AUDIENCE,
        provider: crate::web_identity::ISSUER.trim_start_matches("https://"),
    };
    let origin = Origin::Irsa {
        role_arn: role_arn.to_owned(),
        service_account: subject.service_account.clone(),
    };
    let mut outcome = issue(state, &grant, origin, request_id);
    outcome.service_account = Some(subject.service_account);
    outcome
}

/// What an accepted `AssumeRoleWithWebIdentity` call names, for its answer.
struct Grant<'a> {
    role_arn: &'a str,
    session_name: &'a str,
    duration: u64,
    /// `SubjectFromWebIdentityToken`.
    subject: &'a str,
    audience: &'a str,
    /// The OIDC provider's host, for `Provider`.
    provider: &'a str,
}

/// Issues session credentials for an accepted call, remembering where they came from, and
/// answers with them.
fn issue(state: &State, grant: &Grant<'_>, origin: Origin, request_id: &str) -> Outcome {
    let now = crate::clock::now_epoch();
    let credential = crate::state::new_session_credential();
    state.credentials.insert(credential.clone());
    state.origins.record(&credential.access_key_id, origin);
    let (account, role_name) = role_parts(grant.role_arn);
    let session_name = grant.session_name;
    let role_id: [u8; 8] = rand::random();
    let result = [
        element(2, "SubjectFromWebIdentityToken", grant.subject),
        element(2, "Audience", grant.audience),
        "    <AssumedRoleUser>\n".to_owned(),
        element(
            3,
            "Arn",
            &format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"),
        ),
        element(
            3,
            "AssumedRoleId",
            &format!("AROA{}:{session_name}", hex(&role_id).to_uppercase()),
        ),
        "    </AssumedRoleUser>\n".to_owned(),
        "    <Credentials>\n".to_owned(),
        element(3, "AccessKeyId", &credential.access_key_id),
        element(3, "SecretAccessKey", &credential.secret_access_key),
        element(
            3,
            "SessionToken",
            credential.session_token.as_deref().unwrap_or_default(),
        ),
        element(
            3,
            "Expiration",
            &crate::clock::rfc3339(now + grant.duration),
        ),
        "    </Credentials>\n".to_owned(),
        element(
            2,
            "Provider",
            &format!("arn:aws:iam::{account}:oidc-provider/{}", grant.provider),
        ),
    ]
    .concat();
    Outcome {
        response: Ok(xml::result(
            ASSUME_ROLE_WITH_WEB_IDENTITY,
            &result,
            request_id,
        )),
        name: "ok".into(),
        role: Some(grant.role_arn.to_owned()),
        service_account: None,
    }
}

/// `RoleArn`, `RoleSessionName`, `WebIdentityToken` and `DurationSeconds`, checked against
/// STS's model constraints.
fn parameters(params: &Params) -> Result<(&str, &str, &str, u64), StsError> {
    let required = |name: &str| {
        params
            .get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            StsError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(name)
            ))
        })
    };
    let role_arn = required("RoleArn")?;
    let session_name = required("RoleSessionName")?;
    let token = required("WebIdentityToken")?;
    if !crate::roles::is_role_arn(role_arn) {
        return Err(StsError::validation(format!(
            "{role_arn} is invalid: RoleArn must be arn:aws:iam::ACCOUNT:role/NAME"
        )));
    }
    let name_ok = (2..=64).contains(&session_name.len())
        && session_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !name_ok {
        return Err(StsError::validation(format!(
            "1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    let duration = match params.get("DurationSeconds") {
        None => DEFAULT_DURATION,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|d| (MIN_DURATION..=MAX_DURATION).contains(d))
            .ok_or_else(|| {
                StsError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'durationSeconds' failed to satisfy constraint: Member must have value between {MIN_DURATION} and {MAX_DURATION}"
                ))
            })?,
    };
    Ok((role_arn, session_name, token, duration))
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The account id and role name of a role ARN that [`crate::roles::is_role_arn`] accepted.
fn role_parts(role_arn: &str) -> (&str, &str) {
    let mut parts = role_arn.splitn(6, ':');
    let account = parts.nth(4).unwrap_or_default();
    let name = parts
        .next()
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or_default();
    (account, name)
}
