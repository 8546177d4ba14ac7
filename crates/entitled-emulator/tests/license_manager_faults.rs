//! Every fault kind on CheckoutLicense, through the real `aws-sdk-licensemanager` client:
//! License Manager's error statuses (401, 403, 409, 429, 308 with `Location`, 500), raw
//! statuses, transport faults, and the call log's outcomes. Faults aim at a product SKU or
//! `*`, and at one operation.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_licensemanager::config::timeout::TimeoutConfig;
use aws_sdk_licensemanager::types::{CheckoutType, EntitlementDataUnit as Unit};
use common::lm::*;
use entitled_emulator::{Config, Emulator, Fault, Operation};
use serde_json::json;

const SKU: &str = "fault-sku";

fn emulator() -> Emulator {
    let emulator = Emulator::spawn(Config::new()).unwrap();
    seed(
        &emulator,
        json!({"product_sku": SKU, "entitlements": [{"name": "Premium", "unit": "None"}]}),
    );
    emulator
}

async fn premium(client: &aws_sdk_licensemanager::Client, token: &str) -> Result<Granted, String> {
    let asked = vec![ask("Premium", Unit::None, None)];
    checkout(client, SKU, CheckoutType::Provisional, asked, token).await
}

#[tokio::test]
async fn error_faults_answer_with_license_managers_statuses() {
    let emulator = emulator();
    let client = client(&emulator);
    let table = [
        ("ResourceNotFoundException", "400:ResourceNotFoundException"),
        ("AccessDeniedException", "401:AccessDeniedException"),
        ("AuthorizationException", "403:AuthorizationException"),
        ("ConflictException", "409:ConflictException"),
        (
            "RateLimitExceededException",
            "429:RateLimitExceededException",
        ),
        ("ServerInternalException", "500:ServerInternalException"),
        ("RedirectException", "308:RedirectException"),
    ];
    for (i, (code, want)) in table.iter().enumerate() {
        emulator.push_fault_for(SKU, Operation::CheckoutLicense, Fault::error(*code), 1);
        let got = premium(&client, &format!("e-{i}")).await;
        assert_eq!(got.unwrap_err(), *want);
        assert_eq!(emulator.calls().last().unwrap().outcome, *code);
    }
    let (status, head, _) =
        common::raw_http(emulator.local_addr(), "GET", "/_emulator/faults", &[], "");
    assert_eq!(status, 200, "{head}");
    premium(&client, "after").await.unwrap();
}

#[test]
fn a_redirect_names_the_location() {
    let emulator = emulator();
    emulator.push_fault("*", Fault::error("RedirectException"), 1);
    // `*` with no operation: the first signed call of any operation gets it.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = client(&emulator);
    let err = rt
        .block_on(client.list_received_licenses().send())
        .unwrap_err();
    let aws_sdk_licensemanager::error::SdkError::ServiceError(ctx) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(ctx.raw().status().as_u16(), 308);
    assert_eq!(
        ctx.raw().headers().get("location"),
        Some("https://license-manager.us-west-2.amazonaws.com/")
    );
}

#[tokio::test]
async fn transport_faults_on_checkout() {
    let emulator = emulator();
    let client = client(&emulator);
    let stall_client = aws_sdk_licensemanager::Client::from_conf(
        builder(&emulator, common::default_credentials())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_millis(1500))
                    .build(),
            )
            .build(),
    );
    let aim = |fault: Fault| emulator.push_fault_for(SKU, Operation::CheckoutLicense, fault, 1);

    aim(Fault::Status {
        status: 503,
        body: String::new(),
    });
    assert_eq!(premium(&client, "t-1").await.unwrap_err(), "response:503");
    aim(Fault::Stall);
    assert_eq!(premium(&stall_client, "t-2").await.unwrap_err(), "timeout");
    aim(Fault::Drop);
    let err = premium(&client, "t-3").await.unwrap_err();
    assert!(err == "dispatch" || err.starts_with("response"), "{err}");
    aim(Fault::DropMidResponse);
    let err = premium(&client, "t-4").await.unwrap_err();
    assert!(err == "dispatch" || err.starts_with("response"), "{err}");
    aim(Fault::Malformed {
        body: "{not json".into(),
    });
    assert!(premium(&client, "t-5")
        .await
        .unwrap_err()
        .starts_with("response"));
    aim(Fault::Oversized { bytes: 3_000_000 });
    assert!(premium(&client, "t-6").await.is_err());
    aim(Fault::Latency { millis: 300 });
    let t = Instant::now();
    premium(&client, "t-7").await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    // A checkout answer is over a kilobyte: at 4000 bytes/s it takes a few hundred ms.
    aim(Fault::Trickle {
        bytes_per_second: 4000,
    });
    let t = Instant::now();
    let slow = premium(&client, "t-8").await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert_eq!(slow.allowed, ["Premium"]);

    let outcomes: Vec<String> = emulator.calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes,
        [
            "Status:503",
            "Stall",
            "Drop",
            "DropMidResponse",
            "Malformed",
            "Oversized",
            "ok",
            "ok"
        ]
    );
}

#[tokio::test]
async fn faults_aim_at_a_sku_or_star_and_at_one_operation() {
    let emulator = emulator();
    let client = client(&emulator);
    // Aimed at ExtendLicenseConsumption: checkouts pass it over.
    emulator.push_fault_for(
        SKU,
        Operation::ExtendLicenseConsumption,
        Fault::error("RateLimitExceededException"),
        1,
    );
    emulator.push_fault("other-sku", Fault::Drop, 1);
    let granted = premium(&client, "a-1").await.unwrap();
    assert_eq!(
        extend(&client, &granted.token).await.unwrap_err(),
        "429:RateLimitExceededException"
    );
    extend(&client, &granted.token).await.unwrap();
    // `*` catches calls whose SKU has no fault of its own, and GetAccessToken (no SKU).
    emulator.push_fault_for(
        "*",
        Operation::GetAccessToken,
        Fault::error("ServerInternalException"),
        1,
    );
    let exchange = client.get_access_token().token("anything").send().await;
    assert_eq!(
        error_name(&exchange.unwrap_err()),
        "500:ServerInternalException"
    );
    emulator.push_fault("*", Fault::error("ResourceNotFoundException"), 1);
    assert_eq!(
        premium(&client, "a-2").await.unwrap_err(),
        "400:ResourceNotFoundException"
    );
    let (_, queued, _) = admin(&emulator, "GET", "/_emulator/faults", "");
    assert_eq!(
        queued[0]["target"], "other-sku",
        "the other SKU's fault is untouched"
    );
}

#[tokio::test]
async fn faults_come_after_the_signature_check() {
    let emulator = emulator();
    emulator.push_fault(SKU, Fault::error("ServerInternalException"), 1);
    let bad = aws_sdk_licensemanager::config::Credentials::new("AKIAUNKNOWN", "x", None, None, "t");
    let stranger = client_with(&emulator, bad);
    assert_eq!(
        premium(&stranger, "s-1").await.unwrap_err(),
        "403:UnrecognizedClientException"
    );
    assert_eq!(
        premium(&client(&emulator), "s-2").await.unwrap_err(),
        "500:ServerInternalException"
    );
}
