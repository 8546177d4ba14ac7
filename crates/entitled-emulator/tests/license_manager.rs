//! License Manager through the real `aws-sdk-licensemanager` client: every rule of
//! CheckoutLicense, ExtendLicenseConsumption and CheckInLicense, GetLicense and
//! ListReceivedLicenses, the signed token, the admin routes and the call log.

mod common;

use aws_sdk_licensemanager::types::{CheckoutType, EntitlementDataUnit as Unit, Filter};
use common::lm::*;
use common::{default_credentials, fixture, V1_PUBLIC};
use entitled_emulator::{Config, Emulator, MARKETPLACE_FINGERPRINT};
use serde_json::json;

const SKU: &str = "prod-sku-1";
const NO_ENTITLEMENTS: &str = "400:NoEntitlementsAllowedException";
const NOT_FOUND: &str = "400:ResourceNotFoundException";

fn emulator() -> Emulator {
    Emulator::spawn(Config::new()).unwrap()
}

/// A licence for the default account with a tier and `users` counted seats.
fn seed_users(emulator: &Emulator, users: u64) -> String {
    seed(
        emulator,
        json!({"product_sku": SKU, "entitlements": [
            {"name": "Premium", "unit": "None"},
            {"name": "Users", "unit": "Count", "max_count": users}]}),
    )
}

fn users(n: &str) -> Vec<aws_sdk_licensemanager::types::EntitlementData> {
    vec![ask("Users", Unit::Count, Some(n))]
}

#[tokio::test]
async fn tiers_only_the_tiers_bought_are_allowed() {
    let emulator = emulator();
    seed_users(&emulator, 1);
    let client = client(&emulator);
    let every_tier = vec![
        ask("Basic", Unit::None, None),
        ask("Premium", Unit::None, None),
        ask("Enterprise", Unit::None, None),
    ];
    let granted = checkout(&client, SKU, CheckoutType::Provisional, every_tier, "t-1")
        .await
        .unwrap();
    assert_eq!(granted.allowed, ["Premium"]);
    let other_tiers = vec![
        ask("Basic", Unit::None, None),
        ask("Gold", Unit::None, None),
    ];
    let refused = checkout(&client, SKU, CheckoutType::Provisional, other_tiers, "t-2").await;
    assert_eq!(refused.unwrap_err(), NO_ENTITLEMENTS);
}

#[tokio::test]
async fn provisional_units_float_until_checked_in_and_run_out() {
    let emulator = emulator();
    seed_users(&emulator, 2);
    let client = client(&emulator);
    let provisional = CheckoutType::Provisional;
    let first = checkout(&client, SKU, provisional.clone(), users("1"), "a")
        .await
        .unwrap();
    assert_eq!(first.allowed, ["Users=1"]);
    checkout(&client, SKU, provisional.clone(), users("1"), "b")
        .await
        .unwrap();
    let exhausted = checkout(&client, SKU, provisional.clone(), users("1"), "c").await;
    assert_eq!(
        exhausted.unwrap_err(),
        NO_ENTITLEMENTS,
        "both seats are held"
    );
    let (_, listed, _) = admin(&emulator, "GET", "/_emulator/licenses", "");
    assert_eq!(listed[0]["consumptions"].as_array().unwrap().len(), 2);

    check_in(&client, &first.token).await.unwrap();
    checkout(&client, SKU, provisional.clone(), users("1"), "d")
        .await
        .unwrap();
    assert_eq!(
        check_in(&client, &first.token).await.unwrap_err(),
        NOT_FOUND,
        "second check-in"
    );
    let too_many = checkout(&client, SKU, provisional, users("3"), "e").await;
    assert_eq!(
        too_many.unwrap_err(),
        NO_ENTITLEMENTS,
        "more than bought at once"
    );
}

