//! The whole RegisterUsage answer path on an arbitrary HTTP response: the
//! SDK's deserialiser, the library's error classification and token
//! verification, all through `Check::run` with an in-process HTTP client.
//!
//! Input: byte 0 picks the status, byte 1 the `x-amzn-errortype` header (or
//! none), the rest is the body. Any later attempt gets a fatal 400, so a
//! transient answer costs one retry, not a deadline.

#![no_main]

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_types::body::SdkBody;
use entitled::{Backoff, Check, CheckError, KeySet, PublicKey};
use libfuzzer_sys::fuzz_target;

const STATUSES: &[u16] = &[
    200, 200, 200, 200, 400, 400, 403, 429, 500, 502, 503, 504, 301, 204,
];
const ERROR_TYPES: &[&str] = &[
    "CustomerNotEntitledException",
    "ThrottlingException",
    "InvalidProductCodeException",
    "InvalidPublicKeyVersionException",
    "InvalidRegionException",
    "PlatformNotSupportedException",
    "DisabledApiException",
    "InternalServiceErrorException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "com.amazonaws.marketplacemetering#CustomerNotEntitledException:http://x",
];

/// The response for the next call; `None` once it has been served.
static NEXT: Mutex<Option<(u16, Option<&'static str>, Vec<u8>)>> = Mutex::new(None);

#[derive(Debug)]
struct Replay;

impl HttpConnector for Replay {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let next = NEXT.lock().unwrap().take();
        let (status, error_type, body) =
            next.unwrap_or((400, Some("InvalidProductCodeException"), b"{}".to_vec()));
        let mut response = HttpResponse::new(
            status.try_into().expect("valid status"),
            SdkBody::from(body),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.1");
        if let Some(error_type) = error_type {
            response
                .headers_mut()
                .insert("x-amzn-errortype", error_type);
        }
        HttpConnectorFuture::ready(Ok(response))
    }
}

struct World {
    runtime: tokio::runtime::Runtime,
    check: Check,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let sdk: SdkConfig = runtime.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url("http://metering.invalid")
                .credentials_provider(Credentials::new("AKIDFUZZ", "fuzz", None, None, "fuzz"))
                .http_client(http_client_fn(|_, _| SharedHttpConnector::new(Replay)))
                .load(),
        );
        let pem =
            include_bytes!("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
        let keys = KeySet::new()
            .with(1, PublicKey::from_pem(pem).unwrap())
            .unwrap();
        let check = Check::builder()
            .product_code("prod-fuzz-1234")
            .keys(keys)
            .sdk_config(sdk)
            .deadline(Duration::from_secs(5))
            .attempt_timeout(Duration::from_secs(5))
            .backoff(Backoff::new(Duration::ZERO, Duration::ZERO))
            .build()
            .unwrap();
        World { runtime, check }
    })
}

fuzz_target!(|data: &[u8]| {
    let world = world();
    let (status, error_type, body) = match data {
        [s, e, body @ ..] => (
            STATUSES[usize::from(*s) % STATUSES.len()],
            ERROR_TYPES
                .get(usize::from(*e) % (ERROR_TYPES.len() + 4))
                .copied(),
            body.to_vec(),
        ),
        _ => (200, None, data.to_vec()),
    };
    *NEXT.lock().unwrap() = Some((status, error_type, body));
    let result = world.runtime.block_on(world.check.run());
    // The check sent a fresh random nonce, so no replayed answer can verify.
    match result {
        Ok(entitlement) => panic!("a replayed answer was accepted: {entitlement:?}"),
        Err(CheckError::Config(e)) => panic!("configuration error mid-run: {e}"),
        Err(_) => {}
    }
});
