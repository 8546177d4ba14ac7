//! The product's trusted public keys, by key version.
//!
//! AWS Marketplace hands each product its own RSA public key and key version
//! together with the product code. There is no global AWS key, so the seller
//! must ship this key with the guard or the app.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use jsonwebtoken::DecodingKey;

use crate::der;
use crate::key_version::KeyVersion;
use crate::pem;

/// ring's PS256 verifier refuses moduli outside 2048..=8192 bits, so we refuse
/// them at load time with a clearer message.
const MIN_BITS: usize = 2048;
const MAX_BITS: usize = 8192;
/// A 8192-bit key in PEM is under 2 KiB; a larger file is not a key.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Why a public key was refused. Each message names the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read, or is not a regular file of at most
    /// [`MAX_KEY_FILE_BYTES`] bytes (a FIFO, a device, a directory, a socket).
    #[error("public key file {path}: {source}; name the PEM or DER key file AWS Marketplace gave for this product")]
    Read {
        /// The file that was named.
        path: String,
        /// What went wrong.
        source: crate::bounded::BoundedReadError,
    },
    /// The bytes are neither a PEM public key block nor DER.
    #[error("{origin}: not a PEM \"PUBLIC KEY\" block; use the key AWS Marketplace gave for this product")]
    NotPem {
        /// Where the key came from.
        origin: String,
    },
    /// The PEM armour held invalid base64.
    #[error("{origin}: the PEM block is not valid base64; copy the key again, whole")]
    BadBase64 {
        /// Where the key came from.
        origin: String,
    },
    /// The DER structure is not a SubjectPublicKeyInfo or RSAPublicKey.
    #[error(
        "{origin}: not a well-formed public key; use the key AWS Marketplace gave for this product"
    )]
    Malformed {
        /// Where the key came from.
        origin: String,
    },
    /// The file is a certificate, a private key or an EC key: named for what
    /// it is, with the `openssl` command that extracts the public key.
    #[error("{origin}: {kind}")]
    WrongKind {
        /// Where the key came from.
        origin: String,
        /// What the file holds instead.
        kind: crate::WrongKey,
    },
    /// The key is a public key, but not RSA.
    #[error(
        "{origin}: not an RSA key; AWS Marketplace signs RegisterUsage tokens with RSA (PS256)"
    )]
    NotRsa {
        /// Where the key came from.
        origin: String,
    },
    /// The RSA modulus is outside what PS256 verification accepts.
    #[error("{origin}: RSA key of {bits} bits; keys must be 2048 to 8192 bits (AWS Marketplace keys are 3072)")]
    Size {
        /// Where the key came from.
        origin: String,
        /// The modulus size.
        bits: usize,
    },
}

/// One product RSA public key, checked to be usable for PS256.
///
/// ```
/// let pem = std::fs::read("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem").unwrap();
/// let key = entitled_verify::PublicKey::from_pem(&pem).unwrap();
/// assert_eq!(key.bits(), 3072);
/// assert!(entitled_verify::PublicKey::from_pem(b"not a key").is_err());
/// ```
#[derive(Clone)]
pub struct PublicKey {
    bits: usize,
    decoding: DecodingKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits)
            .finish()
    }
}

