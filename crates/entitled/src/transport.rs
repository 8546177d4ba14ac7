//! The HTTP client: rustls with ring, and a trust store that still works in a
//! `FROM scratch` image with no CA bundle.
//!
//! The trust store is built by us, not by rustls-native-certs: that crate
//! reads the system bundle *and* every file of the certificate directory
//! (about 300 files on Debian, the same certificates again), which was most
//! of the guard's start-up time. We read one source, and keep only the
//! certificates rustls can use as roots, because the SDK's client panics on a
//! custom root it cannot parse.

use std::path::{Path, PathBuf};

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::Builder;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use entitled_verify::bounded::{read_regular_file, BoundedReadError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Amazon Trust Services roots (Amazon Root CA 1-4 and Starfield Services
/// Root CA G2), which anchor every AWS endpoint's certificate. Embedded so the
/// guard reaches AWS from an image with no CA bundle at all.
pub(crate) const AMAZON_TRUST_SERVICES_ROOTS: &str =
    include_str!("amazon-trust-services-roots.pem");

/// Where the platform's CA bundle lives on Linux distributions (the same list
/// openssl-probe uses), first match wins.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
];
/// Used only where no bundle file exists.
const SYSTEM_CERT_DIR: &str = "/etc/ssl/certs";
/// No CA file is this big (Debian's whole bundle is about 220 KiB); a
/// larger one is skipped, which keeps the guard's memory small.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;
/// All system roots together, as PEM: a directory of many files stops here.
const MAX_ROOTS_PEM_BYTES: usize = 2 * 1024 * 1024;

/// Something the check skipped and went on without.
///
/// ```
/// let w = entitled::Warning::CaFileSkipped {
///     path: "/etc/ssl/ca.pem".into(),
///     problem: "a FIFO, not a regular file".into(),
/// };
/// assert!(w.to_string().starts_with("CA file /etc/ssl/ca.pem skipped: a FIFO"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Warning {
    /// A file named by `SSL_CERT_FILE` or found under `SSL_CERT_DIR` (or the
    /// system bundle) is not a regular file within [`MAX_CA_FILE_BYTES`]; it
    /// was not read.
    #[error("CA file {path} skipped: {problem}; SSL_CERT_FILE and SSL_CERT_DIR must name regular PEM files of at most {MAX_CA_FILE_BYTES} bytes")]
    CaFileSkipped {
        /// The file.
        path: String,
        /// Why.
        problem: String,
    },
}

/// Errors building the HTTP client.
#[derive(Debug, thiserror::Error)]
#[error("TLS set-up failed: {0}")]
pub(crate) struct TransportError(String);

/// The HTTPS (and plain HTTP) client used for RegisterUsage and for the
/// credential providers, given the metering endpoint override, if any.
///
/// Trusts the embedded Amazon roots; the system roots (`SSL_CERT_FILE` and
/// `SSL_CERT_DIR` where set, as OpenSSL does, else the distribution's bundle);
/// and `extra_roots_pem`, which must hold at least one usable certificate.
///
/// Parsing the distribution's bundle is most of the guard's start-up work, so
/// it is skipped where the metering endpoint is plain `http://` (a local
/// emulator) and no CA file was named: the calls that remain over TLS, to
/// STS for IRSA, are to AWS endpoints that the embedded roots anchor.
///
/// Blocking (it reads CA files): run it off the async threads. Returns the
/// CA files skipped as warnings.
pub(crate) fn http_client_for_endpoint(
    endpoint_url: Option<&str>,
    extra_roots_pem: Option<&[u8]>,
) -> Result<(SharedHttpClient, Vec<Warning>), TransportError> {
    let mut warnings = Vec::new();
    let client = build(
        system_roots_policy(endpoint_url, ca_files_named()),
        extra_roots_pem,
        &mut warnings,
    )?;
    Ok((client, warnings))
}

/// How many certificates in `pem` rustls accepts as trust anchors.
pub(crate) fn usable_certificates(pem: &[u8]) -> usize {
    RootsPem::default().add(pem)
}

