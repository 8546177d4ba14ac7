//! The test keys of `tests/fixtures` (all `TEST-ONLY-*`, public, no product's) and the
//! products and faults the emulator's integration tests build from them (through `common`).
//! The unit tests read the same files through `src/fixtures.rs`.
#![allow(dead_code)]

use std::path::PathBuf;

use entitled_emulator::token::SigningKey;
use entitled_emulator::Product;

/// The product key, version 1: PKCS#8 private and SPKI public PEM.
pub const V1_KEY: &str = "TEST-ONLY-product-key-v1-rsa3072.private.pem";
pub const V1_PUBLIC: &str = "TEST-ONLY-product-key-v1-rsa3072.public.pem";
/// The product key, version 2.
pub const V2_KEY: &str = "TEST-ONLY-product-key-v2-rsa3072.private.pem";
pub const V2_PUBLIC: &str = "TEST-ONLY-product-key-v2-rsa3072.public.pem";
/// A key that is no product's, for tokens signed by the wrong party.
pub const ATTACKER_KEY: &str = "TEST-ONLY-attacker-key-rsa3072.private.pem";
pub const ATTACKER_PUBLIC: &str = "TEST-ONLY-attacker-key-rsa3072.public.pem";

/// Where a fixture file is.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures")).join(name)
}

/// A fixture file's text.
pub fn read(name: &str) -> String {
    let path = path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture private key, parsed.
pub fn signing_key(name: &str) -> SigningKey {
    SigningKey::from_pkcs8_pem(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A product whose version 1 signs with [`V1_KEY`], so nothing is generated.
pub fn product(code: &str) -> Product {
    Product::new(code).signing_key(1, signing_key(V1_KEY))
}
