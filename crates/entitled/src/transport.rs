//! The HTTP client: rustls with ring, and a trust store that still works in a
//! `FROM scratch` image with no CA bundle.

use std::path::Path;

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::Builder;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Amazon Trust Services roots (Amazon Root CA 1-4 and Starfield Services
/// Root CA G2), which anchor every AWS endpoint's certificate. Embedded so the
/// guard reaches AWS from an image with no CA bundle at all.
pub const AMAZON_TRUST_SERVICES_ROOTS: &str = include_str!("amazon-trust-services-roots.pem");

/// Where the platform's CA bundles live on Linux (openssl-probe's list).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
];

/// Errors building the HTTP client.
#[derive(Debug, thiserror::Error)]
#[error("TLS set-up failed: {0}; check SSL_CERT_FILE and any extra CA given")]
pub struct TransportError(String);

/// Builds the HTTPS (and plain HTTP) client used for RegisterUsage and for the
/// credential providers.
///
/// Trusts the system roots where there are any (they honour `SSL_CERT_FILE`
/// and `SSL_CERT_DIR`), the embedded Amazon roots, and `extra_roots_pem`.
///
/// ```
/// let client = entitled::http_client(None).unwrap();
/// # let _ = client;
/// ```
pub fn http_client(extra_roots_pem: Option<&[u8]>) -> Result<SharedHttpClient, TransportError> {
    let mut store = TrustStore::empty()
        .with_native_roots(system_roots_present())
        .with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS.as_bytes());
    if let Some(pem) = extra_roots_pem {
        if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
            return Err(TransportError(
                "the extra CA is not a PEM certificate".into(),
            ));
        }
        store = store.with_pem_certificate(pem);
    }
    let context = TlsContext::builder()
        .with_trust_store(store)
        .build()
        .map_err(|e| TransportError(e.to_string()))?;
    Ok(Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https())
}

/// The smithy client asserts (in debug builds) that enabled native roots
/// yield at least one certificate, so enable them only where some exist.
fn system_roots_present() -> bool {
    let env_set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    env_set("SSL_CERT_FILE")
        || env_set("SSL_CERT_DIR")
        || SYSTEM_BUNDLES.iter().any(|p| Path::new(p).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_amazon_roots_are_embedded() {
        assert_eq!(
            AMAZON_TRUST_SERVICES_ROOTS
                .matches("-----BEGIN CERTIFICATE-----")
                .count(),
            5
        );
        assert_eq!(
            AMAZON_TRUST_SERVICES_ROOTS
                .matches("-----END CERTIFICATE-----")
                .count(),
            5
        );
    }

    #[test]
    fn an_extra_root_that_is_not_a_certificate_is_refused() {
        assert!(http_client(Some(
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        ))
        .is_err());
        assert!(http_client(None).is_ok());
    }
}
