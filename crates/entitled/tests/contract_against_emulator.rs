//! `entitled::contract` end to end in process: the real License Manager SDK
//! client, real SigV4 and real HTTP on loopback, against the emulator.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use entitled::contract::{CheckoutType, Contract, ContractBuilder};
use entitled::{Backoff, CheckError, PublicKey, RejectReason, StaticCredentials};
use entitled_emulator::{Config, Emulator, EntitlementSpec, Fault, LicenseSpec, Operation};

const SKU: &str = "prod-contract-1";
const AKID: &str = "AKIDCONTRACTTEST";
const SECRET: &str = "contract-test-secret";
const SELLER_FINGERPRINT: &str = "aws:111122223333:Seller:issuer-fingerprint";

async fn emulator(licenses: Vec<LicenseSpec>) -> Emulator {
    let mut config = Config::new()
        .region("us-east-1")
        .static_credentials(AKID, SECRET);
    for spec in licenses {
        config = config.license(spec);
    }
    Emulator::start(config).await.unwrap()
}

fn tiers() -> LicenseSpec {
    LicenseSpec::new(SKU, vec![EntitlementSpec::tier("Premium")])
}

fn seats(n: u64) -> LicenseSpec {
    LicenseSpec::new(SKU, vec![EntitlementSpec::count("Seats", n)])
}

/// A contract against `emu` with fast backoff and a short deadline.
fn contract(emu: &Emulator) -> ContractBuilder {
    Contract::builder()
        .product_sku(SKU)
        .endpoint_url(emu.endpoint_url())
        .region("us-east-1")
        .static_credentials(StaticCredentials {
            access_key_id: AKID.into(),
            secret_access_key: SECRET.into(),
            session_token: None,
        })
        .deadline(Duration::from_secs(10))
        .attempt_timeout(Duration::from_secs(5))
        .backoff(Backoff::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
        ))
        .busy_retry_pause(Duration::from_millis(50))
}

/// An admin call over raw HTTP/1.1: status and body. Off the runtime's
/// thread, which also serves the emulator.
async fn admin(emu: &Emulator, method: &str, path: &str, body: &str) -> (u16, String) {
    let (addr, method, path, body) = (
        emu.local_addr(),
        method.to_owned(),
        path.to_owned(),
        body.to_owned(),
    );
    tokio::task::spawn_blocking(move || admin_blocking(addr, &method, &path, &body))
        .await
        .unwrap()
}

fn admin_blocking(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// The live consumptions of every licence, as the admin API lists them.
async fn held(emu: &Emulator) -> usize {
    let (status, body) = admin(emu, "GET", "/_emulator/licenses", "").await;
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|l| l["consumptions"].as_array().unwrap().len())
        .sum()
}

fn seats_contract(emu: &Emulator, value: &str) -> Contract {
    contract(emu)
        .counted("Seats", "Count", value)
        .build()
        .unwrap()
}

fn checkout_calls(emu: &Emulator) -> usize {
    emu.calls()
        .iter()
        .filter(|c| c.operation == "CheckoutLicense")
        .count()
}

