//! The product code or SKU, and the key, compiled in at build time (see `build.rs`).
//!
//! These are constants in the binary, not settings: nothing at run time,
//! neither a flag nor the environment, can change them.

include!(concat!(env!("OUT_DIR"), "/compiled.rs"));

/// What this binary is bound to.
#[derive(Clone, Copy, Debug)]
pub struct Compiled {
    /// The product code, if compiled in.
    pub product_code: Option<&'static str>,
    /// The product SKU (contract pricing), if compiled in.
    pub product_sku: Option<&'static str>,
    /// The key version and PEM key, if compiled in.
    pub public_key: Option<(u32, &'static [u8])>,
    /// Locked to AWS's own endpoints and the Amazon roots.
    pub locked: bool,
}

/// The values this binary was built with.
pub const COMPILED: Compiled = Compiled {
    product_code: PRODUCT_CODE,
    product_sku: PRODUCT_SKU,
    public_key: PUBLIC_KEY,
    locked: LOCKED,
};

/// A short description for `--help` and `--version`; empty when nothing is
/// compiled in.
pub fn describe() -> String {
    let mut parts = Vec::new();
    if let Some(code) = COMPILED.product_code {
        parts.push(format!("product code {code}"));
    }
    if let Some(sku) = COMPILED.product_sku {
        parts.push(format!("product SKU {sku} (contract)"));
    }
    if let Some((version, _)) = COMPILED.public_key {
        parts.push(format!("public key version {version}"));
    }
    if COMPILED.locked {
        parts.push("locked to AWS endpoints and Amazon roots".to_owned());
    }
    parts.join(", ")
}
