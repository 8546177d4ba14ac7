//! License Manager request bodies, parsed and checked against the service model (required
//! members, lengths, patterns, enums). A violation is a `ValidationException` naming the
//! member as AWS does (`entitlements.1.member.unit`); a body of the wrong JSON types is a
//! `SerializationException`.

use serde::Deserialize;

use crate::calls::EntitlementData;
use crate::licenses::store::{CheckoutRequest, CheckoutType};
use crate::licenses::UNITS;
use crate::ops::{check_len, from_json, range_error, required};
use crate::wire::ServiceError;

/// The `Filter` names ListReceivedLicenses supports.
pub(crate) const FILTER_NAMES: [&str; 5] = [
    "ProductSKU",
    "Status",
    "Fingerprint",
    "IssuerName",
    "Beneficiary",
];

/// A checked request.
#[derive(Debug)]
pub(crate) enum Input {
    Checkout(CheckoutRequest),
    Extend {
        token: String,
        dry_run: bool,
    },
    CheckIn {
        token: String,
    },
    Get {
        arn: String,
        version: Option<String>,
    },
    List(ListRequest),
    AccessToken {
        token: String,
    },
}

/// A checked ListReceivedLicenses request.
#[derive(Debug)]
pub(crate) struct ListRequest {
    pub arns: Vec<String>,
    pub filters: Vec<(String, Vec<String>)>,
    pub next_token: Option<String>,
    pub max_results: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawCheckout {
    #[serde(rename = "ProductSKU")]
    product_sku: Option<String>,
    checkout_type: Option<String>,
    key_fingerprint: Option<String>,
    entitlements: Option<Vec<RawEntitlement>>,
    client_token: Option<String>,
    beneficiary: Option<String>,
    node_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawEntitlement {
    name: Option<String>,
    value: Option<String>,
    unit: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConsumption {
    license_consumption_token: Option<String>,
    dry_run: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawGet {
    license_arn: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawList {
    license_arns: Option<Vec<String>>,
    filters: Option<Vec<RawFilter>>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawFilter {
    name: Option<String>,
    values: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAccessToken {
    token: Option<String>,
    token_properties: Option<Vec<String>>,
}

/// Parses and checks the body of a call of `operation` (a License Manager one).
pub(crate) fn parse(
    operation: crate::operation::Operation,
    body: &[u8],
) -> Result<Input, ServiceError> {
    use crate::operation::Operation as Op;
    match operation {
        Op::CheckoutLicense => checkout(body).map(Input::Checkout),
        Op::ExtendLicenseConsumption => {
            let raw: RawConsumption = from_json(body)?;
            let token = required("licenseConsumptionToken", raw.license_consumption_token)?;
            Ok(Input::Extend {
                token,
                dry_run: raw.dry_run.unwrap_or(false),
            })
        }
        Op::CheckInLicense => {
            let raw: RawConsumption = from_json(body)?;
            let token = required("licenseConsumptionToken", raw.license_consumption_token)?;
            Ok(Input::CheckIn { token })
        }
        Op::GetLicense => {
            let raw: RawGet = from_json(body)?;
            let arn = required("licenseArn", raw.license_arn)?;
            check_arn("licenseArn", &arn)?;
            Ok(Input::Get {
                arn,
                version: raw.version,
            })
        }
        Op::ListReceivedLicenses => list(body).map(Input::List),
        Op::GetAccessToken => {
            let raw: RawAccessToken = from_json(body)?;
            let token = required("token", raw.token)?;
            check_len("token", &token, 1, 4096)?;
            check_non_blank("token", &token)?;
            if raw.token_properties.as_ref().is_some_and(|p| p.len() > 3) {
                return Err(ServiceError::validation(
                    "tokenProperties",
                    "[...]",
                    "Member must have length less than or equal to 3",
                ));
            }
            Ok(Input::AccessToken { token })
        }
        other => Err(ServiceError::new(
            "UnknownOperationException",
            format!("{other:?} is not a License Manager operation"),
        )),
    }
}

fn checkout(body: &[u8]) -> Result<CheckoutRequest, ServiceError> {
    let raw: RawCheckout = from_json(body)?;
    let product_sku = required("productSKU", raw.product_sku)?;
    let checkout_type = match required("checkoutType", raw.checkout_type)?.as_str() {
        "PROVISIONAL" => CheckoutType::Provisional,
        "PERPETUAL" => CheckoutType::Perpetual,
        other => {
            return Err(ServiceError::validation(
                "checkoutType",
                other,
                "Member must satisfy enum value set: [PROVISIONAL, PERPETUAL]",
            ))
        }
    };
    let key_fingerprint = required("keyFingerprint", raw.key_fingerprint)?;
    let raw_entitlements = required("entitlements", raw.entitlements)?;
    let client_token = required("clientToken", raw.client_token)?;
    check_len("clientToken", &client_token, 1, 2048)?;
    check_non_blank("clientToken", &client_token)?;
    let mut entitlements = Vec::with_capacity(raw_entitlements.len());
    for (i, e) in raw_entitlements.into_iter().enumerate() {
        let member = |name: &str| format!("entitlements.{}.member.{name}", i + 1);
        let name = required(&member("name"), e.name)?;
        let unit = required(&member("unit"), e.unit)?;
        if !UNITS.contains(&unit.as_str()) {
            return Err(ServiceError::validation(
                &member("unit"),
                &unit,
                &format!("Member must satisfy enum value set: [{}]", UNITS.join(", ")),
            ));
        }
        entitlements.push(EntitlementData {
            name,
            unit,
            value: e.value,
        });
    }
    Ok(CheckoutRequest {
        product_sku,
        checkout_type,
        key_fingerprint,
        entitlements,
        client_token,
        beneficiary: raw.beneficiary,
        node_id: raw.node_id,
    })
}

fn list(body: &[u8]) -> Result<ListRequest, ServiceError> {
    let raw: RawList = from_json(body)?;
    let arns = raw.license_arns.unwrap_or_default();
    for (i, arn) in arns.iter().enumerate() {
        check_arn(&format!("licenseArns.{}.member", i + 1), arn)?;
    }
    let max_results = match raw.max_results {
        None => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => return Err(range_error("maxResults", n, 1, 100)),
    };
    let mut filters = Vec::new();
    for f in raw.filters.unwrap_or_default() {
        let name = f.name.unwrap_or_default();
        if !FILTER_NAMES.contains(&name.as_str()) {
            return Err(ServiceError::license_manager(
                "InvalidParameterValueException",
                format!(
                    "Filter name {name:?} is not supported; use one of {}",
                    FILTER_NAMES.join(", ")
                ),
            ));
        }
        filters.push((name, f.values.unwrap_or_default()));
    }
    Ok(ListRequest {
        arns,
        filters,
        next_token: raw.next_token,
        max_results,
    })
}

/// The model's `\S+` (unanchored): at least one character that is not white space.
fn check_non_blank(member: &str, s: &str) -> Result<(), ServiceError> {
    if s.chars().any(|c| !c.is_whitespace()) {
        Ok(())
    } else {
        Err(ServiceError::validation(
            member,
            s,
            "Member must satisfy regular expression pattern: \\S+",
        ))
    }
}

/// The model's `Arn`: at most 2048 characters,
/// `^arn:aws[a-zA-Z-]*:SERVICE:REGION:ACCOUNT:RESOURCE$` with the character sets it names.
pub(crate) fn check_arn(member: &str, arn: &str) -> Result<(), ServiceError> {
    check_len(member, arn, 0, 2048)?;
    let segment = |s: &str, first_required: bool, max: usize, extra: &str| {
        let mut chars = s.chars();
        let first_ok = match chars.clone().next() {
            Some(c) if first_required => {
                chars.next();
                c.is_ascii_alphanumeric()
            }
            None => !first_required,
            _ => true,
        };
        first_ok
            && chars.clone().count() <= max
            && chars.all(|c| c.is_ascii_alphanumeric() || "_/.-".contains(c) || extra.contains(c))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = matches!(parts.as_slice(), ["arn", partition, service, region, account, resource]
        if partition.strip_prefix("aws").is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
            && segment(service, true, 62, "")
            && segment(region, false, 63, "")
            && segment(account, false, 63, "")
            && segment(resource, true, 1023, ":+=,@"));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::validation(
            member,
            arn,
            "Member must satisfy regular expression pattern: ^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}$",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::Operation;

    /// Every model rule of CheckoutLicense, each with the member the error names.
    #[test]
    fn checkout_bodies_are_checked_member_by_member() {
        let good = r#"{"ProductSKU":"sku","CheckoutType":"PROVISIONAL","KeyFingerprint":"fp",
            "Entitlements":[{"Name":"Users","Unit":"Count","Value":"1"}],"ClientToken":"t"}"#;
        let Input::Checkout(req) = parse(Operation::CheckoutLicense, good.as_bytes()).unwrap()
        else {
            panic!("not a checkout");
        };
        assert_eq!(req.entitlements[0].value.as_deref(), Some("1"));
        let cases = [
            (good.replace(r#""ProductSKU":"sku","#, ""), "'productSKU'"),
            (good.replace("PROVISIONAL", "FLOATING"), "'checkoutType'"),
            (
                good.replace(r#""KeyFingerprint":"fp","#, ""),
                "'keyFingerprint'",
            ),
            (
                good.replace(r#""Unit":"Count""#, r#""Unit":"Seats""#),
                "'entitlements.1.member.unit'",
            ),
            (
                good.replace(r#""Name":"Users","#, ""),
                "'entitlements.1.member.name'",
            ),
            (
                good.replace(r#""ClientToken":"t""#, r#""ClientToken":" ""#),
                "'clientToken'",
            ),
            (good.replace(r#","ClientToken":"t""#, ""), "'clientToken'"),
        ];
        for (body, member) in cases {
            let err = parse(Operation::CheckoutLicense, body.as_bytes()).unwrap_err();
            assert_eq!(err.code, "ValidationException", "{body}");
            assert!(err.message.contains(member), "{member}: {}", err.message);
        }
        let wrong_type = good.replace(r#""Value":"1""#, r#""Value":1"#);
        assert_eq!(
            parse(Operation::CheckoutLicense, wrong_type.as_bytes())
                .unwrap_err()
                .code,
            "SerializationException"
        );
    }

    #[test]
    fn arns_lists_and_tokens_follow_the_model() {
        assert!(check_arn("a", "arn:aws:license-manager::294406891311:license:l-0abc").is_ok());
        for bad in [
            "l-0abc",
            "arn:aws:license-manager::1:",
            "arn:gcp:x::1:y",
            "arn:aws:-x::1:y",
        ] {
            assert!(check_arn("a", bad).is_err(), "{bad}");
        }
        let list = |body: &str| parse(Operation::ListReceivedLicenses, body.as_bytes());
        assert_eq!(
            list(r#"{"MaxResults":0}"#).unwrap_err().code,
            "ValidationException"
        );
        assert_eq!(
            list(r#"{"MaxResults":101}"#).unwrap_err().code,
            "ValidationException"
        );
        assert_eq!(
            list(r#"{"Filters":[{"Name":"Colour","Values":["x"]}]}"#)
                .unwrap_err()
                .code,
            "InvalidParameterValueException"
        );
        assert!(list("{}").is_ok());
        let token = format!(r#"{{"Token":"{}"}}"#, "a".repeat(4097));
        assert_eq!(
            parse(Operation::GetAccessToken, token.as_bytes())
                .unwrap_err()
                .code,
            "ValidationException"
        );
    }
}
