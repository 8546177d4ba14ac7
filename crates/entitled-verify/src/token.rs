//! Verification of the RegisterUsage token: a pure function, no network.
//!
//! The token is the only part of the answer that AWS signed, so everything
//! that decides entitlement is read from it and checked here: the algorithm,
//! the signature under the product's key, and the claims that bind it to this
//! product, this key version and the nonce we sent.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::key_version::KeyVersion;
use crate::keys::{KeySet, PublicKey};
use crate::product_code::ProductCode;

/// Far above any real token (about 700 bytes with a 3072-bit key), far below
/// anything that could hurt to decode.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The clock skew allowed for `iat` in the future, by default.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// Why a token was refused. Any of these means the answer is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Refused before decoding.
    #[error("token is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// The token's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a compact JWS of three base64url segments holding JSON objects.
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than PS256.
    #[error("token algorithm is {0:?}, but AWS Marketplace signs with PS256 only")]
    Algorithm(String),
    /// The header marks extensions critical, which this verifier does not know.
    #[error("token header has a \"crit\" member; no critical extension is understood")]
    CriticalHeader,
    /// No trusted key for the key version we asked for.
    #[error("no trusted public key for key version {0}; add the key AWS Marketplace gave for that version")]
    UnknownKeyVersion(KeyVersion),
    /// The signature does not verify under the product's key.
    #[error("token signature does not verify with the product's public key for version {0}; the answer did not come from AWS for this product, or the configured key is wrong")]
    Signature(KeyVersion),
    /// A required claim is absent.
    #[error("token has no {0} claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type.
    #[error("token claim {0} has the wrong type")]
    ClaimType(&'static str),
    /// The camelCase and PascalCase spellings of a claim disagree.
    #[error("token carries {0} twice, in camelCase and PascalCase, with different values")]
    ConflictingClaim(&'static str),
    /// The product code is not the one expected.
    #[error("token is for product {found:?}, not {expected:?}")]
    ProductCode {
        /// The configured product code.
        expected: String,
        /// The token's product code.
        found: String,
    },
    /// The key version is not the one expected.
    #[error("token is for key version {found}, not {expected}")]
    KeyVersion {
        /// The configured key version.
        expected: KeyVersion,
        /// The token's key version.
        found: u64,
    },
    /// The nonce is not the one sent, so the answer may be a replay.
    #[error("token nonce does not match the nonce sent; the answer may be a replay")]
    Nonce,
    /// `iat` lies in the future beyond the allowed skew.
    #[error("token was issued {ahead_secs} s in the future, beyond the allowed clock skew; check the clock")]
    IssuedInFuture {
        /// How far ahead.
        ahead_secs: u64,
    },
    /// `iat` is older than the maximum age.
    #[error("token was issued {age_secs} s ago, older than the {max_secs} s allowed")]
    TooOld {
        /// Its age.
        age_secs: u64,
        /// The maximum age.
        max_secs: u64,
    },
    /// A successful answer carried no `Signature` token at all.
    #[error("the RegisterUsage answer carried no Signature token")]
    NoToken,
    /// A maximum age was asked for but the token has no `iat`.
    #[error("token has no iat claim, so its age cannot be checked")]
    NoIssuedAt,
}

/// What the token must say to be accepted.
///
/// Each part has its own type, so the product code and the nonce cannot be
/// swapped by mistake.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use entitled_verify::{verify, Expected, KeySet, KeyVersion, ProductCode, VerifyError};
/// let product: ProductCode = "prod-1234".parse().unwrap();
/// let expected = Expected::new(&product, KeyVersion::FIRST, "the-nonce-we-sent")
///     .max_age(Duration::from_secs(300))
///     .at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
/// let result = verify("not-a-jwt", &KeySet::new(), &expected);
/// assert!(matches!(result, Err(VerifyError::Malformed(_))));
/// ```
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    product_code: &'a ProductCode,
    key_version: KeyVersion,
    nonce: &'a str,
    max_skew: Duration,
    max_age: Option<Duration>,
    now: Option<SystemTime>,
}

impl<'a> Expected<'a> {
    /// The product code, key version and nonce the token must carry.
    pub fn new(product_code: &'a ProductCode, key_version: KeyVersion, nonce: &'a str) -> Self {
        Self {
            product_code,
            key_version,
            nonce,
            max_skew: DEFAULT_MAX_SKEW,
            max_age: None,
            now: None,
        }
    }

    /// How far in the future `iat` may lie (default 5 minutes).
    pub fn max_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew;
        self
    }

    /// Refuse tokens older than this, and tokens without `iat`.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// Check times against this instant instead of the system clock.
    pub fn at(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }
}

