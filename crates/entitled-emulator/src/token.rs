//! RSA signing keys and compact JWTs as AWS Marketplace's RegisterUsage returns them.
//!
//! The emulator signs with ring only: `RSA_PSS_SHA256` (RSASSA-PSS, SHA-256, MGF1-SHA-256,
//! 32-byte salt) for PS256, and `RSA_PKCS1_SHA256` for the deliberately wrong
//! [`Scheme::Rs256Pkcs1`]. Other crates' tests use [`sign_raw`] to forge every kind of bad token.

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256};

use crate::EmulatorError;

/// The JOSE header of every genuine RegisterUsage token.
pub const PS256_HEADER: &str = r#"{"alg":"PS256","typ":"JWT"}"#;

/// An RSA private key usable for signing tokens.
///
/// Cheap to clone (the key is shared).
///
/// # Example
/// ```
/// use entitled_emulator::token::SigningKey;
/// let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"),
///     "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem")).unwrap();
/// let key = SigningKey::from_pkcs8_pem(&pem).unwrap();
/// assert!(key.public_key_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
/// ```
#[derive(Clone)]
pub struct SigningKey {
    inner: Arc<KeyInner>,
}

struct KeyInner {
    pair: RsaKeyPair,
    public_pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("bits", &(self.inner.pair.public().modulus_len() * 8))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) RSA private key.
    ///
    /// # Errors
    /// [`EmulatorError::Key`] when the text is not such a PEM block, or ring refuses the key
    /// (not RSA, or outside 2048..=4096 bits).
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey, EmulatorError> {
        let der = pem_decode(pem, "PRIVATE KEY").map_err(|reason| EmulatorError::Key { reason })?;
        Self::from_pkcs8_der(&der)
    }

    /// Parses a DER PKCS#8 RSA private key.
    ///
    /// # Errors
    /// [`EmulatorError::Key`] when ring refuses the key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<SigningKey, EmulatorError> {
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| EmulatorError::Key {
            reason: format!("ring rejected the PKCS#8 key: {e}"),
        })?;
        let spki = spki_from_pkcs1(pair.public().as_ref());
        let public_pem = pem_encode("PUBLIC KEY", &spki);
        Ok(SigningKey {
            inner: Arc::new(KeyInner { pair, public_pem }),
        })
    }

    /// Generates a fresh RSA-3072 key (slow: about a second or more).
    ///
    /// # Errors
    /// [`EmulatorError::KeyGeneration`] if the `rsa` crate fails.
    pub fn generate_rsa3072() -> Result<SigningKey, EmulatorError> {
        Self::generate_rsa(3072)
    }

    /// Generates a fresh RSA key of `bits` bits.
    pub(crate) fn generate_rsa(bits: usize) -> Result<SigningKey, EmulatorError> {
        use rsa::pkcs8::EncodePrivateKey as _;
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
            .map_err(|e| EmulatorError::KeyGeneration(e.to_string()))?;
        let der = key
            .to_pkcs8_der()
            .map_err(|e| EmulatorError::KeyGeneration(e.to_string()))?;
        Self::from_pkcs8_der(der.as_bytes())
    }

    /// The public half as an SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the form AWS Marketplace
    /// hands to sellers.
    pub fn public_key_pem(&self) -> String {
        self.inner.public_pem.clone()
    }

    /// True when `signature` is this key's RSASSA-PKCS1-v1_5 SHA-256 (RS256) signature of
    /// `message`: how the emulator's STS checks the web identity tokens its OIDC key signed.
    pub(crate) fn verify_rs256(&self, message: &[u8], signature: &[u8]) -> bool {
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            self.inner.pair.public().as_ref(),
        );
        public.verify(message, signature).is_ok()
    }

    fn sign(&self, scheme: Scheme, message: &[u8]) -> Vec<u8> {
        let alg: &'static dyn ring::signature::RsaEncoding = match scheme {
            Scheme::Ps256 => &RSA_PSS_SHA256,
            Scheme::Rs256Pkcs1 => &RSA_PKCS1_SHA256,
        };
        let mut sig = vec![0u8; self.inner.pair.public().modulus_len()];
        // ring only fails here on a wrong-sized buffer or an RNG failure; the buffer is sized
        // from the key, and an RNG failure leaves a zero signature that no verifier accepts.
        let _ = self
            .inner
            .pair
            .sign(alg, &SystemRandom::new(), message, &mut sig);
        sig
    }
}

