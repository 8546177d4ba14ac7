//! RSA signing keys and compact JWTs as AWS Marketplace's RegisterUsage returns them.
//!
//! The emulator signs with ring only: `RSA_PSS_SHA256` (RSASSA-PSS, SHA-256, MGF1-SHA-256,
//! 32-byte salt) for PS256, `RSA_PSS_SHA384` for License Manager's PS384 signed tokens, and
//! `RSA_PKCS1_SHA256` for the deliberately wrong [`Scheme::Rs256Pkcs1`]. Other crates' tests use [`sign_raw`] to forge every kind of bad token.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use entitled_verify::pem::{self, PemError};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RSA_PSS_SHA384};

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
        let der = private_key_der(pem).map_err(|reason| EmulatorError::Key { reason })?;
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
        let spki = spki_from_pkcs1(pair.public().as_ref())
            .map_err(|reason| EmulatorError::Key { reason })?;
        let public_pem = pem::encode("PUBLIC KEY", &spki);
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
            Scheme::Ps384 => &RSA_PSS_SHA384,
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
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt: License Manager's
    /// `SignedToken` (`JWT_PS384`).
    Ps384,
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

/// The DER of the first `-----BEGIN PRIVATE KEY-----` block, or why there is none; a block
/// with another label (`RSA PRIVATE KEY`, `EC PRIVATE KEY`) is named, as it is the usual mistake.
fn private_key_der(text: &str) -> Result<Vec<u8>, String> {
    const LABEL: &str = "PRIVATE KEY";
    pem::decode_labelled(text.as_bytes(), LABEL).map_err(|e| {
        match (e, pem::decode_first(text.as_bytes())) {
            (PemError::NoBlock, Ok(other)) => {
                format!(
                    "expected a PEM \"{LABEL}\" block, found \"{}\"",
                    other.label
                )
            }
            (e, _) => format!("PEM \"{LABEL}\" block: {e}"),
        }
    })
}

/// The X.509 `SubjectPublicKeyInfo` DER of a PKCS#1 `RSAPublicKey`: the form AWS Marketplace
/// hands to sellers. ring exports only PKCS#1; the `rsa` crate, already here for key
/// generation, writes the SPKI wrapper, so the rsaEncryption OID has no copy in this crate.
fn spki_from_pkcs1(pkcs1: &[u8]) -> Result<Vec<u8>, String> {
    use rsa::pkcs1::DecodeRsaPublicKey as _;
    use rsa::pkcs8::EncodePublicKey as _;
    rsa::RsaPublicKey::from_pkcs1_der(pkcs1)
        .and_then(|key| key.to_public_key_der().map_err(Into::into))
        .map(|der| der.into_vec())
        .map_err(|e| format!("re-encoding the public key as SPKI: {e}"))
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
    fn a_pkcs1_private_key_is_refused_naming_its_label() {
        let pkcs8 = fixture(V1_KEY);
        let pkcs1_labelled = pkcs8.replace("PRIVATE KEY", "RSA PRIVATE KEY");
        let Err(EmulatorError::Key { reason }) = SigningKey::from_pkcs8_pem(&pkcs1_labelled) else {
            panic!("accepted a block labelled RSA PRIVATE KEY");
        };
        assert_eq!(
            reason,
            "expected a PEM \"PRIVATE KEY\" block, found \"RSA PRIVATE KEY\""
        );
        let Err(EmulatorError::Key { reason }) = SigningKey::from_pkcs8_pem("no armour") else {
            panic!("accepted text without PEM armour");
        };
        assert!(reason.contains("no complete PEM block"), "{reason}");
        let truncated = &pkcs8[..pkcs8.len() / 2];
        assert!(SigningKey::from_pkcs8_pem(truncated).is_err());
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