fn system_roots_policy(endpoint_url: Option<&str>, ca_files_named: bool) -> SystemRoots {
    let plain_http = endpoint_url.is_some_and(|url| url.starts_with("http://"));
    if plain_http && !ca_files_named {
        SystemRoots::Skip
    } else {
        SystemRoots::Load
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SystemRoots {
    Load,
    Skip,
}

fn build(
    system: SystemRoots,
    extra_roots_pem: Option<&[u8]>,
    warnings: &mut Vec<Warning>,
) -> Result<SharedHttpClient, TransportError> {
    let mut roots = RootsPem::default();
    roots.add(AMAZON_TRUST_SERVICES_ROOTS.as_bytes());
    if system == SystemRoots::Load {
        for path in system_root_sources() {
            if roots.pem.len() >= MAX_ROOTS_PEM_BYTES {
                break;
            }
            if let Some(bytes) = read_ca_file(&path, warnings) {
                roots.add(&bytes);
            }
        }
    }
    if let Some(pem) = extra_roots_pem {
        if roots.add(pem) == 0 {
            return Err(TransportError(
                "the extra CA holds no usable PEM certificate; pass the CA certificate, not a key"
                    .into(),
            ));
        }
    }
    let context = TlsContext::builder()
        .with_trust_store(
            TrustStore::empty()
                .with_native_roots(false)
                .with_pem_certificate(roots.pem),
        )
        .build()
        .map_err(|e| TransportError(e.to_string()))?;
    Ok(Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https())
}

fn env_set(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn ca_files_named() -> bool {
    env_set("SSL_CERT_FILE").is_some() || env_set("SSL_CERT_DIR").is_some()
}

/// Which files hold the system roots, following OpenSSL's variables.
fn system_root_sources() -> Vec<PathBuf> {
    let (file, dirs) = (env_set("SSL_CERT_FILE"), env_set("SSL_CERT_DIR"));
    if file.is_some() || dirs.is_some() {
        let mut sources: Vec<PathBuf> = file.into_iter().map(PathBuf::from).collect();
        for dir in dirs.iter().flat_map(std::env::split_paths) {
            sources.extend(files_in(&dir));
        }
        return sources;
    }
    match SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
        Some(bundle) => vec![bundle.to_path_buf()],
        None => files_in(Path::new(SYSTEM_CERT_DIR)),
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    // Every entry but directories: a FIFO or device here is skipped with a
    // warning by the bounded read, not silently.
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.is_dir())
        .collect();
    files.sort();
    files
}

/// A missing or unreadable CA file only means fewer roots; the embedded
/// Amazon roots remain. A special or oversized file is not read at all, and
/// is reported: it is a mistake someone will want to know about.
fn read_ca_file(path: &Path, warnings: &mut Vec<Warning>) -> Option<Vec<u8>> {
    match read_regular_file(path, MAX_CA_FILE_BYTES) {
        Ok(bytes) => Some(bytes),
        Err(BoundedReadError::Io(_)) => None,
        Err(problem) => {
            warnings.push(Warning::CaFileSkipped {
                path: path.display().to_string(),
                problem: problem.to_string(),
            });
            None
        }
    }
}

/// Accumulates usable root certificates as PEM, the form the SDK takes.
#[derive(Default)]
struct RootsPem {
    pem: String,
}

impl RootsPem {
    /// Adds every certificate in `pem` that rustls accepts as a trust
    /// anchor; returns how many.
    fn add(&mut self, pem: &[u8]) -> usize {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem).map_while(Result::ok) {
            if rustls::RootCertStore::empty().add(cert.clone()).is_err() {
                continue;
            }
            self.pem
                .push_str(&entitled_verify::pem::encode("CERTIFICATE", cert.as_ref()));
            added += 1;
        }
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_amazon_roots_are_embedded_and_usable() {
        let mut roots = RootsPem::default();
        assert_eq!(roots.add(AMAZON_TRUST_SERVICES_ROOTS.as_bytes()), 5);
        let mut again = RootsPem::default();
        assert_eq!(
            again.add(roots.pem.as_bytes()),
            5,
            "re-encoded PEM parses the same"
        );
    }

    #[test]
    fn system_roots_are_skipped_only_for_plain_http_without_named_ca_files() {
        use SystemRoots::{Load, Skip};
        assert_eq!(
            system_roots_policy(None, false),
            Load,
            "the real AWS endpoint"
        );
        assert_eq!(
            system_roots_policy(Some("https://proxy.example:8443"), false),
            Load
        );
        assert_eq!(
            system_roots_policy(Some("http://127.0.0.1:9000"), false),
            Skip
        );
        assert_eq!(
            system_roots_policy(Some("http://127.0.0.1:9000"), true),
            Load,
            "SSL_CERT_FILE is honoured"
        );
    }

    #[test]
    fn unusable_certificates_are_dropped_not_fatal() {
        let mut roots = RootsPem::default();
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(roots.add(junk), 0);
        assert_eq!(roots.add(b"no pem here"), 0);
        assert!(roots.pem.is_empty());
    }

    #[test]
    fn an_extra_root_that_is_not_a_certificate_is_refused() {
        let key = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(build(SystemRoots::Skip, Some(key), &mut Vec::new()).is_err());
        assert_eq!(usable_certificates(key), 0);
        assert_eq!(
            usable_certificates(AMAZON_TRUST_SERVICES_ROOTS.as_bytes()),
            5
        );
        assert!(build(SystemRoots::Load, None, &mut Vec::new()).is_ok());
    }
}
