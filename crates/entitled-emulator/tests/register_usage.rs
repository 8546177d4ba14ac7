//! RegisterUsage through the real aws-sdk-rust client: genuine tokens, every modelled error,
//! and SigV4 rejections.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_marketplacemetering::config::Credentials;
use aws_sdk_marketplacemetering::error::SdkError;
use aws_sdk_marketplacemetering::operation::register_usage::{
    RegisterUsageError, RegisterUsageOutput,
};
use common::*;
use entitled_emulator::{Config, Emulator, Fault, Product};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn product() -> Product {
    fixtures::product("prod-1")
}

async fn register(
    client: &aws_sdk_marketplacemetering::Client,
    product: &str,
    version: i32,
    nonce: Option<&str>,
) -> Result<
    RegisterUsageOutput,
    SdkError<RegisterUsageError, aws_sdk_marketplacemetering::config::http::HttpResponse>,
> {
    let mut req = client
        .register_usage()
        .product_code(product)
        .public_key_version(version);
    if let Some(n) = nonce {
        req = req.nonce(n);
    }
    req.send().await
}

/// The error code and HTTP status of a failed call.
fn code_and_status<E>(
    err: &SdkError<E, aws_sdk_marketplacemetering::config::http::HttpResponse>,
) -> (String, u16)
where
    E: aws_sdk_marketplacemetering::error::ProvideErrorMetadata + std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(ctx) => (
            ctx.err().code().unwrap_or("<none>").to_owned(),
            ctx.raw().status().as_u16(),
        ),
        other => panic!("expected a service error, got {other:?}"),
    }
}

#[tokio::test]
async fn genuine_token_verifies_and_carries_the_claims() {
    let emulator = Emulator::start(Config::new().product(product()))
        .await
        .unwrap();
    let client = client(&emulator);
    let out = register(&client, "prod-1", 1, Some("nonce-123"))
        .await
        .unwrap();
    let jwt = out.signature().unwrap();
    assert!(out.public_key_rotation_timestamp().is_none());
    let header_b64 = jwt.split('.').next().unwrap();
    use base64::Engine as _;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header_b64)
        .unwrap();
    assert_eq!(header, br#"{"alg":"PS256","typ":"JWT"}"#);
    let public = fixture(V1_PUBLIC);
    assert_eq!(emulator.public_key_pem("prod-1", 1).unwrap(), public);
    let d = decode(jwt, &public);
    assert!(d.ps256_valid);
    assert_eq!(d.claims["productCode"], "prod-1");
    assert_eq!(d.claims["publicKeyVersion"], 1);
    assert!(d.claims["publicKeyVersion"].is_number());
    assert_eq!(d.claims["nonce"], "nonce-123");
    assert!((d.claims["iat"].as_i64().unwrap() - now()).abs() < 60);

    // Without a nonce the claim is absent.
    let out = register(&client, "prod-1", 1, None).await.unwrap();
    let d = decode(out.signature().unwrap(), &public);
    assert!(d.claims.get("nonce").is_none());

    let calls = emulator.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].operation, "RegisterUsage");
    assert_eq!(calls[0].product_code.as_deref(), Some("prod-1"));
    assert_eq!(calls[0].nonce.as_deref(), Some("nonce-123"));
    assert_eq!(calls[0].key_version, Some(1));
    assert_eq!(
        calls[0].caller.as_deref(),
        Some(entitled_emulator::DEFAULT_ACCESS_KEY_ID)
    );
    assert_eq!(calls[0].outcome, "ok");
}

#[tokio::test]
async fn key_versions_and_expiry() {
    let p = product()
        .signing_key(2, fixtures::signing_key(V2_KEY))
        .expired(1, 1_700_000_000);
    let emulator = Emulator::start(Config::new().product(p)).await.unwrap();
    let client = client(&emulator);
    let v1 = register(&client, "prod-1", 1, None).await.unwrap();
    assert_eq!(
        v1.public_key_rotation_timestamp().unwrap().secs(),
        1_700_000_000
    );
    let v2 = register(&client, "prod-1", 2, None).await.unwrap();
    assert!(v2.public_key_rotation_timestamp().is_none());
    let v2_public = fixture(V2_PUBLIC);
    let d = decode(v2.signature().unwrap(), &v2_public);
    assert!(d.ps256_valid);
    assert_eq!(d.claims["publicKeyVersion"], 2);
    let err = register(&client, "prod-1", 3, None).await.unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_invalid_public_key_version_exception());
}

