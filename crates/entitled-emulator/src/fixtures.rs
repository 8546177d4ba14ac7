//! The unit tests' view of the repository's `tests/fixtures` (all `TEST-ONLY-*` keys). The
//! integration tests have their own `tests/common/fixtures.rs`, which names this crate from
//! outside; these few helpers name it from inside.

use std::path::PathBuf;

use crate::token::SigningKey;

/// The product key, version 1: PKCS#8 private and SPKI public PEM.
pub const V1_KEY: &str = "TEST-ONLY-product-key-v1-rsa3072.private.pem";
pub const V1_PUBLIC: &str = "TEST-ONLY-product-key-v1-rsa3072.public.pem";

/// A fixture file's text.
pub fn read(name: &str) -> String {
    let path =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture private key, parsed.
pub fn signing_key(name: &str) -> SigningKey {
    SigningKey::from_pkcs8_pem(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}
