//! `verify` on a genuine PS256 token under an RSA-3072 key: the whole offline
//! cost of a check (decode, JSON, signature, claims), and the cost of the
//! hand-off re-check in the exec'd program. Also the cost of loading the key.
//!
//! `cargo bench -p entitled --bench verify`

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use entitled::{verify, Expected, KeySet, KeyVersion, ProductCode, PublicKey};
use entitled_emulator::token::{sign_raw, Scheme, SigningKey};

const PRODUCT: &str = "prod-bench-1234";
const NONCE: &str = "nonce-sent-with-this-call";
/// "Now" for the token, in seconds since the epoch.
const NOW: u64 = 1_800_000_000;
/// The TEST-ONLY product key, version 1, from the repository's `tests/fixtures`.
const PUBLIC_PEM: &str =
    include_str!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
const PRIVATE_PEM: &str =
    include_str!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem");

fn token() -> String {
    let key = SigningKey::from_pkcs8_pem(PRIVATE_PEM).expect("the TEST-ONLY key parses");
    let claims = format!(
        r#"{{"productCode":"{PRODUCT}","publicKeyVersion":1,"nonce":"{NONCE}","iat":{NOW}}}"#
    );
    sign_raw(
        r#"{"alg":"PS256","typ":"JWT"}"#,
        &claims,
        &key,
        Scheme::Ps256,
    )
}

fn benches(c: &mut Criterion) {
    let pem = PUBLIC_PEM;
    let key = PublicKey::from_pem(pem.as_bytes()).expect("the TEST-ONLY key parses");
    let keys = &KeySet::new().with(KeyVersion::FIRST, key);
    let product: ProductCode = PRODUCT.parse().expect("a valid product code");
    let token = token();
    let expected = Expected::new(&product, KeyVersion::FIRST, NONCE)
        .max_age(Duration::from_secs(300))
        .at(UNIX_EPOCH + Duration::from_secs(NOW));
    // A benchmark of a failing path measures nothing useful.
    verify(&token, keys, &expected).expect("the benchmark token verifies");

    c.bench_function("verify PS256 RSA-3072 (valid)", |b| {
        b.iter(|| verify(black_box(&token), keys, &expected).unwrap())
    });

    // A forged token is refused at the signature: the same RSA work.
    let last = if token.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{last}", &token[..token.len() - 1]);
    c.bench_function("verify PS256 RSA-3072 (bad signature)", |b| {
        b.iter(|| verify(black_box(&forged), keys, &expected).unwrap_err())
    });

    c.bench_function("PublicKey::from_pem RSA-3072", |b| {
        b.iter(|| PublicKey::from_pem(black_box(pem.as_bytes())).unwrap())
    });
}

criterion_group!(verify_benches, benches);
criterion_main!(verify_benches);