impl PublicKey {
    /// Parses a PEM `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1) block.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        Self::from_pem_named(pem, "public key")
    }

    /// Parses DER: a SubjectPublicKeyInfo, or a bare PKCS#1 RSAPublicKey.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_der_named(der, "public key")
    }

    /// Reads a key file, PEM or DER, and names the file in any error. The
    /// file must be a regular file of at most [`MAX_KEY_FILE_BYTES`]; a FIFO
    /// or a device is refused before anything is read, so this never blocks.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let (bytes, origin) = read_key_file(path.as_ref())?;
        if bytes.starts_with(b"-----") || bytes.iter().take(64).all(u8::is_ascii) {
            Self::from_pem_named(&bytes, &origin)
        } else {
            Self::from_der_named(&bytes, &origin)
        }
    }

    /// Reads a PEM key file (DER is refused) and names the file in any
    /// error; returns the key and the file's bytes. For a key compiled into
    /// a binary as PEM, as the guard's build script does.
    ///
    /// ```
    /// use entitled_verify::{KeyError, PublicKey, WrongKey};
    /// let dir = "../../tests/fixtures";
    /// let (key, pem) = PublicKey::from_pem_file(format!("{dir}/TEST-ONLY-product-key-v1-rsa3072.public.pem")).unwrap();
    /// assert_eq!((key.bits(), &pem[..26]), (3072, &b"-----BEGIN PUBLIC KEY-----"[..]));
    /// let err = PublicKey::from_pem_file(format!("{dir}/TEST-ONLY-product-key-v1-rsa3072.private.pem")).unwrap_err();
    /// assert!(matches!(err, KeyError::WrongKind { kind: WrongKey::Pkcs8PrivateKey, .. }), "{err}");
    /// ```
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<(Self, Vec<u8>), KeyError> {
        let (bytes, origin) = read_key_file(path.as_ref())?;
        let key = Self::from_pem_named(&bytes, &origin)?;
        Ok((key, bytes))
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    fn from_pem_named(pem: &[u8], origin: &str) -> Result<Self, KeyError> {
        let not_pem = || KeyError::NotPem {
            origin: origin.to_owned(),
        };
        let block = pem::decode_first(pem).map_err(|e| match e {
            pem::PemError::BadBase64 => KeyError::BadBase64 {
                origin: origin.to_owned(),
            },
            _ => not_pem(),
        })?;
        let der = block.der.as_slice();
        match block.label.as_str() {
            "PUBLIC KEY" => Self::from_spki(der, origin),
            "RSA PUBLIC KEY" => Self::from_pkcs1(der, origin),
            label => Err(match crate::WrongKey::from_pem_block(label, der) {
                Some(kind) => KeyError::WrongKind {
                    origin: origin.to_owned(),
                    kind,
                },
                None => not_pem(),
            }),
        }
    }

    fn from_der_named(der: &[u8], origin: &str) -> Result<Self, KeyError> {
        Self::from_spki(der, origin).or_else(|spki_err| match spki_err {
            KeyError::Malformed { .. } => Self::from_pkcs1(der, origin).map_err(|_| spki_err),
            other => Err(other),
        })
    }

    fn from_spki(der_bytes: &[u8], origin: &str) -> Result<Self, KeyError> {
        let malformed = || KeyError::Malformed {
            origin: origin.to_owned(),
        };
        let mut outer = der::Reader::new(der_bytes);
        let spki = outer.expect(der::SEQUENCE).ok_or_else(malformed)?;
        if !outer.is_empty() {
            return Err(malformed());
        }
        let mut spki = der::Reader::new(spki);
        let algorithm = spki.expect(der::SEQUENCE).ok_or_else(malformed)?;
        let bit_string = spki.expect(der::BIT_STRING).ok_or_else(malformed)?;
        let mut algorithm = der::Reader::new(algorithm);
        let oid = algorithm.expect(der::OID).ok_or_else(malformed)?;
        if crate::WrongKey::is_ec_oid(oid) {
            return Err(KeyError::WrongKind {
                origin: origin.to_owned(),
                kind: crate::WrongKey::EcPublicKey,
            });
        }
        if oid != der::RSA_ENCRYPTION_OID {
            return Err(KeyError::NotRsa {
                origin: origin.to_owned(),
            });
        }
        // rsaEncryption parameters must be NULL (RFC 3279); PSS-restricted
        // keys (id-RSASSA-PSS) are a different OID and refused above.
        if algorithm.expect(der::NULL).is_none() || !algorithm.is_empty() {
            return Err(malformed());
        }
        match bit_string.split_first() {
            Some((0, pkcs1)) => Self::from_pkcs1(pkcs1, origin),
            _ => Err(malformed()),
        }
    }

    fn from_pkcs1(der_bytes: &[u8], origin: &str) -> Result<Self, KeyError> {
        let malformed = || KeyError::Malformed {
            origin: origin.to_owned(),
        };
        let mut outer = der::Reader::new(der_bytes);
        let seq = outer.expect(der::SEQUENCE).ok_or_else(malformed)?;
        if !outer.is_empty() {
            return Err(malformed());
        }
        let mut seq = der::Reader::new(seq);
        let n = seq.expect(der::INTEGER).and_then(der::unsigned_integer);
        let e = seq.expect(der::INTEGER).and_then(der::unsigned_integer);
        let (Some(n), Some(e)) = (n, e) else {
            return Err(malformed());
        };
        if !seq.is_empty() || n[0] == 0 {
            return Err(malformed());
        }
        let bits = n.len() * 8 - n[0].leading_zeros() as usize;
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(KeyError::Size {
                origin: origin.to_owned(),
                bits,
            });
        }
        Ok(Self {
            bits,
            decoding: DecodingKey::from_rsa_raw_components(n, e),
        })
    }
}

