//! The whole RegisterUsage answer path on an arbitrary HTTP response: the
//! SDK's deserialiser, the library's error classification and token
//! verification, all through `Check::run` against a canned HTTP server on
//! loopback (real TCP, real SigV4 with static credentials).
//!
//! Input: byte 0 picks the status, byte 1 the `x-amzn-errortype` header (or
//! none), the rest is the body. Any later attempt gets a fatal 400, so a
//! transient answer costs one retry, not a deadline.

#![no_main]

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use entitled::{Backoff, Check, CheckError, KeySet, KeyVersion, PublicKey, StaticCredentials};
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

/// Serves each connection one response from `NEXT`, then closes it.
fn serve(listener: TcpListener) {
    for stream in listener.incoming().flatten() {
        let _ = answer(stream);
    }
}

fn answer(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    reader.read_exact(&mut vec![0; content_length])?;
    let next = NEXT.lock().unwrap().take();
    let (status, error_type, body) =
        next.unwrap_or((400, Some("InvalidProductCodeException"), b"{}".to_vec()));
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(error_type) = error_type {
        head.push_str(&format!("x-amzn-errortype: {error_type}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)
}

struct World {
    runtime: tokio::runtime::Runtime,
    check: Check,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || serve(listener));
        let pem =
            include_bytes!("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
        let keys = KeySet::new().with(KeyVersion::FIRST, PublicKey::from_pem(pem).unwrap());
        let check = Check::builder()
            .product_code("prod-fuzz-1234")
            .keys(keys)
            .endpoint_url(endpoint)
            .region("us-east-1")
            .static_credentials(StaticCredentials {
                access_key_id: "AKIDFUZZ".into(),
                secret_access_key: "fuzz".into(),
                session_token: None,
            })
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
