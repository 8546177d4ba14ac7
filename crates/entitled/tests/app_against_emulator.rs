//! Testing an application's check against the emulator, in process: the
//! emulator serves HTTPS on loopback with a CA and a product key it generates,
//! and the check is pointed at it with builder methods alone (no aws-config).
//! The crate README prints this file whole.

use entitled::{Check, CheckBuilder, KeySet, KeyVersion, PublicKey, StaticCredentials};
use entitled_emulator::{
    Config, Emulator, Product, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY,
};

const PRODUCT_CODE: &str = "prod-abc123";

/// The application's check, aimed at `emulator` instead of AWS.
fn check_against(emulator: &Emulator) -> CheckBuilder {
    let public_pem = emulator.public_key_pem(PRODUCT_CODE, 1).unwrap();
    let key = PublicKey::from_pem(public_pem.as_bytes()).unwrap();
    Check::builder()
        .product_code(PRODUCT_CODE)
        .keys(KeySet::new().with(KeyVersion::FIRST, key))
        .endpoint_url(emulator.endpoint_url()) // instead of the Region's endpoint
        .region("us-east-1") // instead of the Region chain
        .static_credentials(StaticCredentials {
            access_key_id: DEFAULT_ACCESS_KEY_ID.into(), // the emulator's own test keys
            secret_access_key: DEFAULT_SECRET_ACCESS_KEY.into(),
            session_token: None,
        })
        .extra_root_certificates(emulator.ca_pem().unwrap()) // its CA: it serves HTTPS
}

fn emulator_config() -> Config {
    Config::new()
        .tls(true)
        .region("us-east-1")
        .product(Product::new(PRODUCT_CODE).generated_key(1))
}

#[tokio::test]
async fn an_entitled_customer_passes() {
    let emulator = Emulator::start(emulator_config()).await.unwrap();
    let entitlement = check_against(&emulator).run().await.unwrap();
    assert_eq!(entitlement.product_code(), PRODUCT_CODE);
    assert_eq!(emulator.calls().len(), 1, "one RegisterUsage call");
}

#[tokio::test]
async fn a_customer_who_is_not_entitled_exits_77() {
    let emulator = Emulator::start(emulator_config().deny(PRODUCT_CODE))
        .await
        .unwrap();
    let err = check_against(&emulator).run().await.unwrap_err();
    assert_eq!(err.exit_code(), 77, "{err}");
}
