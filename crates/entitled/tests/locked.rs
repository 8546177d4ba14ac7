//! `CheckBuilder::locked` in process: an endpoint override in the
//! environment is refused before any call. One test in its own binary,
//! because it sets a process-wide variable.

use std::time::Duration;

use entitled::{Check, CheckError, RejectReason, StaticCredentials};
use entitled_emulator::{Config, Emulator, Product};

mod fixtures;
use fixtures::{keys, private_pem, KEY_V1, PRODUCT};

#[tokio::test]
async fn a_locked_check_refuses_an_endpoint_override_from_the_environment() {
    let emu = Emulator::start(
        Config::new()
            .region("us-east-1")
            .static_credentials("AKIDLOCKEDTEST", "locked-test-secret")
            .product(
                Product::new(PRODUCT)
                    .key_pem(1, &private_pem(KEY_V1))
                    .unwrap(),
            ),
    )
    .await
    .unwrap();
    // The only test in this binary: no other thread reads the environment.
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_ENDPOINT_URL_MARKETPLACE_METERING", emu.endpoint_url());

    let err = Check::builder()
        .product_code(PRODUCT)
        .keys(keys().clone())
        .region("us-east-1")
        .static_credentials(StaticCredentials {
            access_key_id: "AKIDLOCKEDTEST".into(),
            secret_access_key: "locked-test-secret".into(),
            session_token: None,
        })
        .deadline(Duration::from_secs(20))
        .locked()
        .run()
        .await
        .unwrap_err();

    assert_eq!(err.exit_code(), 78, "{err}");
    assert!(
        matches!(
            &err,
            CheckError::Rejected {
                reason: RejectReason::Locked,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("AWS_ENDPOINT_URL_MARKETPLACE_METERING set"),
        "{err}"
    );
    assert!(emu.calls().is_empty(), "no call: {:?}", emu.calls());
}
