//! The Anywhere chain: a licence token from the admin API, exchanged by the real
//! `aws-sdk-licensemanager` client's GetAccessToken for an access token, which STS
//! `AssumeRoleWithWebIdentity` takes for a role trusting `openid-license-manager.amazonaws.com`;
//! the session credentials then check out as the licence's beneficiary. And every way the
//! chain refuses a token or a role.

mod common;

use aws_credential_types::Credentials;
use aws_sdk_licensemanager::types::{CheckoutType, EntitlementDataUnit as Unit};
use common::lm::*;
use common::raw_http;
use entitled_emulator::{Config, Emulator, Role};
use serde_json::json;

const BUYER: &str = "555555555555";
const ROLE: &str = "arn:aws:iam::555555555555:role/license-consumer";
const SKU: &str = "anywhere-sku";

fn emulator(config: Config) -> (Emulator, String) {
    let emulator = Emulator::spawn(config).unwrap();
    let arn = seed(
        &emulator,
        json!({"product_sku": SKU, "beneficiary": BUYER,
               "entitlements": [{"name": "Nodes", "unit": "Count", "max_count": 3}]}),
    );
    (emulator, arn)
}

fn trusting() -> Config {
    Config::new().role(format!("{ROLE}=license-manager").parse::<Role>().unwrap())
}

/// A licence token from the admin API.
fn licence_token(emulator: &Emulator, body: serde_json::Value) -> String {
    let (status, json, text) = admin(
        emulator,
        "POST",
        "/_emulator/license-tokens",
        &body.to_string(),
    );
    assert_eq!(status, 201, "{text}");
    json["token"].as_str().unwrap().to_owned()
}

async fn access_token(emulator: &Emulator, token: &str) -> Result<String, String> {
    client(emulator)
        .get_access_token()
        .token(token)
        .send()
        .await
        .map(|o| o.access_token().unwrap_or_default().to_owned())
        .map_err(|e| error_name(&e))
}

/// The text of the first `<name>` element.
fn tag(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml.find(&open).map(|i| i + open.len()).unwrap_or(0);
    let end = xml[start..].find(&format!("</{name}>")).unwrap_or(0);
    xml[start..start + end].to_owned()
}

