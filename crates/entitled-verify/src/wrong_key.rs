//! What a key file holds when it is not the product's RSA public key, and the
//! `openssl` command that gets the public key out of it.
//!
//! The one place that names these mistakes: the guard at run time and its
//! build script at build time both see them through [`KeyError::WrongKind`],
//! so the two say the same thing.
//!
//! [`KeyError::WrongKind`]: crate::KeyError::WrongKind

use std::fmt;

use crate::der;

/// DER content bytes of id-ecPublicKey, 1.2.840.10045.2.1.
const EC_PUBLIC_KEY_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// A file that is a key or certificate, but not an RSA public key.
///
/// ```
/// use entitled_verify::WrongKey;
/// let kind = WrongKey::from_pem_label("RSA PRIVATE KEY").unwrap();
/// assert_eq!(kind, WrongKey::Pkcs1PrivateKey);
/// assert!(kind.to_string().contains("openssl rsa -in key.pem -pubout"));
/// assert!(kind.to_string().contains("never ship a private key"));
/// assert_eq!(WrongKey::from_pem_label("PUBLIC KEY"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WrongKey {
    /// An X.509 certificate (`CERTIFICATE`), which holds a public key.
    Certificate,
    /// A PKCS#8 private key (`PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY`).
    Pkcs8PrivateKey,
    /// A PKCS#1 RSA private key (`RSA PRIVATE KEY`).
    Pkcs1PrivateKey,
    /// An EC private key (`EC PRIVATE KEY`, or PKCS#8 holding one).
    EcPrivateKey,
    /// An EC public key: a public key, but AWS Marketplace signs with RSA.
    EcPublicKey,
}

impl WrongKey {
    /// What a PEM block's label says the file is, when that is not a public
    /// key. `None` for `PUBLIC KEY`, `RSA PUBLIC KEY` and unknown labels.
    pub fn from_pem_label(label: &str) -> Option<Self> {
        match label {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => Some(Self::Certificate),
            "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => Some(Self::Pkcs8PrivateKey),
            "RSA PRIVATE KEY" => Some(Self::Pkcs1PrivateKey),
            "EC PRIVATE KEY" => Some(Self::EcPrivateKey),
            _ => None,
        }
    }

    /// Like [`from_pem_label`](Self::from_pem_label), and a PKCS#8 private
    /// key whose algorithm is EC is named as an EC key.
    pub(crate) fn from_pem_block(label: &str, der_bytes: &[u8]) -> Option<Self> {
        match Self::from_pem_label(label)? {
            Self::Pkcs8PrivateKey if pkcs8_algorithm(der_bytes) == Some(EC_PUBLIC_KEY_OID) => {
                Some(Self::EcPrivateKey)
            }
            kind => Some(kind),
        }
    }

    /// Whether an SPKI algorithm OID is EC's.
    pub(crate) fn is_ec_oid(oid: &[u8]) -> bool {
        oid == EC_PUBLIC_KEY_OID
    }

    #[cfg(test)]
    fn is_private(self) -> bool {
        matches!(
            self,
            Self::Pkcs8PrivateKey | Self::Pkcs1PrivateKey | Self::EcPrivateKey
        )
    }
}

/// The algorithm OID of a PKCS#8 PrivateKeyInfo (RFC 5208), if it parses.
fn pkcs8_algorithm(der_bytes: &[u8]) -> Option<&[u8]> {
    let info = der::Reader::new(der_bytes).expect(der::SEQUENCE)?;
    let mut info = der::Reader::new(info);
    info.expect(der::INTEGER)?;
    let algorithm = info.expect(der::SEQUENCE)?;
    der::Reader::new(algorithm).expect(der::OID)
}

const NEVER_SHIP: &str = "never ship a private key in an image";
const USE_AWS_KEY: &str = "use the RSA public key AWS Marketplace gave for this product";

impl fmt::Display for WrongKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate => write!(
                f,
                "a certificate, not a public key; extract its public key with `openssl x509 -pubkey -noout -in cert.pem`, or {USE_AWS_KEY}"
            ),
            Self::Pkcs8PrivateKey => write!(
                f,
                "a PKCS#8 private key, not a public key ({NEVER_SHIP}); extract the public key with `openssl pkey -in key.pem -pubout`, or {USE_AWS_KEY}"
            ),
            Self::Pkcs1PrivateKey => write!(
                f,
                "a PKCS#1 RSA private key, not a public key ({NEVER_SHIP}); extract the public key with `openssl rsa -in key.pem -pubout`, or {USE_AWS_KEY}"
            ),
            Self::EcPrivateKey => write!(
                f,
                "an EC private key ({NEVER_SHIP}); AWS Marketplace signs RegisterUsage tokens with RSA (PS256), so {USE_AWS_KEY}"
            ),
            Self::EcPublicKey => write!(
                f,
                "an EC public key; AWS Marketplace signs RegisterUsage tokens with RSA (PS256), so {USE_AWS_KEY}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_private_kind_warns_and_every_kind_names_its_fix() {
        let kinds = [
            WrongKey::Certificate,
            WrongKey::Pkcs8PrivateKey,
            WrongKey::Pkcs1PrivateKey,
            WrongKey::EcPrivateKey,
            WrongKey::EcPublicKey,
        ];
        for kind in kinds {
            let text = kind.to_string();
            assert_eq!(text.contains(NEVER_SHIP), kind.is_private(), "{text}");
            assert!(text.contains(USE_AWS_KEY), "{text}");
        }
    }
}