/// Reads a key file, bounded, and the origin its errors name.
fn read_key_file(path: &Path) -> Result<(Vec<u8>, String), KeyError> {
    let bytes = crate::bounded::read_regular_file(path, MAX_KEY_FILE_BYTES).map_err(|source| {
        KeyError::Read {
            path: path.display().to_string(),
            source,
        }
    })?;
    Ok((bytes, format!("public key file {}", path.display())))
}

/// The product's trusted keys, by key version.
///
/// ```
/// use entitled_verify::{KeySet, KeyVersion, PublicKey};
/// let key = PublicKey::from_file("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem").unwrap();
/// let keys = KeySet::new().with(KeyVersion::FIRST, key);
/// assert!(keys.get(KeyVersion::FIRST).is_some());
/// assert!(keys.get("2".parse().unwrap()).is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: BTreeMap<KeyVersion, PublicKey>,
}

impl KeySet {
    /// An empty key set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the key for `version`.
    pub fn with(mut self, version: KeyVersion, key: PublicKey) -> Self {
        self.keys.insert(version, key);
        self
    }

    /// The key for `version`, if trusted.
    pub fn get(&self, version: KeyVersion) -> Option<&PublicKey> {
        self.keys.get(&version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(name)
    }

    #[test]
    fn accepts_spki_pem_pkcs1_pem_and_der() {
        for name in [
            "TEST-ONLY-product-key-v1-rsa3072.public.pem",
            "TEST-ONLY-product-key-v1-rsa3072.pkcs1-public.pem",
            "TEST-ONLY-product-key-v1-rsa3072.public.der",
        ] {
            let key = PublicKey::from_file(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(key.bits(), 3072, "{name}");
        }
        let small =
            PublicKey::from_file(fixture("TEST-ONLY-product-key-rsa2048.public.pem")).unwrap();
        assert_eq!(small.bits(), 2048);
    }

    #[test]
    fn refuses_weak_non_rsa_private_and_garbage_keys() {
        type Case = (&'static str, fn(&KeyError) -> bool);
        let cases: &[Case] = &[
            ("TEST-ONLY-weak-key-rsa1024.public.pem", |e| {
                matches!(e, KeyError::Size { bits: 1024, .. })
            }),
            ("TEST-ONLY-not-rsa-ec-p256.public.pem", |e| {
                matches!(
                    e,
                    KeyError::WrongKind {
                        kind: crate::WrongKey::EcPublicKey,
                        ..
                    }
                )
            }),
            ("TEST-ONLY-not-rsa-ec-p256.private.pem", |e| {
                matches!(
                    e,
                    KeyError::WrongKind {
                        kind: crate::WrongKey::EcPrivateKey,
                        ..
                    }
                )
            }),
            ("TEST-ONLY-product-key-v1-rsa3072.private.pem", |e| {
                matches!(
                    e,
                    KeyError::WrongKind {
                        kind: crate::WrongKey::Pkcs8PrivateKey,
                        ..
                    }
                )
            }),
            ("README.md", |e| matches!(e, KeyError::NotPem { .. })),
            ("does-not-exist.pem", |e| matches!(e, KeyError::Read { .. })),
        ];
        for (name, expected) in cases {
            let err = PublicKey::from_file(fixture(name)).unwrap_err();
            assert!(expected(&err), "{name}: {err:?}");
            assert!(
                err.to_string().contains(name),
                "{name}: message names the file: {err}"
            );
        }
    }

    /// Each wrong file is named for what it is, with the command that gets
    /// the public key out of it; private keys carry the warning.
    #[test]
    fn wrong_key_files_are_named_with_their_openssl_fix() {
        let private =
            std::fs::read(fixture("TEST-ONLY-product-key-v1-rsa3072.private.pem")).unwrap();
        let pkcs8_der = crate::pem::decode_first(&private).unwrap().der;
        // PKCS#8 wraps the PKCS#1 RSAPrivateKey in an OCTET STRING: its last field.
        let mut info = crate::der::Reader::new(&pkcs8_der);
        let mut info = crate::der::Reader::new(info.expect(crate::der::SEQUENCE).unwrap());
        info.expect(crate::der::INTEGER).unwrap();
        info.expect(crate::der::SEQUENCE).unwrap();
        let pkcs1_der = info.expect(0x04).unwrap();
        let pkcs1 = crate::pem::encode("RSA PRIVATE KEY", pkcs1_der);
        let cert = crate::pem::encode("CERTIFICATE", &[0x30, 0x00]);
        let ec_private = crate::pem::encode("EC PRIVATE KEY", &[0x30, 0x00]);
        let ec_public = std::fs::read(fixture("TEST-ONLY-not-rsa-ec-p256.public.pem")).unwrap();
        let cases: [(&[u8], &str, bool); 5] = [
            (&private, "a PKCS#8 private key", true),
            (pkcs1.as_bytes(), "a PKCS#1 RSA private key", true),
            (cert.as_bytes(), "a certificate", false),
            (ec_private.as_bytes(), "an EC private key", true),
            (&ec_public, "an EC public key", false),
        ];
        let commands = [
            "`openssl pkey -in key.pem -pubout`",
            "`openssl rsa -in key.pem -pubout`",
            "`openssl x509 -pubkey -noout -in cert.pem`",
        ];
        for (i, (pem, kind, private)) in cases.into_iter().enumerate() {
            let text = PublicKey::from_pem(pem).unwrap_err().to_string();
            assert!(text.starts_with(&format!("public key: {kind}")), "{text}");
            assert_eq!(
                text.contains("never ship a private key in an image"),
                private,
                "{text}"
            );
            if let Some(command) = commands.get(i) {
                assert!(text.contains(command), "{text}");
            }
        }
    }

    #[test]
    fn refuses_corrupt_pem_without_panicking() {
        let good = std::fs::read_to_string(fixture("TEST-ONLY-product-key-v1-rsa3072.public.pem"))
            .unwrap();
        let der = std::fs::read(fixture("TEST-ONLY-product-key-v1-rsa3072.public.der")).unwrap();
        for len in 0..der.len() {
            assert!(
                PublicKey::from_der(&der[..len]).is_err(),
                "truncated to {len} bytes"
            );
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(PublicKey::from_der(&trailing).is_err(), "trailing bytes");
        let bad_b64 = good.replacen('M', "!", 2);
        assert!(matches!(
            PublicKey::from_pem(bad_b64.as_bytes()),
            Err(KeyError::BadBase64 { .. })
        ));
        for len in 0..64 {
            assert!(PublicKey::from_der(&vec![0x30; len]).is_err());
        }
    }

    #[test]
    fn a_key_path_that_is_not_a_small_regular_file_is_refused_before_any_read() {
        use crate::bounded::{BoundedReadError, FileKind};
        let dir = std::env::temp_dir().join(format!("keys-special-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("key.fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let big = dir.join("big.pem");
        std::fs::write(&big, vec![b'A'; MAX_KEY_FILE_BYTES as usize + 1]).unwrap();
        type Expected = fn(&BoundedReadError) -> bool;
        let cases: [(&Path, Expected); 4] = [
            (&fifo, |e| {
                matches!(e, BoundedReadError::NotRegular(FileKind::Fifo))
            }),
            (Path::new("/dev/zero"), |e| {
                matches!(e, BoundedReadError::NotRegular(FileKind::CharDevice))
            }),
            (&dir, |e| {
                matches!(e, BoundedReadError::NotRegular(FileKind::Directory))
            }),
            (&big, |e| matches!(e, BoundedReadError::TooLarge { .. })),
        ];
        for (path, expected) in cases {
            match PublicKey::from_file(path) {
                Err(KeyError::Read { source, .. }) => {
                    assert!(expected(&source), "{path:?}: {source}")
                }
                other => panic!("{path:?}: {other:?}"),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
