//! The rules a CheckoutLicense answer must meet before it becomes a
//! [`License`](super::License): consistent with what was asked, in date, and
//! when an issuer key is given, signed. Anything else is a malformed answer
//! (exit 65), never a pass.

use std::time::SystemTime;

use entitled_verify::{verify_license_token, PublicKey};

pub use crate::contract_error::AnswerError;

use super::request::{amount, CheckoutType, Requested};
use super::timestamp;

/// A CheckoutLicense answer as strings, straight from the SDK's output.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawAnswer {
    pub checkout_type: Option<String>,
    pub consumption_token: Option<String>,
    pub entitlements: Vec<(String, String, Option<String>)>,
    pub signed_token: Option<String>,
    pub node_id: Option<String>,
    pub issued_at: Option<String>,
    pub expiration: Option<String>,
    pub license_arn: Option<String>,
}

/// What the request was, for checking the answer against.
pub(crate) struct Asked<'a> {
    pub entitlements: &'a [Requested],
    pub checkout_type: CheckoutType,
    pub node_id: &'a str,
    pub issuer_key: Option<&'a PublicKey>,
}

/// One allowed entitlement.
///
/// ```
/// # use entitled::contract::Allowed;
/// # fn show(allowed: &Allowed) {
/// println!("{allowed}"); // `Premium`, or `Seats:Count:2`
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    pub(crate) name: String,
    pub(crate) unit: String,
    pub(crate) value: Option<String>,
}

impl Allowed {
    /// The entitlement's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its unit: `None` for a tier.
    pub fn unit(&self) -> &str {
        &self.unit
    }
    /// Its value: units allowed, for a counted dimension.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl std::fmt::Display for Allowed {
    /// `NAME` for a tier, `NAME:UNIT:VALUE` for a counted dimension.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.value, self.unit.as_str()) {
            (Some(v), unit) if unit != "None" => write!(f, "{}:{unit}:{v}", self.name),
            _ => f.write_str(&self.name),
        }
    }
}

/// An answer that met every rule.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub license_arn: String,
    pub consumption_token: String,
    pub entitlements: Vec<Allowed>,
    pub issued_at: SystemTime,
    pub expiration: SystemTime,
    pub signed_token: String,
    pub token_verified: bool,
}

/// Applies every rule to `answer`, as of `now`.
pub(crate) fn accept(
    answer: RawAnswer,
    asked: &Asked<'_>,
    now: SystemTime,
) -> Result<Accepted, AnswerError> {
    let present = |v: Option<String>, what| {
        v.filter(|s| !s.is_empty())
            .ok_or(AnswerError::Missing(what))
    };
    let license_arn = present(answer.license_arn, "LicenseArn")?;
    if !license_arn.starts_with("arn:") {
        return Err(AnswerError::Missing("LicenseArn (an ARN)"));
    }
    let consumption_token = present(answer.consumption_token, "LicenseConsumptionToken")?;
    let found_type = present(answer.checkout_type, "CheckoutType")?;
    if found_type != asked.checkout_type.as_str() {
        return Err(AnswerError::CheckoutType {
            asked: asked.checkout_type.as_str(),
            found: found_type,
        });
    }
    if answer.node_id.as_deref() != Some(asked.node_id) {
        return Err(AnswerError::NodeId {
            found: answer.node_id,
        });
    }
    let entitlements = allowed(answer.entitlements, asked.entitlements)?;
    let issued_text = present(answer.issued_at, "IssuedAt")?;
    let expiration_text = present(answer.expiration, "Expiration")?;
    let issued_at = instant("IssuedAt", &issued_text)?;
    let expiration = instant("Expiration", &expiration_text)?;
    if expiration <= now {
        return Err(AnswerError::Expired(expiration_text));
    }
    let signed_token = present(answer.signed_token, "SignedToken")?;
    let token_verified = match asked.issuer_key {
        None => false,
        Some(key) => {
            let claims = verify_license_token(&signed_token, key)?;
            let claim = |ok: bool, name| {
                if ok {
                    Ok(())
                } else {
                    Err(AnswerError::TokenClaim(name))
                }
            };
            claim(claims.license_arn == license_arn, "licenseArn")?;
            claim(
                claims.consumption_token == consumption_token,
                "licenseConsumptionToken",
            )?;
            claim(claims.node_id.as_deref() == Some(asked.node_id), "nodeId")?;
            claim(
                timestamp::parse(&claims.expiration) == Some(expiration),
                "expiration",
            )?;
            claim(
                timestamp::parse(&claims.issued_at) == Some(issued_at),
                "issuedAt",
            )?;
            let mut signed: Vec<String> = claims
                .entitlements
                .iter()
                .map(|e| {
                    Allowed {
                        name: e.name.clone(),
                        unit: e.unit.clone(),
                        value: e.value.clone(),
                    }
                    .to_string()
                })
                .collect();
            let mut answered: Vec<String> = entitlements.iter().map(Allowed::to_string).collect();
            signed.sort();
            answered.sort();
            claim(signed == answered, "entitlementsAllowed")?;
            true
        }
    };
    Ok(Accepted {
        license_arn,
        consumption_token,
        entitlements,
        issued_at,
        expiration,
        signed_token,
        token_verified,
    })
}

fn instant(field: &'static str, text: &str) -> Result<SystemTime, AnswerError> {
    timestamp::parse(text).ok_or_else(|| AnswerError::Timestamp {
        field,
        text: text.to_owned(),
    })
}

/// Each allowed entitlement was asked for, once, in the unit asked, with a
/// value within what was asked. An empty list allows nothing, and License
/// Manager says so with an error, never with an empty success.
fn allowed(
    answered: Vec<(String, String, Option<String>)>,
    requested: &[Requested],
) -> Result<Vec<Allowed>, AnswerError> {
    if answered.is_empty() {
        return Err(AnswerError::Missing("EntitlementsAllowed"));
    }
    let mut out: Vec<Allowed> = Vec::with_capacity(answered.len());
    for (name, unit, value) in answered {
        let asked = requested
            .iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| AnswerError::NotAsked(name.clone()))?;
        if out.iter().any(|a| a.name == name) {
            return Err(AnswerError::Duplicate(name));
        }
        if unit != asked.unit() {
            return Err(AnswerError::Unit {
                name,
                asked: asked.unit().to_owned(),
                found: unit,
            });
        }
        let value = value.filter(|v| !v.is_empty());
        check_value(&name, asked, value.as_deref())?;
        out.push(Allowed { name, unit, value });
    }
    Ok(out)
}

fn check_value(name: &str, asked: &Requested, found: Option<&str>) -> Result<(), AnswerError> {
    let within = match (asked.value(), found) {
        // A tier is not a quantity: whatever value it carries (none, or a
        // word such as `Enabled`) allows no more than the tier itself.
        (None, _) => true,
        (Some(_), None) => false,
        (Some(limit), Some(found)) => match (amount(limit), amount(found)) {
            (Some(limit), Some(found)) => found > 0.0 && found <= limit,
            _ => false,
        },
    };
    if within {
        return Ok(());
    }
    Err(AnswerError::Value {
        name: name.to_owned(),
        asked: asked.value().unwrap_or("no value").to_owned(),
        found: found.unwrap_or("(none)").to_owned(),
    })
}

#[cfg(test)]
mod tests;
