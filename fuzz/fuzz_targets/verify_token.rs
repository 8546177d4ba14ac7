//! `entitled_verify::verify` on arbitrary input: it must return, never panic, and
//! never accept a token that AWS's key did not sign for this nonce.

#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use entitled_verify::{verify, Expected, KeySet, KeyVersion, ProductCode, PublicKey};
use libfuzzer_sys::fuzz_target;

/// The product and nonce of the valid seed token (`corpus/verify_token/seed-valid`).
const PRODUCT: &str = "prod-fuzz-1234";
const NONCE: &str = "nonce-sent-with-this-call";
const NOW: u64 = 1_800_000_000;

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem =
            include_bytes!("../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
        KeySet::new().with(
            KeyVersion::FIRST,
            PublicKey::from_pem(pem).expect("fixture key"),
        )
    })
}

fn product() -> &'static ProductCode {
    static CODE: OnceLock<ProductCode> = OnceLock::new();
    CODE.get_or_init(|| PRODUCT.parse().expect("product code"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let expected = Expected::new(product(), KeyVersion::FIRST, NONCE)
        .max_age(Duration::from_secs(300))
        .at(UNIX_EPOCH + Duration::from_secs(NOW));
    if let Ok(verified) = verify(token, keys(), &expected) {
        // Only a genuine signature gets here, and it must say what we asked.
        assert_eq!(verified.product_code(), PRODUCT);
        assert_eq!(verified.nonce(), NONCE);
        assert_eq!(verified.raw(), token);
    }
});