#[tokio::test]
async fn perpetual_units_are_drawn_down_for_good() {
    let emulator = emulator();
    seed_users(&emulator, 3);
    let client = client(&emulator);
    let perpetual = CheckoutType::Perpetual;
    let two = checkout(&client, SKU, perpetual.clone(), users("2"), "p-1")
        .await
        .unwrap();
    assert_eq!(two.allowed, ["Users=2"]);
    checkout(&client, SKU, perpetual.clone(), users("1"), "p-2")
        .await
        .unwrap();
    // Checking a drawdown in closes the consumption but returns nothing.
    check_in(&client, &two.token).await.unwrap();
    advance(&emulator, 2 * 3600);
    let none_left = checkout(&client, SKU, perpetual, users("1"), "p-3").await;
    assert_eq!(none_left.unwrap_err(), NO_ENTITLEMENTS);
    let provisional = checkout(&client, SKU, CheckoutType::Provisional, users("1"), "p-4").await;
    assert_eq!(
        provisional.unwrap_err(),
        NO_ENTITLEMENTS,
        "drawn units float no more"
    );
}

#[tokio::test]
async fn a_counted_entitlement_asked_as_a_tier_is_refused() {
    let emulator = emulator();
    seed_users(&emulator, 5);
    let client = client(&emulator);
    let as_tier = vec![ask("Users", Unit::None, None)];
    let refused = checkout(&client, SKU, CheckoutType::Provisional, as_tier, "u").await;
    assert_eq!(refused.unwrap_err(), NO_ENTITLEMENTS);
    let bad_value = checkout(&client, SKU, CheckoutType::Provisional, users("many"), "v").await;
    assert_eq!(bad_value.unwrap_err(), "400:InvalidParameterValueException");
}

#[tokio::test]
async fn a_client_token_retry_is_the_same_checkout() {
    let emulator = emulator();
    seed_users(&emulator, 1);
    let client = client(&emulator);
    let provisional = CheckoutType::Provisional;
    let first = checkout(&client, SKU, provisional.clone(), users("1"), "retry")
        .await
        .unwrap();
    let again = checkout(&client, SKU, provisional.clone(), users("1"), "retry")
        .await
        .unwrap();
    assert_eq!(again.token, first.token);
    assert_eq!(again.signed_token, first.signed_token);
    assert_eq!(again.expiration, first.expiration);
    let (_, listed, _) = admin(&emulator, "GET", "/_emulator/licenses", "");
    assert_eq!(
        listed[0]["consumptions"].as_array().unwrap().len(),
        1,
        "one seat held"
    );
    let other = checkout(&client, SKU, provisional.clone(), users("1"), "fresh").await;
    assert_eq!(
        other.unwrap_err(),
        NO_ENTITLEMENTS,
        "the one seat is the retry's"
    );
    let changed = checkout(&client, SKU, CheckoutType::Perpetual, users("1"), "retry").await;
    assert_eq!(changed.unwrap_err(), "409:ConflictException");
}

#[tokio::test]
async fn provisional_units_expire_by_the_licence_clock_and_extend_adds_a_time_to_live() {
    let emulator = emulator();
    seed_users(&emulator, 1);
    let client = client(&emulator);
    let provisional = CheckoutType::Provisional;
    let held = checkout(&client, SKU, provisional.clone(), users("1"), "x-1")
        .await
        .unwrap();
    let minutes = |from: &str, to: &str| {
        let t = |s: &str| chrono_free_epoch(s);
        (t(to) - t(from)) / 60
    };
    assert_eq!(minutes(&held.issued_at, &held.expiration), 60);
    advance(&emulator, 30 * 60);
    let extended = extend(&client, &held.token).await.unwrap();
    assert_eq!(minutes(&held.issued_at, &extended), 120);
    advance(&emulator, 60 * 60);
    let still_held = checkout(&client, SKU, provisional.clone(), users("1"), "x-2").await;
    assert_eq!(
        still_held.unwrap_err(),
        NO_ENTITLEMENTS,
        "90 minutes in, the extension holds"
    );
    advance(&emulator, 31 * 60);
    assert_eq!(extend(&client, &held.token).await.unwrap_err(), NOT_FOUND);
    assert_eq!(check_in(&client, &held.token).await.unwrap_err(), NOT_FOUND);
    checkout(&client, SKU, provisional, users("1"), "x-3")
        .await
        .unwrap();
    let dry = client
        .extend_license_consumption()
        .license_consumption_token("no-such-token")
        .dry_run(true)
        .send()
        .await;
    assert_eq!(error_name(&dry.unwrap_err()), NOT_FOUND);
}

