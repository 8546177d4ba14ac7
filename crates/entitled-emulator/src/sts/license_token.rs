//! `AssumeRoleWithWebIdentity` with a License Manager access token (the Anywhere flow): the
//! token must be a genuine, unexpired access token whose licence token was not revoked
//! (`InvalidIdentityToken`, `ExpiredTokenException`), and the role must trust
//! `openid-license-manager.amazonaws.com` (`--role ARN=license-manager`, or any role when none
//! are configured), be in the account that made the token (the trust policy's
//! `token-issuer-account-id` condition) and, when the licence token named roles, be one of
//! them (`AccessDenied`). The credentials issued act as the licence's beneficiary.

use std::sync::Arc;

use crate::licenses::anywhere;
use crate::roles::{authorize_license_token, role_account, LICENSE_MANAGER_PRINCIPAL};
use crate::state::origins::Origin;
use crate::state::State;

use super::xml::StsError;
use super::{issue, refuse, Grant, Outcome};

/// The parameters of one call.
pub(super) struct Call<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub token: &'a str,
    pub duration: u64,
}

pub(super) async fn assume_role(state: &Arc<State>, call: &Call<'_>, request_id: &str) -> Outcome {
    let lm = &state.licenses;
    let key = match lm.keys.token_key().await {
        Ok(k) => k,
        Err(e) => {
            let err = StsError::new(
                "IDPCommunicationError",
                format!("License Manager's token key: {e}"),
            );
            return refuse(err, request_id, None);
        }
    };
    let claims = match anywhere::check_access(&key, call.token, lm.clock.now(), &lm.revoked) {
        Ok(c) => c,
        Err(r) => return refuse(StsError::new(r.code, r.message), request_id, None),
    };
    if let Err(message) = role_allowed(state, call.role_arn, &claims) {
        let mut outcome = refuse(StsError::new("AccessDenied", message), request_id, None);
        outcome.role = Some(call.role_arn.to_owned());
        return outcome;
    }
    let grant = Grant {
        role_arn: call.role_arn,
        session_name: call.session_name,
        duration: call.duration,
        subject: &claims.account,
        audience: LICENSE_MANAGER_PRINCIPAL,
        provider: LICENSE_MANAGER_PRINCIPAL,
    };
    let origin = Origin::LicenseToken {
        role_arn: call.role_arn.to_owned(),
        account: claims.account.clone(),
    };
    issue(state, &grant, origin, request_id)
}

/// Whether the role's trust admits this access token; the `AccessDenied` message when not.
fn role_allowed(
    state: &State,
    role_arn: &str,
    claims: &anywhere::AccessClaims,
) -> Result<(), String> {
    authorize_license_token(&state.roles, role_arn)?;
    if role_account(role_arn) != Some(claims.account.as_str()) {
        return Err(format!(
            "Not authorized to perform sts:AssumeRoleWithWebIdentity: the token was issued in account {} ({}), and {role_arn} is in another account",
            claims.account, claims.amr
        ));
    }
    if !claims.role_arns.is_empty() && !claims.role_arns.iter().any(|r| r == role_arn) {
        return Err(format!(
            "Not authorized to perform sts:AssumeRoleWithWebIdentity: the licence token names the roles {}, not {role_arn}",
            claims.role_arns.join(", ")
        ));
    }
    Ok(())
}