/// Each modelled RegisterUsage error, with the set-up that produces it.
#[tokio::test]
async fn every_modelled_error() {
    let session = |e: &Emulator| {
        let (id, secret, token) = e.session_credentials();
        Credentials::new(id, secret, Some(token), None, "test")
    };
    struct Case {
        name: &'static str,
        config: Config,
        fault: Option<Fault>,
        product: &'static str,
        version: i32,
        region: &'static str,
        check: fn(&RegisterUsageError) -> bool,
        status: u16,
    }
    let base = || Config::new().product(product());
    let cases = vec![
        Case {
            name: "CustomerNotEntitledException",
            config: base().deny("prod-1"),
            fault: None,
            product: "prod-1",
            version: 1,
            region: "us-east-1",
            check: RegisterUsageError::is_customer_not_entitled_exception,
            status: 400,
        },
        Case {
            name: "DisabledApiException",
            config: base(),
            fault: Some(Fault::error("DisabledApiException")),
            product: "prod-1",
            version: 1,
            region: "us-east-1",
            check: RegisterUsageError::is_disabled_api_exception,
            status: 400,
        },
        Case {
            name: "InternalServiceErrorException",
            config: base(),
            fault: Some(Fault::Error {
                code: "InternalServiceErrorException".into(),
                message: Some("boom".into()),
            }),
            product: "prod-1",
            version: 1,
            region: "us-east-1",
            check: RegisterUsageError::is_internal_service_error_exception,
            status: 500,
        },
        Case {
            name: "InvalidProductCodeException",
            config: base().known_products_only(true),
            fault: None,
            product: "not-configured",
            version: 1,
            region: "us-east-1",
            check: RegisterUsageError::is_invalid_product_code_exception,
            status: 400,
        },
        Case {
            name: "InvalidPublicKeyVersionException",
            config: base(),
            fault: None,
            product: "prod-1",
            version: 7,
            region: "us-east-1",
            check: RegisterUsageError::is_invalid_public_key_version_exception,
            status: 400,
        },
        Case {
            name: "InvalidRegionException",
            config: base().region("us-east-1"),
            fault: None,
            product: "prod-1",
            version: 1,
            region: "eu-west-1",
            check: RegisterUsageError::is_invalid_region_exception,
            status: 400,
        },
        Case {
            name: "PlatformNotSupportedException",
            config: base().platform_rule(true),
            fault: None,
            product: "prod-1",
            version: 1,
            region: "us-east-1",
            check: RegisterUsageError::is_platform_not_supported_exception,
            status: 400,
        },
        Case {
            name: "ThrottlingException",
            config: base(),
            fault: Some(Fault::error("ThrottlingException")),
            product: "prod-1",
            version: 1,
            region: "us-east-1",
            check: RegisterUsageError::is_throttling_exception,
            status: 400,
        },
    ];
    for case in cases {
        let emulator = Emulator::start(case.config).await.unwrap();
        if let Some(f) = case.fault {
            emulator.push_fault("prod-1", f, 1);
        }
        let client = client_with(&emulator, default_credentials(), case.region);
        let err = register(&client, case.product, case.version, Some("n"))
            .await
            .unwrap_err();
        let (code, status) = code_and_status(&err);
        assert_eq!(code, case.name, "{}", case.name);
        assert_eq!(status, case.status, "{}", case.name);
        assert!(
            (case.check)(err.as_service_error().unwrap()),
            "{}",
            case.name
        );
        assert_eq!(emulator.calls()[0].outcome, case.name);
        // The fault was used once: the next call (if the set-up allows) succeeds.
        if case.name == "DisabledApiException" {
            register(&client, "prod-1", 1, None).await.unwrap();
        }
        if case.name == "PlatformNotSupportedException" {
            let ok = client_with(&emulator, session(&emulator), "us-east-1");
            register(&ok, "prod-1", 1, None).await.unwrap();
        }
    }
}

#[tokio::test]
async fn throttle_bucket_refuses_beyond_burst() {
    let emulator = Emulator::start(Config::new().product(product()).throttle(1.0))
        .await
        .unwrap();
    let client = client(&emulator);
    register(&client, "prod-1", 1, None).await.unwrap();
    let err = register(&client, "prod-1", 1, None).await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_throttling_exception());
}

#[tokio::test]
async fn unknown_access_key_is_unrecognized() {
    let emulator = Emulator::start(Config::new().product(product()))
        .await
        .unwrap();
    let creds = Credentials::new("AKIAUNKNOWNKEY", "whatever", None, None, "test");
    let err = register(
        &client_with(&emulator, creds, "us-east-1"),
        "prod-1",
        1,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        code_and_status(&err),
        ("UnrecognizedClientException".into(), 403)
    );
    let calls = emulator.calls();
    assert_eq!(calls[0].outcome, "UnrecognizedClientException");
    assert_eq!(calls[0].caller.as_deref(), Some("AKIAUNKNOWNKEY"));
}

#[tokio::test]
async fn wrong_secret_or_session_token_is_rejected() {
    let emulator = Emulator::start(
        Config::new()
            .product(product())
            .static_credentials("AKIDSTATIC", "right-secret")
            .session_credentials("ASIASESSION", "s", "good-token"),
    )
    .await
    .unwrap();
    let wrong_secret = Credentials::new("AKIDSTATIC", "wrong-secret", None, None, "test");
    let err = register(
        &client_with(&emulator, wrong_secret, "us-east-1"),
        "prod-1",
        1,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        code_and_status(&err),
        ("InvalidSignatureException".into(), 403)
    );
    let wrong_token = Credentials::new("ASIASESSION", "s", Some("bad-token".into()), None, "test");
    let err = register(
        &client_with(&emulator, wrong_token, "us-east-1"),
        "prod-1",
        1,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        code_and_status(&err),
        ("UnrecognizedClientException".into(), 403)
    );
    let good = Credentials::new("ASIASESSION", "s", Some("good-token".into()), None, "test");
    register(
        &client_with(&emulator, good, "us-east-1"),
        "prod-1",
        1,
        None,
    )
    .await
    .unwrap();
    let good_static = Credentials::new("AKIDSTATIC", "right-secret", None, None, "test");
    register(
        &client_with(&emulator, good_static, "us-east-1"),
        "prod-1",
        1,
        None,
    )
    .await
    .unwrap();
}

