//! What each License Manager operation does with a checked request, for the caller's account.

use serde_json::{json, Value};

use crate::calls::CallRecord;
use crate::clock::rfc3339;
use crate::licenses::store::License;
use crate::licenses::{anywhere, shapes};
use crate::state::State;
use crate::wire::ServiceError;

use super::input::{Input, ListRequest};

/// Prefix of ListReceivedLicenses' `NextToken`: the offset of the next page follows.
const PAGE_PREFIX: &str = "page-";

/// Runs `input` for `account` (`None` for GetAccessToken, which is unsigned), noting what the
/// call log shows in `record`.
pub(crate) async fn run(
    state: &State,
    input: Input,
    account: Option<&str>,
    record: &mut CallRecord,
) -> Result<Value, ServiceError> {
    let lm = &state.licenses;
    let now = lm.clock.now();
    let account = account.unwrap_or_default();
    match input {
        Input::Checkout(req) => {
            let granted = lm.store.checkout(&req, account, now, &lm.keys)?;
            record.license_arn = Some(granted.license_arn.clone());
            record.entitlements_allowed = Some(granted.consumption.allowed.clone());
            record.consumption_token = Some(granted.consumption.token.clone());
            Ok(shapes::checkout(&granted))
        }
        Input::Extend { token, dry_run } => {
            let expiration = lm.store.extend(&token, account, dry_run, now)?;
            Ok(json!({"LicenseConsumptionToken": token, "Expiration": rfc3339(expiration)}))
        }
        Input::CheckIn { token } => {
            lm.store.check_in(&token, account, now)?;
            Ok(json!({}))
        }
        Input::Get { arn, version } => {
            let license = lm
                .store
                .get(&arn)
                .filter(|l| l.beneficiary == account)
                .ok_or_else(|| {
                    ServiceError::license_manager(
                        "InvalidParameterValueException",
                        format!("License {arn} was not found for account {account}"),
                    )
                })?;
            if let Some(v) = version.filter(|v| *v != license.version.to_string()) {
                return Err(ServiceError::license_manager(
                    "InvalidParameterValueException",
                    format!(
                        "License {arn} has no version {v}; its version is {}",
                        license.version
                    ),
                ));
            }
            record.license_arn = Some(arn);
            Ok(json!({"License": shapes::license(&license, now)}))
        }
        Input::List(req) => list(&lm.store.snapshot(), &req, account, now),
        Input::AccessToken { token } => {
            let key = lm.keys.token_key().await.map_err(|e| {
                ServiceError::license_manager("ServerInternalException", format!("token key: {e}"))
            })?;
            let claims = anywhere::check_refresh(&key, &token, now, &lm.revoked)
                .map_err(|r| ServiceError::license_manager(r.code, r.message))?;
            let license = lm.store.get(&claims.license_arn).ok_or_else(|| {
                ServiceError::license_manager(
                    "AuthorizationException",
                    format!(
                        "The token's licence {} no longer exists",
                        claims.license_arn
                    ),
                )
            })?;
            record.license_arn = Some(license.arn);
            record.product_sku = Some(license.product_sku);
            record.account = Some(claims.account.clone());
            Ok(json!({"AccessToken": anywhere::access_token(&key, &claims, now)}))
        }
    }
}

/// ListReceivedLicenses: the account's licences that pass every filter, a page at a time.
fn list(
    all: &[License],
    req: &ListRequest,
    account: &str,
    now: u64,
) -> Result<Value, ServiceError> {
    let field = |l: &License, name: &str| -> String {
        match name {
            "ProductSKU" => l.product_sku.clone(),
            "Status" => l.status_at(now).to_owned(),
            "Fingerprint" => l.fingerprint.clone(),
            "IssuerName" => l.issuer_name.clone(),
            _ => l.beneficiary.clone(),
        }
    };
    let matching: Vec<&License> = all
        .iter()
        .filter(|l| l.beneficiary == account)
        .filter(|l| req.arns.is_empty() || req.arns.contains(&l.arn))
        .filter(|l| {
            req.filters
                .iter()
                .all(|(name, values)| values.is_empty() || values.contains(&field(l, name)))
        })
        .collect();
    let start = match &req.next_token {
        None => 0,
        Some(t) => t
            .strip_prefix(PAGE_PREFIX)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= matching.len())
            .ok_or_else(|| {
                ServiceError::license_manager(
                    "InvalidParameterValueException",
                    format!("NextToken {t:?} was not issued by this listing"),
                )
            })?,
    };
    let end = (start + req.max_results).min(matching.len());
    let licenses: Vec<Value> = matching[start..end]
        .iter()
        .map(|l| shapes::granted(l, now))
        .collect();
    let mut out = json!({"Licenses": licenses});
    if end < matching.len() {
        out["NextToken"] = json!(format!("{PAGE_PREFIX}{end}"));
    }
    Ok(out)
}
