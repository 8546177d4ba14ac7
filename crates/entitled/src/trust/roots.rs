//! A set of trust anchors, each certificate kept once: as the rustls store the
//! HTTP client trusts, and as PEM, which bounds their size.

use std::collections::HashSet;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Amazon Trust Services roots (Amazon Root CA 1-4 and Starfield Services
/// Root CA G2), which anchor every AWS endpoint's certificate. Embedded so the
/// guard reaches AWS from an image with no CA bundle at all.
pub(crate) const AMAZON_TRUST_SERVICES_ROOTS: &str =
    include_str!("amazon-trust-services-roots.pem");

/// All roots together, as PEM: a directory of many files stops here.
pub(crate) const MAX_ROOTS_PEM_BYTES: usize = 2 * 1024 * 1024;

/// Usable root certificates, de-duplicated by their DER bytes.
///
/// Only certificates rustls accepts as trust anchors are kept. Checking one is
/// the costly step (it is the store's own `add`), so a certificate seen before
/// (the same root in a bundle, its hash link and a copy) is not checked again.
#[derive(Clone)]
pub(crate) struct Roots {
    seen: HashSet<Vec<u8>>,
    /// The usable certificates, as the TLS client trusts them.
    store: rustls::RootCertStore,
    pem: String,
    /// Certificates checked as trust anchors (usable or not).
    pub parsed: usize,
    /// Certificates skipped because the same DER was already seen.
    pub duplicates: usize,
}

impl Default for Roots {
    fn default() -> Self {
        Roots {
            seen: HashSet::new(),
            store: rustls::RootCertStore::empty(),
            pem: String::new(),
            parsed: 0,
            duplicates: 0,
        }
    }
}

impl Roots {
    /// The embedded Amazon roots alone.
    pub fn amazon() -> Self {
        let mut roots = Self::default();
        roots.add_pem(AMAZON_TRUST_SERVICES_ROOTS.as_bytes());
        roots
    }

    /// Adds every new certificate in `pem` that rustls accepts as a trust
    /// anchor; returns how many were added.
    pub fn add_pem(&mut self, pem: &[u8]) -> usize {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem).map_while(Result::ok) {
            if self.seen.contains(cert.as_ref()) {
                self.duplicates += 1;
                continue;
            }
            self.seen.insert(cert.as_ref().to_vec());
            self.parsed += 1;
            if self.store.add(cert.clone()).is_err() {
                continue;
            }
            self.pem
                .push_str(&entitled_verify::pem::encode("CERTIFICATE", cert.as_ref()));
            added += 1;
        }
        added
    }

    /// Adds the usable certificates of `other` not already here.
    pub fn extend(&mut self, other: &Roots) {
        self.add_pem(other.pem.as_bytes());
    }

    /// The usable certificates, for a TLS client configuration.
    pub fn store(&self) -> &rustls::RootCertStore {
        &self.store
    }

    /// The usable certificates as PEM, for tests that compare sets of roots.
    #[cfg(test)]
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// True once the PEM reaches [`MAX_ROOTS_PEM_BYTES`].
    pub fn full(&self) -> bool {
        self.pem.len() >= MAX_ROOTS_PEM_BYTES
    }
}

/// How many certificates in `pem` rustls accepts as trust anchors.
pub(crate) fn usable_certificates(pem: &[u8]) -> usize {
    Roots::default().add_pem(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_amazon_roots_are_embedded_and_usable() {
        let roots = Roots::amazon();
        assert_eq!(roots.parsed, 5);
        assert_eq!(
            usable_certificates(roots.pem().as_bytes()),
            5,
            "re-encoded PEM parses the same"
        );
    }

    #[test]
    fn a_certificate_seen_before_is_not_checked_again() {
        let mut roots = Roots::amazon();
        assert_eq!(roots.add_pem(AMAZON_TRUST_SERVICES_ROOTS.as_bytes()), 0);
        assert_eq!((roots.parsed, roots.duplicates), (5, 5));
        let mut more = Roots::default();
        more.extend(&roots);
        assert_eq!(more.pem(), roots.pem());
    }

    #[test]
    fn unusable_certificates_are_dropped_not_fatal() {
        let mut roots = Roots::default();
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(roots.add_pem(junk), 0);
        assert_eq!(roots.add_pem(b"no pem here"), 0);
        assert!(roots.pem().is_empty());
        let key = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert_eq!(usable_certificates(key), 0);
    }
}
