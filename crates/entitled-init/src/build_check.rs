//! Build-time checks on the values a seller compiles in.
//!
//! This file is shared: `build.rs` includes it to refuse a bad product code,
//! key version or key while building, and the crate includes it so the same
//! checks are unit-tested. The rules themselves are `entitled-verify`'s
//! (`ProductCode`, `KeyVersion`, `PublicKey`), which `build.rs` build-depends
//! on, so the build and the run refuse exactly the same values.

use entitled_verify::{KeyVersion, ProductCode, PublicKey};

/// `ENTITLED_PRODUCT_CODE` as a [`ProductCode`].
pub fn check_product_code(code: &str) -> Result<ProductCode, String> {
    code.parse()
        .map_err(|e| format!("ENTITLED_PRODUCT_CODE: {e}"))
}

/// `ENTITLED_PUBLIC_KEY_VERSION` as a [`KeyVersion`].
pub fn check_key_version(text: &str) -> Result<KeyVersion, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("ENTITLED_PUBLIC_KEY_VERSION: {e}"))
}

/// Parses the key file exactly as the guard will at start-up, so a private
/// key, a certificate, a truncated copy or a weak key fails the build.
pub fn check_public_key_pem(pem: &[u8]) -> Result<(), String> {
    // Named apart because it is the usual mistake, and the library's message
    // ("not a PEM PUBLIC KEY block") would not say which key was given.
    if pem.windows(16).any(|w| w == b"PRIVATE KEY-----") {
        return Err("the key file holds a PRIVATE key; compile in the product's PUBLIC key from AWS Marketplace".into());
    }
    PublicKey::from_pem(pem)
        .map(drop)
        .map_err(|e| e.to_string())
}
