//! `entitled::contract` outside AWS, in process: the buyer's licence token file and role from
//! the environment (as the secret `aws-marketplace-license-config` provides them) become
//! License Manager credentials through the emulator's `GetAccessToken` and STS.
//!
//! The credential variables are the process's own, so this binary holds one test: nothing
//! else runs in its process while the environment is set.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use entitled::contract::Contract;
use entitled::{CheckError, CredentialSource, RejectReason};
use entitled_emulator::{Config, Emulator, EntitlementSpec, LicenseSpec, Role};

const SKU: &str = "prod-anywhere-lib";
const BUYER: &str = "555555555555";
const ROLE: &str = "arn:aws:iam::555555555555:role/license-consumer";

/// `POST /_emulator/license-tokens`: a licence token for `arn`, off the runtime's thread.
async fn licence_token(emu: &Emulator, arn: &str) -> String {
    let (addr, body) = (
        emu.local_addr(),
        serde_json::json!({"license_arn": arn, "role_arn": ROLE}).to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        let request = format!(
            "POST /_emulator/license-tokens HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(out.split_once("\r\n\r\n").unwrap().1).unwrap();
        json["token"].as_str().unwrap().to_owned()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_token_file_checks_out_in_process_and_a_missing_one_is_refused() {
    let mut spec = LicenseSpec::new(SKU, vec![EntitlementSpec::tier("Premium")]);
    spec.beneficiary = Some(BUYER.into());
    let config = Config::new()
        .region("us-east-1")
        .role(format!("{ROLE}=license-manager").parse::<Role>().unwrap());
    let emu = Emulator::start(config).await.unwrap();
    // Seeding may generate the issuer's key: blocking, so off the runtime's scheduling.
    let licence_arn = tokio::task::block_in_place(|| emu.add_license(spec)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("license_token");
    std::fs::write(&token_file, licence_token(&emu, &licence_arn).await).unwrap();
    for name in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "ECS_CONTAINER_METADATA_URI_V4",
    ] {
        std::env::remove_var(name);
    }
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/aws-config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/aws-credentials",
    );
    std::env::set_var("AWS_ENDPOINT_URL_STS", emu.endpoint_url());
    std::env::set_var("AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE", &token_file);
    std::env::set_var("AWS_ROLE_ARN", ROLE);

    let contract = || {
        Contract::builder()
            .product_sku(SKU)
            .tier("Premium")
            .endpoint_url(emu.endpoint_url())
            .deadline(Duration::from_secs(10))
            .build()
            .unwrap()
    };
    let license = contract().checkout().await.unwrap();
    assert_eq!(license.license_arn(), licence_arn);
    assert!(license.allows("Premium"));
    license.lease().unwrap().check_in().await.unwrap();
    let checkout = emu
        .calls()
        .into_iter()
        .find(|c| c.operation == "CheckoutLicense")
        .unwrap();
    assert_eq!(
        checkout.account.as_deref(),
        Some(BUYER),
        "signed as the buyer"
    );
    assert_eq!(checkout.role.as_deref(), Some(ROLE));

    std::fs::remove_file(&token_file).unwrap();
    let err = contract().checkout().await.unwrap_err();
    assert_eq!(err.exit_code(), 78, "{err}");
    match &err {
        CheckError::Rejected { reason, .. } => {
            assert_eq!(*reason, RejectReason::LicenseTokenRefused)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.credential_source(),
        Some(CredentialSource::LicenseToken)
    );
    assert!(
        err.to_string().contains("aws-marketplace-license-config"),
        "{err}"
    );
}