async fn set_status(emu: &Emulator, arn: &str, status: &str) {
    let path = format!(
        "/_emulator/licenses/{}",
        arn.replace(':', "%3A").replace('/', "%2F")
    );
    let (code, body) = admin(emu, "PATCH", &path, &format!(r#"{{"status":"{status}"}}"#)).await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test]
async fn a_tier_checkout_allows_only_the_tier_bought_and_checks_in() {
    let emu = emulator(vec![tiers()]).await;
    let license = contract(&emu)
        .tier("Basic")
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap();
    assert_eq!(license.entitlements_text(), "Premium");
    assert!(license.allows("Premium") && !license.allows("Basic"));
    assert!(license
        .license_arn()
        .starts_with("arn:aws:license-manager::"));
    assert!(!license.token_verified(), "no issuer key was given");
    assert_eq!(license.checkout_type(), CheckoutType::Provisional);
    assert!(license.expiration() > std::time::SystemTime::now());
    assert_eq!(held(&emu).await, 1);
    license.lease().unwrap().check_in().await.unwrap();
    assert_eq!(held(&emu).await, 0, "checked in at once");
    // A second check-in finds nothing to return, which is what was wanted.
    license.lease().unwrap().check_in().await.unwrap();
}

#[tokio::test]
async fn counted_units_are_held_until_checked_in_and_perpetual_ones_have_no_lease() {
    let emu = emulator(vec![seats(3)]).await;
    let license = contract(&emu)
        .counted("Seats", "Count", "2")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap();
    assert_eq!(license.entitlements_text(), "Seats:Count:2");
    assert_eq!(held(&emu).await, 1);
    let lease = license.lease().unwrap();
    let before = lease.expiration();
    let after = lease.extend().await.unwrap();
    assert!(after > before, "extended: {before:?} -> {after:?}");
    lease.check_in().await.unwrap();
    assert_eq!(held(&emu).await, 0);

    let drawn = contract(&emu)
        .counted("Seats", "Count", "1")
        .checkout_type(CheckoutType::Perpetual)
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap();
    assert!(drawn.lease().is_none(), "drawdown is never checked in");
    assert_eq!(drawn.checkout_type(), CheckoutType::Perpetual);
}

#[tokio::test]
async fn exhausted_units_are_not_entitled_after_one_retry() {
    let emu = emulator(vec![seats(1)]).await;
    let one = contract(&emu)
        .counted("Seats", "Count", "1")
        .build()
        .unwrap();
    let _first = one.checkout().await.unwrap();
    emu.clear_calls();
    let err = one.checkout().await.unwrap_err();
    assert_eq!(err.exit_code(), 77, "{err}");
    assert!(matches!(err, CheckError::NotLicensed { .. }), "{err}");
    assert_eq!(checkout_calls(&emu), 2, "one retry after a pause");
    assert_eq!(held(&emu).await, 1, "the refused checkout holds nothing");
}

#[tokio::test]
async fn no_licence_a_suspended_one_and_a_wrong_fingerprint_are_not_entitled_without_retry() {
    let emu = emulator(vec![]).await;
    let err = contract(&emu)
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 77, "{err}");
    assert_eq!(checkout_calls(&emu), 1, "a tier is not retried");

    let arn = emu.add_license(tiers()).unwrap();
    set_status(&emu, &arn, "SUSPENDED").await;
    let err = contract(&emu)
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 77, "suspended: {err}");

    set_status(&emu, &arn, "AVAILABLE").await;
    let err = contract(&emu)
        .tier("Premium")
        .key_fingerprint(SELLER_FINGERPRINT)
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 77, "wrong fingerprint: {err}");

    emu.push_fault_for(
        SKU,
        Operation::CheckoutLicense,
        Fault::error("ResourceNotFoundException"),
        1,
    );
    let err = contract(&emu)
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("ResourceNotFoundException"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 77);
}

#[tokio::test]
async fn an_answer_lost_after_the_checkout_is_retried_with_the_same_client_token() {
    let emu = emulator(vec![seats(2)]).await;
    // The emulator checks out, then sends the answer at 20 bytes/s: the
    // attempt times out after License Manager held the unit.
    emu.push_fault_for(
        SKU,
        Operation::CheckoutLicense,
        Fault::Trickle {
            bytes_per_second: 20,
        },
        1,
    );
    let license = contract(&emu)
        .counted("Seats", "Count", "1")
        .attempt_timeout(Duration::from_secs(1))
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap();
    assert_eq!(license.attempts(), 2);
    assert_eq!(held(&emu).await, 1, "one unit held, not two");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_until_the_deadline() {
    let emu = emulator(vec![tiers()]).await;
    for fault in [
        Fault::error("RateLimitExceededException"),
        Fault::error("ServerInternalException"),
        Fault::Status {
            status: 503,
            body: String::new(),
        },
    ] {
        emu.clear_faults();
        emu.push_fault_for(SKU, Operation::CheckoutLicense, fault.clone(), 10_000);
        let err = contract(&emu)
            .tier("Premium")
            .deadline(Duration::from_millis(1500))
            .build()
            .unwrap()
            .checkout()
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 75, "{fault:?}: {err}");
        match err {
            CheckError::Unavailable { attempts, .. } => assert!(attempts > 1, "{fault:?}"),
            other => panic!("{other}"),
        }
    }
    emu.clear_faults();
    emu.push_fault_for(
        SKU,
        Operation::CheckoutLicense,
        Fault::error("RateLimitExceededException"),
        2,
    );
    let license = contract(&emu)
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap();
    assert_eq!(license.attempts(), 3, "two throttles, then a pass");
}