/// Flips one character of the signature after the SDK signed the request.
#[derive(Debug)]
struct TamperSignature;

impl aws_sdk_marketplacemetering::config::Intercept for TamperSignature {
    fn name(&self) -> &'static str {
        "TamperSignature"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_marketplacemetering::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _rc: &aws_sdk_marketplacemetering::config::RuntimeComponents,
        _cfg: &mut aws_sdk_marketplacemetering::config::ConfigBag,
    ) -> Result<(), aws_sdk_marketplacemetering::error::BoxError> {
        let headers = context.request_mut().headers_mut();
        let auth = headers.get("authorization").expect("signed").to_owned();
        let last = auth.chars().last().unwrap();
        let flipped = if last == '0' { '1' } else { '0' };
        let tampered = format!("{}{flipped}", &auth[..auth.len() - 1]);
        headers.insert("authorization", tampered);
        Ok(())
    }
}

#[tokio::test]
async fn tampered_signature_is_rejected() {
    let emulator = Emulator::start(Config::new().product(product()))
        .await
        .unwrap();
    let config = client_builder(&emulator, default_credentials(), "us-east-1")
        .interceptor(TamperSignature)
        .build();
    let client = aws_sdk_marketplacemetering::Client::from_conf(config);
    let err = register(&client, "prod-1", 1, Some("n")).await.unwrap_err();
    assert_eq!(
        code_and_status(&err),
        ("InvalidSignatureException".into(), 403)
    );
    assert_eq!(emulator.calls()[0].outcome, "InvalidSignatureException");
}

#[tokio::test]
async fn ecs_container_credentials_via_aws_config() {
    use aws_types::os_shim_internal::{Env, Fs};
    let emulator = Emulator::start(
        Config::new()
            .product(product())
            .platform_rule(true)
            .container_authorization("Bearer task-token"),
    )
    .await
    .unwrap();
    let load = |token: &'static str| {
        let url = emulator.credentials_url();
        let endpoint = emulator.endpoint_url();
        async move {
            let env = Env::from_slice(&[
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    Box::leak(url.into_boxed_str()),
                ),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ]);
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .env(env)
                .fs(Fs::from_slice(&[]))
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url(endpoint)
                .http_client(http_client(None))
                .retry_config(aws_config::retry::RetryConfig::disabled())
                .load()
                .await;
            aws_sdk_marketplacemetering::Client::new(&sdk)
        }
    };
    let client = load("Bearer task-token").await;
    let out = register(&client, "prod-1", 1, Some("n")).await.unwrap();
    assert!(out.signature().is_some());
    let (akid, _, _) = emulator.session_credentials();
    assert_eq!(emulator.calls()[0].caller.as_deref(), Some(akid.as_str()));

    let wrong = load("Bearer wrong").await;
    let err = register(&wrong, "prod-1", 1, None).await.unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
}

#[tokio::test]
async fn validation_errors_never_yield_a_token() {
    let emulator = Emulator::start(Config::new().product(product()))
        .await
        .unwrap();
    let client = client(&emulator);
    for (code, version, nonce) in [("bad code!", 1, None), ("", 1, None), ("prod-1", 0, None)] {
        let err = register(&client, code, version, nonce).await.unwrap_err();
        assert_eq!(
            code_and_status(&err),
            ("ValidationException".into(), 400),
            "{code:?} {version}"
        );
    }
    let long = "n".repeat(256);
    let err = register(&client, "prod-1", 1, Some(&long))
        .await
        .unwrap_err();
    assert_eq!(code_and_status(&err).0, "ValidationException");
}

#[tokio::test]
async fn unconfigured_products_get_a_lazily_generated_key() {
    let emulator = Emulator::start(Config::new()).await.unwrap();
    // The first use generates the key (RSA-3072, seconds in a debug build on a loaded machine).
    // Make that first use the public-key request, which has no deadline, so the RegisterUsage
    // call below, with its 10 s attempt timeout, only signs.
    let public = emulator.public_key_pem("lazy-product", 1).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(
        emulator.public_key_pem("lazy-product", 1).unwrap(),
        public,
        "generated once"
    );
    let client = client(&emulator);
    let out = register(&client, "lazy-product", 1, None).await.unwrap();
    assert!(
        decode(out.signature().unwrap(), &public).ps256_valid,
        "the token is signed with the product's generated key"
    );
    let err = register(&client, "lazy-product", 2, None)
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_invalid_public_key_version_exception());
}
