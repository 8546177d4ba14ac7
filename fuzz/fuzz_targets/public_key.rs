//! `PublicKey::from_pem` and `from_der` on arbitrary bytes: they must return,
//! never panic, and accept only RSA keys in the size range ring can verify.

#![no_main]

use entitled_verify::PublicKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for key in [PublicKey::from_pem(data), PublicKey::from_der(data)]
        .into_iter()
        .flatten()
    {
        assert!((2048..=8192).contains(&key.bits()), "{} bits", key.bits());
    }
});