/// Epoch seconds of `YYYY-MM-DDTHH:MM:SSZ`.
fn chrono_free_epoch(s: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let days = entitled_verify::calendar::days_from_civil(n(0..4), n(5..7) as u32, n(8..10) as u32);
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

#[tokio::test]
async fn suspended_and_expired_licences_allow_nothing() {
    let emulator = emulator();
    let arn = seed_users(&emulator, 5);
    let client = client(&emulator);
    let premium = || vec![ask("Premium", Unit::None, None)];
    let path = format!("/_emulator/licenses/{}", encode(&arn));
    let held = checkout(&client, SKU, CheckoutType::Provisional, premium(), "s-0").await;
    let held = held.expect("a unit held before the licence is suspended");
    let (status, patched, text) = admin(&emulator, "PATCH", &path, r#"{"status":"SUSPENDED"}"#);
    assert_eq!(
        (status, patched["status"].as_str()),
        (200, Some("SUSPENDED")),
        "{text}"
    );
    assert_eq!(
        extend(&client, &held.token).await.unwrap_err(),
        NOT_FOUND,
        "a held unit of a suspended licence is not extended"
    );
    let suspended = checkout(&client, SKU, CheckoutType::Provisional, premium(), "s-1").await;
    assert_eq!(suspended.unwrap_err(), NO_ENTITLEMENTS);
    // A replacement licence for the same SKU serves while the first stays suspended.
    let replacement = seed_users(&emulator, 1);
    let served = checkout(&client, SKU, CheckoutType::Provisional, premium(), "s-1b").await;
    assert_eq!(served.unwrap().license_arn, replacement);
    admin(&emulator, "PATCH", &path, r#"{"status":"AVAILABLE"}"#);
    checkout(&client, SKU, CheckoutType::Provisional, premium(), "s-2")
        .await
        .unwrap();

    let ended = seed(
        &emulator,
        json!({"product_sku": "ended-sku", "entitlements": [{"name": "Premium", "unit": "None"}],
               "validity": {"begin": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"}}),
    );
    let late = checkout(
        &client,
        "ended-sku",
        CheckoutType::Provisional,
        premium(),
        "s-3",
    )
    .await;
    assert_eq!(late.unwrap_err(), NO_ENTITLEMENTS);
    let got = client
        .get_license()
        .license_arn(&ended)
        .send()
        .await
        .unwrap();
    let status = got
        .license()
        .and_then(|l| l.status())
        .map(|s| s.as_str().to_owned());
    assert_eq!(status.as_deref(), Some("EXPIRED"));
    // A year on the licence clock ends the first licence too.
    advance(&emulator, 366 * 86_400);
    let after = checkout(&client, SKU, CheckoutType::Provisional, premium(), "s-4").await;
    assert_eq!(after.unwrap_err(), NO_ENTITLEMENTS);
}

#[tokio::test]
async fn another_issuer_or_account_gets_no_entitlements() {
    let emulator = emulator();
    seed_users(&emulator, 5);
    seed(
        &emulator,
        json!({"product_sku": "theirs", "beneficiary": "210987654321",
               "entitlements": [{"name": "Premium", "unit": "None"}]}),
    );
    let client = client(&emulator);
    let premium = || vec![ask("Premium", Unit::None, None)];
    let wrong_issuer = checkout_with(
        &client,
        SKU,
        "aws:111111111111:Someone/Else:issuer-fingerprint",
        CheckoutType::Provisional,
        premium(),
        "f-1",
        None,
    )
    .await;
    assert_eq!(wrong_issuer.unwrap_err(), NO_ENTITLEMENTS);
    let not_ours = checkout(
        &client,
        "theirs",
        CheckoutType::Provisional,
        premium(),
        "f-2",
    )
    .await;
    assert_eq!(not_ours.unwrap_err(), NO_ENTITLEMENTS);
    let unknown = checkout(
        &client,
        "no-such-sku",
        CheckoutType::Provisional,
        premium(),
        "f-3",
    )
    .await;
    assert_eq!(unknown.unwrap_err(), NO_ENTITLEMENTS);
}

/// What the SDK sends unchecked (enums, blank strings, missing members), each refused by the
/// emulator with the member named.
#[tokio::test]
async fn validation_errors_name_the_member() {
    let emulator = emulator();
    seed_users(&emulator, 5);
    let client = client(&emulator);
    type CheckoutError = aws_sdk_licensemanager::operation::checkout_license::CheckoutLicenseError;
    let message = |e: &aws_sdk_licensemanager::error::SdkError<CheckoutError>| {
        use aws_sdk_licensemanager::error::ProvideErrorMetadata as _;
        match e {
            aws_sdk_licensemanager::error::SdkError::ServiceError(ctx) => {
                format!(
                    "{}: {}",
                    ctx.err().code().unwrap_or(""),
                    ctx.err().message().unwrap_or("")
                )
            }
            other => format!("{other:?}"),
        }
    };
    let base = || {
        client
            .checkout_license()
            .product_sku(SKU)
            .key_fingerprint(MARKETPLACE_FINGERPRINT)
            .checkout_type(CheckoutType::Provisional)
            .entitlements(ask("Users", Unit::Count, Some("1")))
            .client_token("v")
    };
    let cases = [
        (
            base().checkout_type(CheckoutType::from("FLOATING")),
            "'checkoutType'",
        ),
        (base().client_token(" "), "'clientToken'"),
        (base().set_client_token(None), "'clientToken'"),
        (base().set_product_sku(None), "'productSKU'"),
        (base().set_key_fingerprint(None), "'keyFingerprint'"),
        (base().set_entitlements(None), "'entitlements'"),
        (
            base().set_entitlements(Some(vec![ask("Users", Unit::from("Seats"), Some("1"))])),
            "'entitlements.1.member.unit'",
        ),
    ];
    for (call, member) in cases {
        let err = call.send().await.unwrap_err();
        let text = message(&err);
        assert!(
            text.starts_with("ValidationException: 1 validation error detected"),
            "{text}"
        );
        assert!(text.contains(member), "{member}: {text}");
    }
    let list = client
        .list_received_licenses()
        .max_results(101)
        .send()
        .await;
    assert_eq!(error_name(&list.unwrap_err()), "400:ValidationException");
    let arn = client.get_license().license_arn("l-123").send().await;
    assert_eq!(error_name(&arn.unwrap_err()), "400:ValidationException");
}

#[tokio::test]
async fn the_signed_token_is_ps384_over_the_documented_claims() {
    let emulator = emulator();
    let arn = seed_users(&emulator, 5);
    let client = client(&emulator);
    let asked = vec![
        ask("Premium", Unit::None, None),
        ask("Users", Unit::Count, Some("2")),
    ];
    let granted = checkout_with(
        &client,
        SKU,
        MARKETPLACE_FINGERPRINT,
        CheckoutType::Provisional,
        asked,
        "sig",
        Some("node-7"),
    )
    .await
    .unwrap();
    assert_eq!(granted.node_id.as_deref(), Some("node-7"));
    assert_eq!(granted.license_arn, arn);
    let path = format!(
        "/_emulator/license-issuers/public-key?fingerprint={}",
        encode(MARKETPLACE_FINGERPRINT)
    );
    let (status, _, pem) = admin(&emulator, "GET", &path, "");
    assert_eq!(status, 200, "{pem}");
    let (header, claims, valid) = decode_ps384(&granted.signed_token, &pem);
    assert!(valid, "verifies with the issuer's public key");
    assert_eq!(header["alg"], "PS384");
    assert_eq!(claims["licenseArn"], arn.as_str());
    assert_eq!(claims["licenseConsumptionToken"], granted.token.as_str());
    assert_eq!(claims["nodeId"], "node-7");
    assert_eq!(claims["issuedAt"], granted.issued_at.as_str());
    assert_eq!(claims["expiration"], granted.expiration.as_str());
    assert_eq!(
        claims["entitlementsAllowed"],
        json!([{"name": "Premium", "unit": "None", "value": null},
               {"name": "Users", "unit": "Count", "value": "2"}])
    );
    assert_eq!(claims["checkoutMetadata"]["checkoutType"], "PROVISIONAL");
    let other = emulator.license_issuer_public_key("aws:1:nobody");
    assert!(other.is_none());
    let forged = decode_ps384(&granted.signed_token, &fixture(V1_PUBLIC)).2;
    assert!(!forged, "another key does not verify it");
}

#[tokio::test]
async fn get_and_list_received_licenses_show_the_model_shapes() {
    let emulator = emulator();
    let arn = seed_users(&emulator, 4);
    let second = seed(
        &emulator,
        json!({"product_sku": "sku-2", "status": "SUSPENDED", "provisional_ttl_minutes": 15,
               "entitlements": [{"name": "Basic", "unit": "None"}]}),
    );
    seed(
        &emulator,
        json!({"product_sku": "theirs", "beneficiary": "210987654321",
               "entitlements": [{"name": "Basic", "unit": "None"}]}),
    );
    let client = client(&emulator);
    let got = client.get_license().license_arn(&arn).send().await.unwrap();
    let license = got.license().unwrap();
    assert_eq!(license.product_sku(), Some(SKU));
    assert_eq!(license.beneficiary(), Some("123456789012"));
    let issuer = license.issuer().unwrap();
    assert_eq!(issuer.key_fingerprint(), Some(MARKETPLACE_FINGERPRINT));
    assert_eq!(issuer.name(), Some("AWS/Marketplace"));
    let users = &license.entitlements()[1];
    assert_eq!(
        (users.name(), users.max_count(), users.overage()),
        ("Users", Some(4), Some(false))
    );
    assert_eq!(users.allow_check_in(), Some(true));
    let ttl = license
        .consumption_configuration()
        .and_then(|c| c.provisional_configuration())
        .map(|p| p.max_time_to_live_in_minutes());
    assert_eq!(ttl, Some(60));
    assert!(license.validity().is_some_and(|v| !v.begin().is_empty()));

    let all = client.list_received_licenses().send().await.unwrap();
    let arns: Vec<&str> = all
        .licenses()
        .iter()
        .filter_map(|l| l.license_arn())
        .collect();
    assert_eq!(arns, [arn.as_str(), second.as_str()], "only this account's");
    let received = all.licenses()[0].received_metadata().unwrap();
    assert_eq!(
        received.received_status().map(|s| s.as_str()),
        Some("ACTIVE")
    );
    let filter = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
    let suspended = client
        .list_received_licenses()
        .filters(filter("Status", "SUSPENDED"))
        .send()
        .await
        .unwrap();
    assert_eq!(suspended.licenses().len(), 1);
    assert_eq!(suspended.licenses()[0].product_sku(), Some("sku-2"));
    let page = client
        .list_received_licenses()
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.licenses().len(), 1);
    let next = page.next_token().unwrap().to_owned();
    let rest = client
        .list_received_licenses()
        .max_results(1)
        .next_token(next)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.licenses()[0].license_arn(), Some(second.as_str()));
    assert!(rest.next_token().is_none());
    let bad = client
        .list_received_licenses()
        .filters(filter("Colour", "red"))
        .send()
        .await;
    assert_eq!(
        error_name(&bad.unwrap_err()),
        "400:InvalidParameterValueException"
    );
    let theirs = client
        .get_license()
        .license_arn(arn.replace("l-", "l-0"))
        .send()
        .await;
    assert_eq!(
        error_name(&theirs.unwrap_err()),
        "400:InvalidParameterValueException"
    );
}

#[test]
fn admin_routes_refuse_unknown_fields_and_bad_values() {
    let emulator = emulator();
    let cases = [
        (
            "POST",
            "/_emulator/licenses".to_owned(),
            r#"{"product_sku":"a","entitlements":[{"name":"x","unit":"None"}],"sku":1}"#,
            400,
            "sku",
        ),
        (
            "POST",
            "/_emulator/licenses".to_owned(),
            r#"{"product_sku":"a","entitlements":[{"name":"x","unit":"Seats"}]}"#,
            400,
            "EntitlementUnit",
        ),
        (
            "POST",
            "/_emulator/licenses".to_owned(),
            r#"{"product_sku":"a","entitlements":[{"name":"x","unit":"Count"}]}"#,
            400,
            "max_count",
        ),
        (
            "PATCH",
            format!(
                "/_emulator/licenses/{}",
                encode("arn:aws:license-manager::1:license:l-0")
            ),
            r#"{"status":"SUSPENDED"}"#,
            404,
            "no licence",
        ),
        (
            "POST",
            "/_emulator/license-tokens".to_owned(),
            r#"{"license_arn":"x","roles":[]}"#,
            400,
            "roles",
        ),
        (
            "POST",
            "/_emulator/clock".to_owned(),
            r#"{"advance_seconds":-5}"#,
            400,
            "forward",
        ),
        (
            "GET",
            "/_emulator/license-issuers/public-key?fingerprint=nobody".to_owned(),
            "",
            404,
            "nobody",
        ),
    ];
    for (method, path, body, want, named) in cases {
        let (status, _, text) = admin(&emulator, method, &path, body);
        assert_eq!(status, want, "{method} {path}: {text}");
        assert!(text.contains(named), "{method} {path}: {text}");
    }
    let arn = seed_users(&emulator, 1);
    let path = format!("/_emulator/licenses/{}", encode(&arn));
    let (status, _, text) = admin(&emulator, "PATCH", &path, r#"{"status":"GONE"}"#);
    assert_eq!(status, 400);
    assert!(text.contains("LicenseStatus"), "{text}");
    let (status, clock, _) = admin(&emulator, "GET", "/_emulator/clock", "");
    assert_eq!((status, clock["offset_seconds"].as_u64()), (200, Some(0)));
}

#[tokio::test]
async fn the_call_log_names_sku_entitlements_and_consumption() {
    let emulator = emulator();
    seed_users(&emulator, 1);
    let client = client(&emulator);
    let asked = vec![
        ask("Premium", Unit::None, None),
        ask("Gold", Unit::None, None),
    ];
    let granted = checkout(&client, SKU, CheckoutType::Provisional, asked, "log")
        .await
        .unwrap();
    check_in(&client, &granted.token).await.unwrap();
    let calls = emulator.calls();
    let (out, back) = (&calls[0], &calls[1]);
    assert_eq!(
        (out.operation.as_str(), out.outcome.as_str()),
        ("CheckoutLicense", "ok")
    );
    assert_eq!(out.product_sku.as_deref(), Some(SKU));
    assert_eq!(out.account.as_deref(), Some("123456789012"));
    assert_eq!(
        out.caller.as_deref(),
        Some(entitled_emulator::DEFAULT_ACCESS_KEY_ID)
    );
    let names = |list: &Option<Vec<entitled_emulator::EntitlementData>>| -> Vec<String> {
        list.iter().flatten().map(|e| e.name.clone()).collect()
    };
    assert_eq!(names(&out.entitlements_requested), ["Premium", "Gold"]);
    assert_eq!(names(&out.entitlements_allowed), ["Premium"]);
    assert_eq!(
        out.consumption_token.as_deref(),
        Some(granted.token.as_str())
    );
    assert_eq!(back.operation, "CheckInLicense");
    assert_eq!(
        back.product_sku.as_deref(),
        Some(SKU),
        "found through the consumption token"
    );
    assert_eq!(
        back.consumption_token.as_deref(),
        Some(granted.token.as_str())
    );
    let (_, served, _) = admin(&emulator, "GET", "/_emulator/calls", "");
    assert_eq!(
        served[0]["entitlements_allowed"],
        json!([{"name": "Premium", "unit": "None"}])
    );
}

#[tokio::test]
async fn a_metering_signature_is_not_a_license_manager_one() {
    let emulator = emulator();
    seed_users(&emulator, 1);
    // A License Manager call signed for aws-marketplace, as a client pointed at the wrong
    // service would sign it.
    let config = builder(&emulator, default_credentials())
        .interceptor(ScopeRewriter)
        .build();
    let client = aws_sdk_licensemanager::Client::from_conf(config);
    let out = client.list_received_licenses().send().await;
    assert_eq!(
        error_name(&out.unwrap_err()),
        "403:InvalidSignatureException"
    );
}

/// Rewrites the credential scope's service after signing, so the signature is for another
/// service.
#[derive(Debug)]
struct ScopeRewriter;

impl aws_sdk_licensemanager::config::Intercept for ScopeRewriter {
    fn name(&self) -> &'static str {
        "ScopeRewriter"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_licensemanager::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_sdk_licensemanager::config::RuntimeComponents,
        _: &mut aws_sdk_licensemanager::config::ConfigBag,
    ) -> Result<(), aws_sdk_licensemanager::error::BoxError> {
        let headers = context.request_mut().headers_mut();
        let auth = headers
            .get("authorization")
            .unwrap_or_default()
            .replace("/license-manager/", "/aws-marketplace/");
        headers.insert("authorization", auth);
        Ok(())
    }
}

#[tokio::test]
async fn licences_from_the_config_file_are_served_and_bad_ones_refused() {
    let file = r#"{"licenses": [{"product_sku": "file-sku", "provisional_ttl_minutes": 5,
        "entitlements": [{"name": "Premium", "unit": "None"}]}]}"#;
    let config = Config::new().config_json(file, ".".as_ref()).unwrap();
    let emulator = Emulator::spawn(config).unwrap();
    let premium = vec![ask("Premium", Unit::None, None)];
    let granted = checkout(
        &client(&emulator),
        "file-sku",
        CheckoutType::Provisional,
        premium,
        "c",
    )
    .await
    .unwrap();
    let minutes =
        (chrono_free_epoch(&granted.expiration) - chrono_free_epoch(&granted.issued_at)) / 60;
    assert_eq!(minutes, 5, "the file's time-to-live");
    let bad = [
        (
            r#"{"licenses": [{"product_sku": "a", "entitlements": [], "colour": 1}]}"#,
            "colour",
        ),
        (
            r#"{"licenses": [{"product_sku": "a", "entitlements": [{"name": "x", "unit": "Seat"}]}]}"#,
            "EntitlementUnit",
        ),
        (
            r#"{"licenses": [{"product_sku": "a", "beneficiary": "1", "entitlements": [{"name": "x", "unit": "None"}]}]}"#,
            "beneficiary",
        ),
    ];
    for (text, named) in bad {
        let err = Config::new()
            .config_json(text, ".".as_ref())
            .unwrap_err()
            .to_string();
        assert!(err.contains(named), "{text}: {err}");
    }
}
