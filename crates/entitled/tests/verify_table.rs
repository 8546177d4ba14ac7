//! Every way a RegisterUsage token can be wrong, one row each, with the error
//! it must produce. Adding an attack is one row.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use entitled::{verify, Expected, KeyVersion, VerifyError};
use entitled_emulator::token::{sign_raw, Scheme};
use serde_json::{json, Value};

mod fixtures;
use fixtures::{keys, product, signing_key, ATTACKER, KEY_V1, NONCE, NOW, PRODUCT};

#[derive(Clone, Copy)]
enum Sig {
    Pss(&'static str),
    Pkcs1(&'static str),
    Hmac,
    Empty,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(header: &str, payload: &str, sig: Sig) -> String {
    match sig {
        Sig::Pss(key) => sign_raw(header, payload, &signing_key(key), Scheme::Ps256),
        Sig::Pkcs1(key) => sign_raw(header, payload, &signing_key(key), Scheme::Rs256Pkcs1),
        // The classic confusion attack: HMAC keyed with the public key text.
        Sig::Hmac => {
            let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
            let secret = fixtures::public_pem(KEY_V1);
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
            format!(
                "{input}.{}",
                b64(ring::hmac::sign(&key, input.as_bytes()).as_ref())
            )
        }
        Sig::Empty => format!("{}.{}.", b64(header.as_bytes()), b64(payload.as_bytes())),
    }
}

const PS256: &str = r#"{"alg":"PS256","typ":"JWT"}"#;
const V1: Sig = Sig::Pss(KEY_V1);

fn claims() -> Value {
    json!({"productCode": PRODUCT, "publicKeyVersion": 1, "nonce": NONCE, "iat": NOW})
}

fn with(mut claims: Value, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    edit(claims.as_object_mut().unwrap());
    claims.to_string()
}

fn valid() -> String {
    sign(PS256, &claims().to_string(), V1)
}

/// Swaps one segment of a valid token.
fn replace_segment(index: usize, segment: &str) -> String {
    let token = valid();
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = segment;
    parts.join(".")
}

type Expect = fn(&Result<entitled::VerifiedToken, VerifyError>) -> bool;
/// A token, and the maximum age to verify it with.
type Input = (String, Option<Duration>);
/// One row: what is wrong, the token, and the outcome it must produce.
type Row = (&'static str, Input, Expect);

fn ok(r: &Result<entitled::VerifiedToken, VerifyError>) -> bool {
    r.as_ref()
        .is_ok_and(|t| t.product_code() == PRODUCT && t.nonce() == NONCE && t.key_version() == 1)
}

/// A token verified with no maximum age.
fn plain(token: String) -> Input {
    (token, None)
}

/// A token verified with a maximum age of 5 minutes.
fn aged(token: String) -> Input {
    (token, Some(Duration::from_secs(300)))
}

/// The table: one row per way a token can be wrong.
fn rows() -> Vec<Row> {
    vec![
        ("valid camelCase", plain(valid()), ok),
        (
            "valid PascalCase",
            plain(sign(
                PS256,
                &json!({"ProductCode": PRODUCT, "PublicKeyVersion": 1, "Nonce": NONCE}).to_string(),
                V1,
            )),
            ok,
        ),
        (
            "both spellings, same values",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("ProductCode".into(), json!(PRODUCT));
                    c.insert("Nonce".into(), json!(NONCE));
                }),
                V1,
            )),
            ok,
        ),
        (
            "both spellings, product codes differ",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("ProductCode".into(), json!("cheaper-product"));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ConflictingClaim("productCode"))),
        ),
        (
            "both spellings, nonces differ",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("Nonce".into(), json!("other"));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ConflictingClaim("nonce"))),
        ),
        (
            "both spellings, versions differ",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("PublicKeyVersion".into(), json!(2));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ConflictingClaim("publicKeyVersion"))),
        ),
        (
            "alg none, no signature",
            plain(sign(
                r#"{"alg":"none","typ":"JWT"}"#,
                &claims().to_string(),
                Sig::Empty,
            )),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        (
            "alg none with a PSS signature",
            plain(sign(r#"{"alg":"none"}"#, &claims().to_string(), V1)),
            |r| matches!(r, Err(VerifyError::Algorithm(a)) if a == "none"),
        ),
        (
            "alg HS256 keyed with the public key",
            plain(sign(
                r#"{"alg":"HS256","typ":"JWT"}"#,
                &claims().to_string(),
                Sig::Hmac,
            )),
            |r| matches!(r, Err(VerifyError::Algorithm(a)) if a == "HS256"),
        ),
        (
            "alg RS256, PKCS#1 v1.5 signature",
            plain(sign(
                r#"{"alg":"RS256","typ":"JWT"}"#,
                &claims().to_string(),
                Sig::Pkcs1(KEY_V1),
            )),
            |r| matches!(r, Err(VerifyError::Algorithm(a)) if a == "RS256"),
        ),
        (
            "alg ES256",
            plain(sign(r#"{"alg":"ES256"}"#, &claims().to_string(), V1)),
            |r| matches!(r, Err(VerifyError::Algorithm(_))),
        ),
        (
            "alg PS512",
            plain(sign(r#"{"alg":"PS512"}"#, &claims().to_string(), V1)),
            |r| matches!(r, Err(VerifyError::Algorithm(_))),
        ),
        (
            "alg lower-case ps256",
            plain(sign(r#"{"alg":"ps256"}"#, &claims().to_string(), V1)),
            |r| matches!(r, Err(VerifyError::Algorithm(_))),
        ),
        (
            "alg missing",
            plain(sign(r#"{"typ":"JWT"}"#, &claims().to_string(), V1)),
            |r| matches!(r, Err(VerifyError::Algorithm(_))),
        ),
        (
            "alg not a string",
            plain(sign(r#"{"alg":["PS256"]}"#, &claims().to_string(), V1)),
            |r| matches!(r, Err(VerifyError::Algorithm(_))),
        ),
        (
            "PKCS#1 v1.5 signature under a PS256 header",
            plain(sign(PS256, &claims().to_string(), Sig::Pkcs1(KEY_V1))),
            |r| matches!(r, Err(VerifyError::Signature(KeyVersion::FIRST))),
        ),
        (
            "signed with another key",
            plain(sign(PS256, &claims().to_string(), Sig::Pss(ATTACKER))),
            |r| matches!(r, Err(VerifyError::Signature(KeyVersion::FIRST))),
        ),
        (
            "signed with key version 2's key",
            plain(sign(
                PS256,
                &claims().to_string(),
                Sig::Pss("product-key-v2-rsa3072"),
            )),
            |r| matches!(r, Err(VerifyError::Signature(KeyVersion::FIRST))),
        ),
        (
            "signed with a 2048-bit key",
            plain(sign(
                PS256,
                &claims().to_string(),
                Sig::Pss("product-key-rsa2048"),
            )),
            |r| matches!(r, Err(VerifyError::Signature(KeyVersion::FIRST))),
        ),
        (
            "payload swapped under a valid signature",
            plain(replace_segment(
                1,
                &b64(with(claims(), |c| {
                    c.insert("productCode".into(), json!("other"));
                })
                .as_bytes()),
            )),
            |r| matches!(r, Err(VerifyError::Signature(KeyVersion::FIRST))),
        ),
        (
            "header swapped under a valid signature",
            plain(replace_segment(0, &b64(br#"{"alg":"PS256"}"#))),
            |r| matches!(r, Err(VerifyError::Signature(KeyVersion::FIRST))),
        ),
        (
            "signature truncated",
            plain({
                let t = valid();
                t[..t.len() - 4].to_owned()
            }),
            |r| matches!(r, Err(VerifyError::Signature(KeyVersion::FIRST))),
        ),
        (
            "wrong product code",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("productCode".into(), json!("cheaper-product"));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ProductCode { .. })),
        ),
        (
            "product code differs in case",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("productCode".into(), json!(PRODUCT.to_uppercase()));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ProductCode { .. })),
        ),
        (
            "wrong key version",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("publicKeyVersion".into(), json!(2));
                }),
                V1,
            )),
            |r| {
                matches!(
                    r,
                    Err(VerifyError::KeyVersion {
                        expected: KeyVersion::FIRST,
                        found: 2
                    })
                )
            },
        ),
        (
            "key version as a string",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("publicKeyVersion".into(), json!("1"));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ClaimType("publicKeyVersion"))),
        ),
        (
            "key version fractional",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("publicKeyVersion".into(), json!(1.5));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ClaimType("publicKeyVersion"))),
        ),
        (
            "wrong nonce (replay)",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("nonce".into(), json!("an-old-nonce"));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::Nonce)),
        ),
        (
            "nonce prefix only",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("nonce".into(), json!(&NONCE[..5]));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::Nonce)),
        ),
        (
            "nonce as a number",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("nonce".into(), json!(7));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ClaimType("nonce"))),
        ),
        (
            "nonce missing",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.remove("nonce");
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::MissingClaim("nonce"))),
        ),
        (
            "product code missing",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.remove("productCode");
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::MissingClaim("productCode"))),
        ),
        (
            "key version missing",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.remove("publicKeyVersion");
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::MissingClaim("publicKeyVersion"))),
        ),
        (
            "iat absent",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.remove("iat");
                }),
                V1,
            )),
            ok,
        ),
        (
            "iat absent with a maximum age",
            aged(sign(
                PS256,
                &with(claims(), |c| {
                    c.remove("iat");
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::NoIssuedAt)),
        ),
        (
            "iat 4 minutes ahead, within skew",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("iat".into(), json!(NOW + 240));
                }),
                V1,
            )),
            ok,
        ),
        (
            "iat 10 minutes ahead",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("iat".into(), json!(NOW + 600));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::IssuedInFuture { ahead_secs: 600 })),
        ),
        (
            "iat fractional",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("iat".into(), json!(NOW as f64 + 0.5));
                }),
                V1,
            )),
            ok,
        ),
        (
            "iat as a string",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("iat".into(), json!("1800000000"));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ClaimType("iat"))),
        ),
        (
            "iat negative",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("iat".into(), json!(-5));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::ClaimType("iat"))),
        ),
        (
            "iat older than the maximum age",
            aged(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("iat".into(), json!(NOW - 301));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::TooOld { .. })),
        ),
        ("iat within the maximum age", aged(valid()), ok),
        (
            "crit header",
            plain(sign(
                r#"{"alg":"PS256","crit":["exp"]}"#,
                &claims().to_string(),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::CriticalHeader)),
        ),
        (
            "typ not JWT",
            plain(sign(
                r#"{"alg":"PS256","typ":"JOSE"}"#,
                &claims().to_string(),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        (
            "duplicate nonce member",
            plain(sign(
                PS256,
                &format!(
                    r#"{{"productCode":"{PRODUCT}","publicKeyVersion":1,"nonce":"x","nonce":"{NONCE}"}}"#
                ),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        (
            "payload a JSON array",
            plain(sign(PS256, "[1,2]", V1)),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        (
            "payload not JSON",
            plain(sign(PS256, "productCode=x", V1)),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        (
            "two segments",
            plain(valid().rsplit_once('.').unwrap().0.to_owned()),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        ("four segments", plain(format!("{}.e30", valid())), |r| {
            matches!(r, Err(VerifyError::Malformed(_)))
        }),
        ("empty string", plain(String::new()), |r| {
            matches!(r, Err(VerifyError::Malformed(_)))
        }),
        (
            "padded base64url",
            plain(replace_segment(
                0,
                &URL_SAFE.encode(r#"{"alg":"PS256", "typ":"JWT"}"#),
            )),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        (
            "standard base64 alphabet",
            plain(replace_segment(
                2,
                STANDARD.encode([0xfb_u8; 384]).trim_end_matches('='),
            )),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        (
            "whitespace inside",
            plain(valid().replacen('.', ". ", 1)),
            |r| matches!(r, Err(VerifyError::Malformed(_))),
        ),
        (
            "over 16 KiB",
            plain(sign(
                PS256,
                &with(claims(), |c| {
                    c.insert("pad".into(), json!("x".repeat(13_000)));
                }),
                V1,
            )),
            |r| matches!(r, Err(VerifyError::TooLarge { .. })),
        ),
    ]
}

#[test]
fn every_bad_token_is_refused_with_its_reason() {
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let mut failures = Vec::new();
    for (name, (token, max_age), expect) in &rows() {
        let mut expected = Expected::new(product(), KeyVersion::FIRST, NONCE).at(now);
        if let Some(age) = max_age {
            expected = expected.max_age(*age);
        }
        let result = verify(token, keys(), &expected);
        if !expect(&result) {
            failures.push(format!("{name}: got {result:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_version_with_no_trusted_key_is_refused() {
    let v2 = KeyVersion::try_from(2u32).unwrap();
    let expected = Expected::new(product(), v2, NONCE);
    assert_eq!(
        verify(&valid(), keys(), &expected),
        Err(VerifyError::UnknownKeyVersion(v2))
    );
}

#[test]
fn iat_is_checked_against_the_real_clock_by_default() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let future = sign(
        PS256,
        &with(claims(), |c| {
            c.insert("iat".into(), json!(now + 3600));
        }),
        V1,
    );
    let expected = Expected::new(product(), KeyVersion::FIRST, NONCE);
    let result = verify(&future, keys(), &expected);
    assert!(
        matches!(result, Err(VerifyError::IssuedInFuture { .. })),
        "{result:?}"
    );
}