/// A token whose signature, algorithm and claims all checked out.
///
/// Only [`verify`] builds one, so holding a `VerifiedToken` is proof that the
/// checks ran.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    raw: String,
    product_code: String,
    key_version: KeyVersion,
    nonce: String,
    issued_at: Option<SystemTime>,
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("product_code", &self.product_code)
            .field("key_version", &self.key_version)
            .field("nonce", &self.nonce)
            .field("issued_at", &self.issued_at)
            .finish_non_exhaustive()
    }
}

impl VerifiedToken {
    /// The compact JWT as received.
    pub fn raw(&self) -> &str {
        &self.raw
    }
    /// The verified product code.
    pub fn product_code(&self) -> &str {
        &self.product_code
    }
    /// The verified key version.
    pub fn key_version(&self) -> u32 {
        self.key_version.get()
    }
    /// The verified nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }
    /// When AWS issued the token, if it said.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.issued_at
    }
}

/// Verifies a RegisterUsage token against the product's keys.
///
/// ```
/// use entitled_verify::{verify, Expected, KeySet, KeyVersion, PublicKey, VerifyError};
/// let key = PublicKey::from_file("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem").unwrap();
/// let keys = KeySet::new().with(KeyVersion::FIRST, key);
/// let product = "prod".parse().unwrap();
/// let expected = Expected::new(&product, KeyVersion::FIRST, "nonce");
/// let err = verify("not.a.token", &keys, &expected).unwrap_err();
/// assert!(matches!(err, VerifyError::Malformed(_)));
/// ```
pub fn verify(
    token: &str,
    keys: &KeySet,
    expected: &Expected<'_>,
) -> Result<VerifiedToken, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_BYTES,
        });
    }
    let segments = Segments::split(token)?;
    // Decode every segment before any cryptography, so a malformed token is
    // reported as malformed whatever part of it is wrong.
    let header = decode_object(segments.header, "header")?;
    let payload = decode_object(segments.payload, "payload")?;
    let signature = b64url(segments.signature)?;
    check_header(&header)?;
    let key = keys
        .get(expected.key_version)
        .ok_or(VerifyError::UnknownKeyVersion(expected.key_version))?;
    check_signature(&segments, &signature, key, expected.key_version)?;
    let claims = Claims::read(payload)?;
    claims.check(expected)?;
    Ok(VerifiedToken {
        raw: token.to_owned(),
        product_code: claims.product_code,
        key_version: expected.key_version,
        nonce: claims.nonce,
        issued_at: claims.issued_at,
    })
}

pub(crate) struct Segments<'a> {
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) signature: &'a str,
    pub(crate) signing_input: &'a str,
}

impl<'a> Segments<'a> {
    pub(crate) fn split(token: &'a str) -> Result<Self, VerifyError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed(
                "a JWT has exactly three dot-separated segments",
            ));
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(VerifyError::Malformed("a segment is empty"));
        }
        Ok(Self {
            header,
            payload,
            signature,
            signing_input: &token[..header.len() + 1 + payload.len()],
        })
    }
}

pub(crate) fn b64url(segment: &str) -> Result<Vec<u8>, VerifyError> {
    // URL_SAFE_NO_PAD refuses padding, the standard alphabet and
    // non-canonical trailing bits, so each token has one spelling.
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| VerifyError::Malformed("a segment is not unpadded base64url"))
}

pub(crate) fn decode_object(
    segment: &str,
    what: &'static str,
) -> Result<BTreeMap<String, Value>, VerifyError> {
    let bytes = b64url(segment)?;
    let object: StrictObject = serde_json::from_slice(&bytes).map_err(|_| {
        VerifyError::Malformed(match what {
            "header" => "the header is not a JSON object with unique member names",
            _ => "the payload is not a JSON object with unique member names",
        })
    })?;
    Ok(object.0)
}

fn check_header(header: &BTreeMap<String, Value>) -> Result<(), VerifyError> {
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "PS256" => {}
        Some(Value::String(alg)) => return Err(VerifyError::Algorithm(alg.clone())),
        Some(other) => return Err(VerifyError::Algorithm(other.to_string())),
        None => return Err(VerifyError::Algorithm("(none given)".to_owned())),
    }
    if header.contains_key("crit") {
        return Err(VerifyError::CriticalHeader);
    }
    match header.get("typ") {
        None => Ok(()),
        Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => Ok(()),
        Some(_) => Err(VerifyError::Malformed("the header typ is not JWT")),
    }
}