/// STS AssumeRoleWithWebIdentity (unsigned awsQuery, as the SDKs send it): the session
/// credentials, or the STS error code.
fn assume(emulator: &Emulator, role: &str, token: &str) -> Result<Credentials, String> {
    let body = format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName=anywhere&WebIdentityToken={token}",
        encode(role)
    );
    let (status, _, xml) = raw_http(
        emulator.local_addr(),
        "POST",
        "/",
        &[(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        &body,
    );
    if status != 200 {
        return Err(tag(&xml, "Code"));
    }
    assert_eq!(
        tag(&xml, "Audience"),
        "openid-license-manager.amazonaws.com"
    );
    Ok(Credentials::new(
        tag(&xml, "AccessKeyId"),
        tag(&xml, "SecretAccessKey"),
        Some(tag(&xml, "SessionToken")),
        None,
        "anywhere",
    ))
}

#[tokio::test]
async fn a_licence_token_becomes_credentials_that_check_out_as_the_beneficiary() {
    let (emulator, arn) = emulator(trusting());
    let refresh = licence_token(&emulator, json!({"license_arn": arn, "role_arn": ROLE}));
    let access = access_token(&emulator, &refresh).await.unwrap();
    let credentials = assume(&emulator, ROLE, &access).unwrap();
    let buyer = client_with(&emulator, credentials);
    let nodes = vec![ask("Nodes", Unit::Count, Some("1"))];
    let granted = checkout(&buyer, SKU, CheckoutType::Provisional, nodes.clone(), "n-1")
        .await
        .unwrap();
    assert_eq!(granted.license_arn, arn);
    let listed = buyer.list_received_licenses().send().await.unwrap();
    assert_eq!(listed.licenses().len(), 1, "the buyer's licence");
    // The default caller (account 123456789012) has no licence for this SKU.
    let seller = checkout(
        &client(&emulator),
        SKU,
        CheckoutType::Provisional,
        nodes,
        "n-2",
    )
    .await;
    assert_eq!(seller.unwrap_err(), "400:NoEntitlementsAllowedException");

    let calls = emulator.calls();
    let ops: Vec<(&str, &str)> = calls
        .iter()
        .map(|c| (c.operation.as_str(), c.outcome.as_str()))
        .collect();
    assert_eq!(
        ops[..4],
        [
            ("GetAccessToken", "ok"),
            ("AssumeRoleWithWebIdentity", "ok"),
            ("CheckoutLicense", "ok"),
            ("ListReceivedLicenses", "ok"),
        ]
    );
    assert_eq!(calls[2].account.as_deref(), Some(BUYER));
    assert_eq!(calls[2].role.as_deref(), Some(ROLE));
}

#[tokio::test]
async fn get_access_token_refuses_bad_expired_and_revoked_tokens() {
    let (emulator, arn) = emulator(trusting());
    let good = licence_token(&emulator, json!({"license_arn": arn}));
    let expired = licence_token(&emulator, json!({"license_arn": arn, "expired": true}));
    let revoked = licence_token(&emulator, json!({"license_arn": arn}));
    let (status, _, text) = admin(
        &emulator,
        "DELETE",
        "/_emulator/license-tokens",
        &json!({ "token": revoked }).to_string(),
    );
    assert_eq!(status, 200, "{text}");
    let access = access_token(&emulator, &good).await.unwrap();
    let (head, claims, _) = good
        .split('.')
        .fold((String::new(), String::new(), 0), |acc, p| match acc.2 {
            0 => (p.to_owned(), acc.1, 1),
            1 => (acc.0, p.to_owned(), 2),
            _ => acc,
        });
    let tampered = format!("{head}.{claims}.AAAA");
    let table = [
        ("not-a-token", "400:ValidationException"),
        (expired.as_str(), "403:AuthorizationException"),
        (revoked.as_str(), "403:AuthorizationException"),
        (tampered.as_str(), "403:AuthorizationException"),
        (access.as_str(), "403:AuthorizationException"),
    ];
    for (token, want) in table {
        assert_eq!(
            access_token(&emulator, token).await.unwrap_err(),
            want,
            "{token}"
        );
    }
    // The licence token expires on the licence clock, 365 days on.
    entitled_emulator_advance(&emulator, 366 * 86_400);
    assert_eq!(
        access_token(&emulator, &good).await.unwrap_err(),
        "403:AuthorizationException"
    );
}

fn entitled_emulator_advance(emulator: &Emulator, seconds: u64) {
    emulator.advance_license_clock(seconds);
}

#[tokio::test]
async fn sts_takes_access_tokens_only_for_roles_that_trust_license_manager() {
    let untrusted = "arn:aws:iam::555555555555:role/untrusted";
    let irsa_only: Role = format!("{untrusted}=shop:app").parse().unwrap();
    let other_account = "arn:aws:iam::123456789012:role/license-consumer";
    let config = trusting()
        .role(irsa_only.clone())
        .role(format!("{other_account}=license-manager").parse().unwrap());
    let (emulator, arn) = emulator(config);
    let named = "arn:aws:iam::555555555555:role/named";
    let refresh = licence_token(&emulator, json!({"license_arn": arn}));
    let access = access_token(&emulator, &refresh).await.unwrap();
    let refresh_naming = licence_token(&emulator, json!({"license_arn": arn, "role_arn": named}));
    let access_naming = access_token(&emulator, &refresh_naming).await.unwrap();
    let table = [
        (untrusted, access.as_str(), "AccessDenied"),
        (other_account, access.as_str(), "AccessDenied"),
        (ROLE, access_naming.as_str(), "AccessDenied"),
        (ROLE, refresh.as_str(), "InvalidIdentityToken"),
    ];
    for (role, token, want) in table {
        assert_eq!(assume(&emulator, role, token).unwrap_err(), want, "{role}");
    }
    assume(&emulator, ROLE, &access).unwrap();
    // An EKS service-account token does not assume a role that trusts License Manager.
    let eks = emulator.web_identity_token("shop", "app", 3600).unwrap();
    assert_eq!(assume(&emulator, ROLE, &eks).unwrap_err(), "AccessDenied");
    // Access tokens last an hour on the licence clock.
    emulator.advance_license_clock(3601);
    assert_eq!(
        assume(&emulator, ROLE, &access).unwrap_err(),
        "ExpiredTokenException"
    );
}
