//! Shared helpers for the emulator's integration tests: fixtures ([`fixtures`]), an SDK client wired to an
//! emulator (ring-only rustls, explicit config, no environment), token decoding and a raw
//! HTTP/1.1 helper for the admin API.
#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use aws_sdk_marketplacemetering::config::retry::RetryConfig;
use aws_sdk_marketplacemetering::config::timeout::TimeoutConfig;
use aws_sdk_marketplacemetering::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_sdk_marketplacemetering::Client;
use aws_smithy_http_client::tls;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use entitled_emulator::Emulator;

pub mod fixtures;
pub mod lm;

#[allow(unused_imports)] // each test binary uses its own share
pub use fixtures::read as fixture;
#[allow(unused_imports)]
pub use fixtures::{ATTACKER_KEY, ATTACKER_PUBLIC, V1_KEY, V1_PUBLIC, V2_KEY, V2_PUBLIC};

/// The ring-only HTTPS-capable client of the SDK, trusting `ca_pem` when given.
pub fn http_client(ca_pem: Option<&str>) -> SharedHttpClient {
    let builder = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(
        tls::rustls_provider::CryptoMode::Ring,
    ));
    match ca_pem {
        Some(pem) => {
            let ctx = tls::TlsContext::builder()
                .with_trust_store(tls::TrustStore::empty().with_pem_certificate(pem.as_bytes()))
                .build()
                .expect("TLS context");
            builder.tls_context(ctx).build_https()
        }
        None => builder.build_https(),
    }
}

/// Static long-term credentials the emulator always accepts.
pub fn default_credentials() -> Credentials {
    Credentials::new(
        entitled_emulator::DEFAULT_ACCESS_KEY_ID,
        entitled_emulator::DEFAULT_SECRET_ACCESS_KEY,
        None,
        None,
        "test",
    )
}

/// A metering client for `emulator`, retries off, short timeouts.
pub fn client_with(emulator: &Emulator, credentials: Credentials, region: &str) -> Client {
    Client::from_conf(client_builder(emulator, credentials, region).build())
}

pub fn client_builder(
    emulator: &Emulator,
    credentials: Credentials,
    region: &str,
) -> aws_sdk_marketplacemetering::config::Builder {
    aws_sdk_marketplacemetering::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(emulator.endpoint_url())
        .credentials_provider(credentials)
        .http_client(http_client(emulator.ca_pem().as_deref()))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(10))
                .build(),
        )
}

pub fn client(emulator: &Emulator) -> Client {
    client_with(emulator, default_credentials(), "us-east-1")
}

/// A JWT split into its JSON header, JSON claims and signature check against `public_pem`.
pub struct Decoded {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
    pub ps256_valid: bool,
}

pub fn decode(jwt: &str, public_pem: &str) -> Decoded {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "compact JWT: {jwt}");
    let json = |s: &str| -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("JSON")
    };
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
    let pkcs1 = pkcs1_from_spki_pem(public_pem);
    let key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PSS_2048_8192_SHA256, pkcs1);
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    Decoded {
        header: json(parts[0]),
        claims: json(parts[1]),
        ps256_valid: key.verify(signing_input.as_bytes(), &sig).is_ok(),
    }
}

/// Extracts the PKCS#1 `RSAPublicKey` from an SPKI PEM (just enough DER for RSA keys).
pub fn pkcs1_from_spki_pem(pem: &str) -> Vec<u8> {
    use base64::engine::general_purpose::STANDARD;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(b64).expect("PEM base64");
    // SEQUENCE { SEQUENCE { OID, NULL }, BIT STRING { 0x00, RSAPublicKey } }
    fn header(der: &[u8], at: usize) -> (usize, usize) {
        let first = der[at + 1];
        if first < 0x80 {
            (at + 2, first as usize)
        } else {
            let n = (first & 0x7f) as usize;
            let len = der[at + 2..at + 2 + n]
                .iter()
                .fold(0usize, |a, b| a << 8 | *b as usize);
            (at + 2 + n, len)
        }
    }
    let (outer, _) = header(&der, 0);
    let (alg, alg_len) = header(&der, outer);
    let bit_string_at = alg + alg_len;
    let (content, len) = header(&der, bit_string_at);
    der[content + 1..content + len].to_vec()
}

/// A raw HTTP/1.1 request (`Connection: close`); returns status, headers and body.
pub fn raw_http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}
