//! `verify` on a genuine PS256 token under an RSA-3072 key: the whole offline
//! cost of a check (decode, JSON, signature, claims), and the cost of the
//! hand-off re-check in the exec'd program. Also the cost of loading the key.
//!
//! `cargo bench -p entitled --bench verify`

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use entitled::{verify, Expected, KeyVersion, PublicKey};
use entitled_emulator::token::{sign_raw, Scheme};

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;
use fixtures::{keys, product, KEY_V1, NONCE, NOW, PRODUCT};

fn token() -> String {
    let key = fixtures::signing_key(KEY_V1);
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
    let pem = fixtures::public_pem(KEY_V1);
    let keys = keys();
    let token = token();
    let expected = Expected::new(product(), KeyVersion::FIRST, NONCE)
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
