//! License Manager helpers: the real `aws-sdk-licensemanager` client wired to an emulator,
//! the admin routes over raw HTTP, and the PS384 check of a `SignedToken`.

use std::time::Duration;

use aws_sdk_licensemanager::config::retry::RetryConfig;
use aws_sdk_licensemanager::config::timeout::TimeoutConfig;
use aws_sdk_licensemanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_licensemanager::error::SdkError;
use aws_sdk_licensemanager::types::{CheckoutType, EntitlementData, EntitlementDataUnit};
use aws_sdk_licensemanager::Client;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use entitled_emulator::{Emulator, MARKETPLACE_FINGERPRINT};

/// A License Manager client for `emulator`, retries off, 10 s attempts.
pub fn client_with(emulator: &Emulator, credentials: Credentials) -> Client {
    Client::from_conf(builder(emulator, credentials).build())
}

pub fn builder(
    emulator: &Emulator,
    credentials: Credentials,
) -> aws_sdk_licensemanager::config::Builder {
    aws_sdk_licensemanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator.endpoint_url())
        .credentials_provider(credentials)
        .http_client(super::http_client(emulator.ca_pem().as_deref()))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(10))
                .build(),
        )
}

/// A client signing with the default long-term keys: account 123456789012.
pub fn client(emulator: &Emulator) -> Client {
    client_with(emulator, super::default_credentials())
}

/// An entitlement to ask for: `None` units are a tier.
pub fn ask(name: &str, unit: EntitlementDataUnit, value: Option<&str>) -> EntitlementData {
    EntitlementData::builder()
        .name(name)
        .unit(unit)
        .set_value(value.map(str::to_owned))
        .build()
        .unwrap()
}

/// What a checkout got, or its error as `status:Code`.
#[derive(Debug)]
pub struct Granted {
    pub token: String,
    /// `NAME` for tiers, `NAME=VALUE` for units, in the answer's order.
    pub allowed: Vec<String>,
    pub signed_token: String,
    pub issued_at: String,
    pub expiration: String,
    pub license_arn: String,
    pub node_id: Option<String>,
}

/// `status:Code` of an SDK error, or a word for the transport failures.
pub fn error_name<E: aws_sdk_licensemanager::error::ProvideErrorMetadata + std::fmt::Debug>(
    e: &SdkError<E>,
) -> String {
    match e {
        SdkError::ServiceError(ctx) => format!(
            "{}:{}",
            ctx.raw().status().as_u16(),
            ctx.err().code().unwrap_or("")
        ),
        SdkError::TimeoutError(_) => "timeout".into(),
        SdkError::DispatchFailure(_) => "dispatch".into(),
        SdkError::ResponseError(r) => format!("response:{}", r.raw().status().as_u16()),
        other => format!("other:{other:?}"),
    }
}

/// A CheckoutLicense of `entitlements` for `sku` with the Marketplace fingerprint.
pub async fn checkout(
    client: &Client,
    sku: &str,
    kind: CheckoutType,
    entitlements: Vec<EntitlementData>,
    client_token: &str,
) -> Result<Granted, String> {
    checkout_with(
        client,
        sku,
        MARKETPLACE_FINGERPRINT,
        kind,
        entitlements,
        client_token,
        None,
    )
    .await
}

pub async fn checkout_with(
    client: &Client,
    sku: &str,
    fingerprint: &str,
    kind: CheckoutType,
    entitlements: Vec<EntitlementData>,
    client_token: &str,
    node_id: Option<&str>,
) -> Result<Granted, String> {
    let out = client
        .checkout_license()
        .product_sku(sku)
        .key_fingerprint(fingerprint)
        .checkout_type(kind)
        .set_entitlements(Some(entitlements))
        .client_token(client_token)
        .set_node_id(node_id.map(str::to_owned))
        .send()
        .await
        .map_err(|e| error_name(&e))?;
    Ok(Granted {
        token: out
            .license_consumption_token()
            .unwrap_or_default()
            .to_owned(),
        allowed: out
            .entitlements_allowed()
            .iter()
            .map(|e| match e.value() {
                Some(v) => format!("{}={v}", e.name()),
                None => e.name().to_owned(),
            })
            .collect(),
        signed_token: out.signed_token().unwrap_or_default().to_owned(),
        issued_at: out.issued_at().unwrap_or_default().to_owned(),
        expiration: out.expiration().unwrap_or_default().to_owned(),
        license_arn: out.license_arn().unwrap_or_default().to_owned(),
        node_id: out.node_id().map(str::to_owned),
    })
}

pub async fn check_in(client: &Client, token: &str) -> Result<(), String> {
    client
        .check_in_license()
        .license_consumption_token(token)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_name(&e))
}

pub async fn extend(client: &Client, token: &str) -> Result<String, String> {
    client
        .extend_license_consumption()
        .license_consumption_token(token)
        .send()
        .await
        .map(|o| o.expiration().unwrap_or_default().to_owned())
        .map_err(|e| error_name(&e))
}

/// An admin call: status and JSON body (`Null` when not JSON).
pub fn admin(
    emulator: &Emulator,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value, String) {
    let (status, _, text) = super::raw_http(
        emulator.local_addr(),
        method,
        path,
        &[("Content-Type", "application/json")],
        body,
    );
    (
        status,
        serde_json::from_str(&text).unwrap_or_default(),
        text,
    )
}

/// Seeds a licence through the admin API; returns its ARN.
pub fn seed(emulator: &Emulator, spec: serde_json::Value) -> String {
    let (status, json, text) = admin(emulator, "POST", "/_emulator/licenses", &spec.to_string());
    assert_eq!(status, 201, "{text}");
    json["license_arn"].as_str().unwrap().to_owned()
}

/// Moves the licence clock forward through the admin API.
pub fn advance(emulator: &Emulator, seconds: u64) {
    let body = serde_json::json!({ "advance_seconds": seconds }).to_string();
    let (status, _, text) = admin(emulator, "POST", "/_emulator/clock", &body);
    assert_eq!(status, 200, "{text}");
}

/// The header and claims of a `SignedToken`, and whether its PS384 signature verifies with
/// `public_pem`.
pub fn decode_ps384(jwt: &str, public_pem: &str) -> (serde_json::Value, serde_json::Value, bool) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "compact JWS: {jwt}");
    let json = |s: &str| -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("JSON")
    };
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PSS_2048_8192_SHA384,
        super::pkcs1_from_spki_pem(public_pem),
    );
    let input = format!("{}.{}", parts[0], parts[1]);
    (
        json(parts[0]),
        json(parts[1]),
        key.verify(input.as_bytes(), &sig).is_ok(),
    )
}

/// Percent-encodes an ARN for an admin path.
pub fn encode(arn: &str) -> String {
    arn.replace(':', "%3A").replace('/', "%2F")
}