fn check_signature(
    segments: &Segments<'_>,
    signature: &[u8],
    key: &PublicKey,
    version: KeyVersion,
) -> Result<(), VerifyError> {
    // RSA signatures are exactly the modulus length; anything else is not one.
    if signature.len() != key.bits().div_ceil(8) {
        return Err(VerifyError::Signature(version));
    }
    match jsonwebtoken::crypto::verify(
        segments.signature,
        segments.signing_input.as_bytes(),
        key.decoding_key(),
        Algorithm::PS256,
    ) {
        Ok(true) => Ok(()),
        _ => Err(VerifyError::Signature(version)),
    }
}

/// The claims we read, in either spelling.
struct Claims {
    product_code: String,
    key_version: u64,
    nonce: String,
    issued_at: Option<SystemTime>,
}

impl Claims {
    fn read(mut payload: BTreeMap<String, Value>) -> Result<Self, VerifyError> {
        let product_code = take_claim(&mut payload, "productCode", "ProductCode")?
            .ok_or(VerifyError::MissingClaim("productCode"))?;
        let key_version = take_claim(&mut payload, "publicKeyVersion", "PublicKeyVersion")?
            .ok_or(VerifyError::MissingClaim("publicKeyVersion"))?;
        let nonce = take_claim(&mut payload, "nonce", "Nonce")?
            .ok_or(VerifyError::MissingClaim("nonce"))?;
        let iat = payload.remove("iat");

        let Value::String(product_code) = product_code else {
            return Err(VerifyError::ClaimType("productCode"));
        };
        let key_version = key_version
            .as_u64()
            .ok_or(VerifyError::ClaimType("publicKeyVersion"))?;
        let Value::String(nonce) = nonce else {
            return Err(VerifyError::ClaimType("nonce"));
        };
        let iat_secs = match iat {
            None => None,
            Some(Value::Number(n)) => Some(
                n.as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or(VerifyError::ClaimType("iat"))?,
            ),
            Some(_) => return Err(VerifyError::ClaimType("iat")),
        };
        let issued_at =
            iat_secs.and_then(|s| UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(s).ok()?));
        if iat_secs.is_some() && issued_at.is_none() {
            return Err(VerifyError::ClaimType("iat"));
        }
        Ok(Self {
            product_code,
            key_version,
            nonce,
            issued_at,
        })
    }

    fn check(&self, expected: &Expected<'_>) -> Result<(), VerifyError> {
        if self.product_code != expected.product_code.as_str() {
            return Err(VerifyError::ProductCode {
                expected: expected.product_code.to_string(),
                found: self.product_code.clone(),
            });
        }
        if self.key_version != u64::from(expected.key_version.get()) {
            return Err(VerifyError::KeyVersion {
                expected: expected.key_version,
                found: self.key_version,
            });
        }
        if !constant_time_eq(self.nonce.as_bytes(), expected.nonce.as_bytes()) {
            return Err(VerifyError::Nonce);
        }
        self.check_time(expected)
    }

    fn check_time(&self, expected: &Expected<'_>) -> Result<(), VerifyError> {
        let now = expected.now.unwrap_or_else(SystemTime::now);
        let Some(issued_at) = self.issued_at else {
            return match expected.max_age {
                Some(_) => Err(VerifyError::NoIssuedAt),
                None => Ok(()),
            };
        };
        if let Ok(ahead) = issued_at.duration_since(now) {
            if ahead > expected.max_skew {
                return Err(VerifyError::IssuedInFuture {
                    ahead_secs: ahead.as_secs(),
                });
            }
        }
        if let (Some(max), Ok(age)) = (expected.max_age, now.duration_since(issued_at)) {
            if age > max {
                return Err(VerifyError::TooOld {
                    age_secs: age.as_secs(),
                    max_secs: max.as_secs(),
                });
            }
        }
        Ok(())
    }
}

/// Takes a claim in camelCase or PascalCase; both present must agree.
fn take_claim(
    payload: &mut BTreeMap<String, Value>,
    camel: &'static str,
    pascal: &'static str,
) -> Result<Option<Value>, VerifyError> {
    match (payload.remove(camel), payload.remove(pascal)) {
        (Some(a), Some(b)) if a != b => Err(VerifyError::ConflictingClaim(camel)),
        (Some(a), _) | (None, Some(a)) => Ok(Some(a)),
        (None, None) => Ok(None),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON object that refuses repeated member names: with repeats, two
/// parsers could read two different claims from one signed payload.
struct StrictObject(BTreeMap<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrictVisitor;
        impl<'de> Visitor<'de> for StrictVisitor {
            type Value = StrictObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with unique member names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictObject, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    if out.insert(key, value).is_some() {
                        return Err(serde::de::Error::custom("duplicate member"));
                    }
                }
                Ok(StrictObject(out))
            }
        }
        deserializer.deserialize_map(StrictVisitor)
    }
}