#[tokio::test]
async fn refusals_are_configuration_errors_with_their_reason() {
    let both = vec![
        EntitlementSpec::tier("Premium"),
        EntitlementSpec::count("Seats", 5),
    ];
    let emu = emulator(vec![LicenseSpec::new(SKU, both)]).await;
    for (code, reason) in [
        (
            "AccessDeniedException",
            RejectReason::LicenseAccessDenied("AccessDeniedException".into()),
        ),
        (
            "AuthorizationException",
            RejectReason::LicenseAccessDenied("AuthorizationException".into()),
        ),
        (
            "ValidationException",
            RejectReason::LicenseValidation("ValidationException".into()),
        ),
        (
            "InvalidParameterValueException",
            RejectReason::LicenseValidation("InvalidParameterValueException".into()),
        ),
        (
            "UnsupportedDigitalSignatureMethodException",
            RejectReason::UnsupportedSignatureMethod,
        ),
    ] {
        emu.push_fault_for(SKU, Operation::CheckoutLicense, Fault::error(code), 1);
        let err = contract(&emu)
            .tier("Premium")
            .build()
            .unwrap()
            .checkout()
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 78, "{code}: {err}");
        match &err {
            CheckError::Rejected { reason: got, .. } => assert_eq!(*got, reason, "{code}"),
            other => panic!("{code}: {other}"),
        }
    }
    // The emulator's own validation: a fraction of a Count.
    let err = seats_contract(&emu, "1.5").checkout().await.unwrap_err();
    assert_eq!(err.exit_code(), 78, "{err}");
    assert!(
        err.to_string().contains("InvalidParameterValueException"),
        "{err}"
    );
}

#[tokio::test]
async fn a_redirect_is_followed_once_and_only_to_the_same_endpoint() {
    let emu = emulator(vec![tiers()]).await;
    let redirect = |location: &str| Fault::Status {
        status: 308,
        body: format!(
            r#"{{"__type":"RedirectException","message":"moved","Location":"{location}"}}"#
        ),
    };
    emu.push_fault_for(
        SKU,
        Operation::CheckoutLicense,
        redirect(&emu.endpoint_url()),
        1,
    );
    let license = contract(&emu)
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap();
    assert_eq!(license.attempts(), 2);

    emu.push_fault_for(
        SKU,
        Operation::CheckoutLicense,
        redirect(&emu.endpoint_url()),
        2,
    );
    let err = contract(&emu)
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CheckError::Rejected {
                reason: RejectReason::LicenseRedirect,
                ..
            }
        ),
        "twice: {err}"
    );
    emu.clear_faults();

    // The emulator's RedirectException names us-west-2's endpoint: with an
    // endpoint override in effect, that is a foreign host.
    emu.push_fault_for(
        SKU,
        Operation::CheckoutLicense,
        Fault::error("RedirectException"),
        1,
    );
    let err = contract(&emu)
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 78, "{err}");
    assert!(
        err.to_string()
            .contains("license-manager.us-west-2.amazonaws.com"),
        "{err}"
    );
    assert_eq!(
        held(&emu).await,
        1,
        "only the followed redirect's checkout holds a unit"
    );
}

#[tokio::test]
async fn a_seller_issued_token_verifies_with_the_issuers_key_and_a_forged_one_is_65() {
    let mut spec = tiers();
    spec.key_fingerprint = Some(SELLER_FINGERPRINT.into());
    let emu = emulator(vec![spec]).await;
    let pem = emu.license_issuer_public_key(SELLER_FINGERPRINT).unwrap();
    let key = PublicKey::from_pem(pem.as_bytes()).unwrap();
    let seller = || {
        contract(&emu)
            .tier("Premium")
            .key_fingerprint(SELLER_FINGERPRINT)
    };
    let license = seller()
        .issuer_public_key(key)
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap();
    assert!(license.token_verified());

    // Any other key: the token does not verify, so the answer is refused.
    let other = PublicKey::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem"
    ))
    .unwrap();
    let err = seller()
        .issuer_public_key(other)
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 65, "{err}");
    assert!(err.to_string().contains("SignedToken"), "{err}");
}

#[tokio::test]
async fn a_malformed_answer_is_65_never_a_pass() {
    let emu = emulator(vec![tiers()]).await;
    let body = r#"{"CheckoutType":"PROVISIONAL","LicenseConsumptionToken":"c","EntitlementsAllowed":[{"Name":"Gold","Unit":"None"}],"SignedToken":"a.b.c","NodeId":"x","IssuedAt":"2020-01-01T00:00:00Z","Expiration":"2099-01-01T00:00:00Z","LicenseArn":"arn:aws:license-manager::1:license:l-1"}"#;
    emu.push_fault_for(
        SKU,
        Operation::CheckoutLicense,
        Fault::Malformed { body: body.into() },
        1,
    );
    let err = contract(&emu)
        .tier("Premium")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 65, "{err}");
}

#[tokio::test]
async fn an_expired_consumption_is_not_extended_and_the_licence_clock_decides() {
    let emu = emulator(vec![seats(1)]).await;
    let license = contract(&emu)
        .counted("Seats", "Count", "1")
        .build()
        .unwrap()
        .checkout()
        .await
        .unwrap();
    emu.advance_license_clock(61 * 60);
    let err = license.lease().unwrap().extend().await.unwrap_err();
    assert_eq!(err.exit_code(), 77, "{err}");
    assert_eq!(
        held(&emu).await,
        0,
        "the unit returned by itself after the time-to-live"
    );
}