/// The signature scheme used by [`sign_raw`] (its example shows both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt: what AWS uses.
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RS256): never valid for a PS256 header.
    Rs256Pkcs1,
}

/// Builds a compact JWT from raw header and claims JSON, signed with `scheme`.
///
/// The JSON is used byte for byte, so tests can forge any header or claim layout.
///
/// # Example
/// ```
/// use entitled_emulator::token::{sign_raw, Scheme, SigningKey, PS256_HEADER};
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem")).unwrap();
/// let key = SigningKey::from_pkcs8_pem(&pem).unwrap();
/// let pss = sign_raw(PS256_HEADER, r#"{"productCode":"p"}"#, &key, Scheme::Ps256);
/// let pkcs1 = sign_raw(PS256_HEADER, r#"{"productCode":"p"}"#, &key, Scheme::Rs256Pkcs1);
/// // The same signing input, byte for byte; only the signatures differ.
/// let input = |jwt: &str| jwt.rsplit_once('.').unwrap().0.to_owned();
/// assert_eq!(input(&pss), input(&pkcs1));
/// assert_eq!(input(&pss), "eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJwcm9kdWN0Q29kZSI6InAifQ");
/// assert_ne!(pss, pkcs1);
/// ```
pub fn sign_raw(header_json: &str, claims_json: &str, key: &SigningKey, scheme: Scheme) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_json),
        URL_SAFE_NO_PAD.encode(claims_json)
    );
    let sig = key.sign(scheme, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// Signs `claims` under the header `{"alg":"PS256","typ":"JWT"}` with PS256.
pub fn sign_claims(claims: &serde_json::Value, key: &SigningKey) -> String {
    sign_raw(PS256_HEADER, &claims.to_string(), key, Scheme::Ps256)
}

/// An unsigned `alg: none` token (header, claims, empty signature).
pub(crate) fn unsigned_none(claims_json: &str) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims_json)
    )
}

/// Extracts the base64 body of the first `-----BEGIN {label}-----` block.
fn pem_decode(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = pem.find(&begin) else {
        let found = pem
            .lines()
            .find(|l| l.starts_with("-----BEGIN "))
            .map(|l| format!("found `{}`", l.trim()))
            .unwrap_or_else(|| "no PEM block found".to_owned());
        return Err(format!("expected a PEM \"{label}\" block, {found}"));
    };
    let body = &pem[start + begin.len()..];
    let Some(stop) = body.find(&end) else {
        return Err(format!("PEM \"{label}\" block has no END line"));
    };
    let b64: String = body[..stop].split_whitespace().collect();
    STANDARD
        .decode(b64)
        .map_err(|e| format!("PEM \"{label}\" block is not valid base64: {e}"))
}

/// Formats DER as a PEM block with 64-column lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// DER length octets.
fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    der_len(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

/// Wraps a PKCS#1 `RSAPublicKey` in an X.509 `SubjectPublicKeyInfo`.
fn spki_from_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
    const RSA_ALG_ID: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bit_string = vec![0u8];
    bit_string.extend_from_slice(pkcs1);
    let mut content = RSA_ALG_ID.to_vec();
    content.extend(der_tlv(0x03, &bit_string));
    der_tlv(0x30, &content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, read as fixture, V1_KEY, V1_PUBLIC};

    #[test]
    fn public_pem_matches_fixture() {
        let key = fixtures::signing_key(V1_KEY);
        assert_eq!(key.public_key_pem(), fixture(V1_PUBLIC));
    }

    #[test]
    fn ps256_verifies_with_ring() {
        let key = fixtures::signing_key("TEST-ONLY-product-key-rsa2048.private.pem");
        let jwt = sign_raw(PS256_HEADER, "{}", &key, Scheme::Ps256);
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PSS_2048_8192_SHA256,
            key.inner.pair.public().as_ref(),
        );
        public.verify(input.as_bytes(), &sig).unwrap();
        let rs = sign_raw(PS256_HEADER, "{}", &key, Scheme::Rs256Pkcs1);
        let (input, sig) = rs.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert!(public.verify(input.as_bytes(), &sig).is_err());
    }

    #[test]
    fn refuses_weak_and_non_rsa_keys() {
        assert!(
            SigningKey::from_pkcs8_pem(&fixture("TEST-ONLY-weak-key-rsa1024.private.pem")).is_err()
        );
        assert!(
            SigningKey::from_pkcs8_pem(&fixture("TEST-ONLY-not-rsa-ec-p256.private.pem")).is_err()
        );
    }
}
