//! An application started by the `entitled` guard that re-checks the
//! hand-off before doing any work.
//!
//! The guard execs the application with `ENTITLED_TOKEN` (the verified
//! RegisterUsage token) and `ENTITLED_NONCE`. A buyer who overrides the
//! ENTRYPOINT to skip the guard has no token signed by AWS for this product
//! with a recent `iat`, so this check, offline and in microseconds, refuses
//! to start.
//!
//! ```text
//! ENTRYPOINT ["/entitled", "--product-code", "demo-product", "--public-key", "/etc/entitled/key.pem", "--"]
//! CMD ["/app/handoff-verify"]
//! ```

use std::process::ExitCode;

use entitled_verify::{
    verify_handoff_from_env, HandoffError, KeySet, KeyVersion, ProductCode, PublicKey,
};

/// Compiled in, like the guard's: the environment and command line are the
/// buyer's to change.
const PRODUCT_CODE: &str = "demo-product";
/// TEST-ONLY key from this repository; use your product's key.
const PUBLIC_KEY_PEM: &[u8] =
    include_bytes!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
const KEY_VERSION: KeyVersion = KeyVersion::FIRST;

fn main() -> ExitCode {
    let (product_code, keys) = match configured() {
        Ok(configured) => configured,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(64);
        }
    };
    // Checks signature, product code, key version, that the token's nonce
    // equals ENTITLED_NONCE, and an age of at most 5 minutes.
    match verify_handoff_from_env(&keys, &product_code, KEY_VERSION) {
        Ok(token) => {
            println!(
                "hand-off verified: product {}, key version {}; the paid application starts now (PID {}, user {})",
                token.product_code(),
                token.key_version(),
                std::process::id(),
                user()
            );
            ExitCode::SUCCESS
        }
        Err(err @ HandoffError::Missing(_)) => {
            eprintln!("{err}");
            ExitCode::from(77)
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(65)
        }
    }
}

/// The user this process runs as, which an image's `USER` decides: the owner
/// of `/proc/self` (std alone, no libc), or `unknown` without `/proc`.
fn user() -> String {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").map_or_else(|_| "unknown".into(), |m| m.uid().to_string())
}

/// The compiled-in product code and key, validated.
fn configured() -> Result<(ProductCode, KeySet), Box<dyn std::error::Error>> {
    let product_code = PRODUCT_CODE.parse()?;
    let key = PublicKey::from_pem(PUBLIC_KEY_PEM)?;
    Ok((product_code, KeySet::new().with(KEY_VERSION, key)))
}
