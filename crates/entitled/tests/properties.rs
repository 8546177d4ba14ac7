//! Properties of `verify`: a valid PS256 token verifies, and every way of
//! changing it is refused. RSA signing is slow, so the tokens are signed once
//! and then mutated; only the re-signed claim edits sign per case, and run
//! fewer cases.

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use entitled::{verify, Expected, KeyVersion, VerifiedToken, VerifyError};
use entitled_emulator::token::{sign_raw, Scheme, SigningKey};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

mod fixtures;
use fixtures::{keys, product, KEY_V1, NONCE, NOW, PRODUCT};

const MAX_AGE: Duration = Duration::from_secs(300);
/// The header AWS sends, padded with a `kid` so that the header's base64 has
/// trailing bits and `=` padding, which the base64 properties need.
const HEADER: &str = r#"{"alg":"PS256","typ":"JWT","kid":"1"}"#;

/// The product's key, parsed once: every property signs with it.
fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| fixtures::signing_key(KEY_V1))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(header: &str, payload: &str) -> String {
    sign_raw(header, payload, signing_key(), Scheme::Ps256)
}

fn claims() -> Map<String, Value> {
    let Value::Object(map) =
        json!({"productCode": PRODUCT, "publicKeyVersion": 1, "nonce": NONCE, "iat": NOW})
    else {
        unreachable!()
    };
    map
}

/// The valid token every property starts from, signed once.
fn valid() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| sign(HEADER, &Value::Object(claims()).to_string()))
}

/// A second validly signed token, for another nonce: a donor of segments
/// that carry a genuine signature but do not belong together.
fn donor() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let mut c = claims();
        c.insert("nonce".into(), json!("a-nonce-from-another-call"));
        sign(HEADER, &Value::Object(c).to_string())
    })
}

fn check(token: &str) -> Result<VerifiedToken, VerifyError> {
    let expected = Expected::new(product(), KeyVersion::FIRST, NONCE)
        .max_age(MAX_AGE)
        .at(UNIX_EPOCH + Duration::from_secs(NOW));
    verify(token, keys(), &expected)
}

fn segments(token: &str) -> [&str; 3] {
    let v: Vec<&str> = token.split('.').collect();
    [v[0], v[1], v[2]]
}

#[test]
fn the_original_verifies() {
    let token = check(valid()).expect("the unmutated token must verify");
    assert_eq!(token.product_code(), PRODUCT);
    assert_eq!(token.nonce(), NONCE);
    assert_eq!(token.key_version(), 1);
    assert_eq!(
        token.issued_at(),
        Some(UNIX_EPOCH + Duration::from_secs(NOW))
    );
    // The donor is genuine too; only its nonce is wrong for this call.
    assert_eq!(check(donor()), Err(VerifyError::Nonce));
}

#[test]
fn every_permutation_of_the_segments_is_refused() {
    let [h, p, s] = segments(valid());
    let permutations = [[h, s, p], [p, h, s], [p, s, h], [s, h, p], [s, p, h]];
    for parts in permutations {
        let token = parts.join(".");
        let result = check(&token);
        assert!(result.is_err(), "{parts:?} verified: {result:?}");
    }
}

/// A claim edit that must be refused even when AWS's key signed it.
#[derive(Clone, Debug)]
enum Edit {
    Set(&'static str, Value),
    Remove(&'static str),
}

fn other_string(original: &'static str) -> impl Strategy<Value = Value> {
    // Includes near-misses: case changes, prefixes, padding.
    prop_oneof![
        "[ -~]{0,40}",
        Just(original.to_uppercase()),
        Just(format!("{original} ")),
        Just(original[..original.len() - 1].to_owned()),
        Just(format!("{original}\0")),
    ]
    .prop_filter("must differ", move |s| s != original)
    .prop_map(Value::String)
}

fn other_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(json!([1])),
        Just(json!({"nested": 1})),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let claim = select(vec!["productCode", "publicKeyVersion", "nonce"]);
    prop_oneof![
        other_string(PRODUCT).prop_map(|v| Edit::Set("productCode", v)),
        other_string(NONCE).prop_map(|v| Edit::Set("nonce", v)),
        any::<u64>()
            .prop_filter("must differ", |n| *n != 1)
            .prop_map(|n| Edit::Set("publicKeyVersion", json!(n))),
        other_json()
            .prop_filter("must differ", |v| v.as_u64() != Some(1))
            .prop_map(|v| Edit::Set("publicKeyVersion", v)),
        other_json()
            .prop_filter("must be no string", |v| !v.is_string())
            .prop_map(|v| Edit::Set("nonce", v)),
        // A conflicting PascalCase twin of a claim.
        (claim.clone(), other_json())
            .prop_filter("must differ from the camelCase value", |(c, v)| {
                claims().get(*c) != Some(v)
            })
            .prop_map(|(c, v)| {
                let pascal = match c {
                    "productCode" => "ProductCode",
                    "publicKeyVersion" => "PublicKeyVersion",
                    _ => "Nonce",
                };
                Edit::Set(pascal, v)
            }),
        // iat beyond the 5-minute skew, older than the maximum age, or not a
        // non-negative number.
        (NOW + 301..u64::MAX / 2).prop_map(|t| Edit::Set("iat", json!(t))),
        (0..NOW - 301).prop_map(|t| Edit::Set("iat", json!(t))),
        (i64::MIN..0).prop_map(|t| Edit::Set("iat", json!(t))),
        other_json()
            .prop_filter("must be no number", |v| !v.is_number())
            .prop_map(|v| Edit::Set("iat", v)),
        select(vec!["productCode", "publicKeyVersion", "nonce", "iat"]).prop_map(Edit::Remove),
    ]
}

fn apply(edit: &Edit) -> String {
    let mut c = claims();
    match edit {
        Edit::Set(name, value) => {
            c.insert((*name).into(), value.clone());
        }
        Edit::Remove(name) => {
            c.remove(*name);
        }
    }
    Value::Object(c).to_string()
}

/// The four base64 spellings a lenient decoder would accept.
#[derive(Clone, Copy, Debug)]
enum Variant {
    UrlPadded,
    Standard,
    StandardNoPad,
    /// The same bytes with the unused low bits of the last character set.
    TrailingBits,
}

fn respell(segment: &str, variant: Variant) -> String {
    let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap();
    match variant {
        Variant::UrlPadded => URL_SAFE.encode(&bytes),
        Variant::Standard => STANDARD.encode(&bytes),
        Variant::StandardNoPad => STANDARD_NO_PAD.encode(&bytes),
        Variant::TrailingBits => {
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            // 2 leftover bytes leave 2 unused bits, 1 leaves 4; none, none.
            let unused = match bytes.len() % 3 {
                1 => 0b1111,
                2 => 0b11,
                _ => return segment.to_owned(),
            };
            let mut chars = segment.as_bytes().to_vec();
            let last = chars.last_mut().unwrap();
            let index = alphabet.iter().position(|c| c == last).unwrap();
            *last = alphabet[index | unused];
            String::from_utf8(chars).unwrap()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any one byte replaced by any other ASCII byte (control characters,
    /// dots, padding and whitespace included).
    #[test]
    fn any_byte_replaced_is_refused(index in 0..valid().len(), byte in 0u8..0x80) {
        let mut bytes = valid().as_bytes().to_vec();
        prop_assume!(bytes[index] != byte);
        bytes[index] = byte;
        let token = String::from_utf8(bytes).unwrap();
        prop_assert!(check(&token).is_err(), "verified after mutation: {token}");
    }

    /// Any one byte deleted, or any byte (any Unicode scalar) inserted.
    #[test]
    fn any_byte_deleted_or_inserted_is_refused(
        index in 0..valid().len(),
        inserted in proptest::option::of(any::<char>()),
    ) {
        let mut token = valid().to_owned();
        match inserted {
            Some(c) => token.insert(index, c),
            None => {
                token.remove(index);
            }
        }
        prop_assert!(check(&token).is_err(), "verified after mutation: {token}");
    }

    /// Each position filled from the valid token or a second genuine token:
    /// every mix other than the original itself is refused.
    #[test]
    fn any_mix_of_genuine_segments_is_refused(
        picks in proptest::array::uniform3((any::<bool>(), 0..3usize)),
    ) {
        let (ours, theirs) = (segments(valid()), segments(donor()));
        let parts: Vec<&str> = picks
            .iter()
            .map(|&(from_donor, i)| if from_donor { theirs[i] } else { ours[i] })
            .collect();
        let token = parts.join(".");
        // Both tokens share one header, so some mixes rebuild the original.
        prop_assume!(token != valid());
        prop_assert!(check(&token).is_err(), "verified: {picks:?}");
    }

    /// Any set of segments re-spelled in another base64 variant is refused,
    /// unless the spelling happens to be identical.
    #[test]
    fn any_base64_variant_is_refused(
        which in proptest::array::uniform3(any::<bool>()),
        variant in select(vec![
            Variant::UrlPadded,
            Variant::Standard,
            Variant::StandardNoPad,
            Variant::TrailingBits,
        ]),
    ) {
        let parts: Vec<String> = segments(valid())
            .iter()
            .zip(which)
            .map(|(s, respelt)| if respelt { respell(s, variant) } else { (*s).to_owned() })
            .collect();
        let token = parts.join(".");
        let result = check(&token);
        if token == valid() {
            prop_assert!(result.is_ok(), "identical spelling refused: {result:?}");
        } else {
            prop_assert!(
                matches!(result, Err(VerifyError::Malformed(_))),
                "{variant:?} on {which:?}: {result:?}"
            );
        }
    }

    /// Any claim changed under the original signature fails the signature.
    #[test]
    fn any_claim_changed_under_the_old_signature_is_refused(edit in edit()) {
        let [h, _, s] = segments(valid());
        let token = format!("{h}.{}.{s}", b64(apply(&edit).as_bytes()));
        prop_assert_eq!(check(&token), Err(VerifyError::Signature(KeyVersion::FIRST)));
    }
}

proptest! {
    // Each case signs with RSA-3072, so fewer of them.
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any claim changed and re-signed with the product's own key is still
    /// refused, by the claim checks rather than the signature.
    #[test]
    fn any_claim_changed_and_resigned_is_refused(edit in edit()) {
        let result = check(&sign(HEADER, &apply(&edit)));
        prop_assert!(
            result.is_err() && !matches!(result, Err(VerifyError::Signature(_))),
            "{edit:?}: {result:?}"
        );
    }
}

#[test]
fn the_base64_variants_really_differ() {
    // Guards the property above against vacuity: the header has padding and
    // trailing bits, and the signature contains '-' or '_'.
    let [h, _, s] = segments(valid());
    assert_ne!(respell(h, Variant::UrlPadded), h);
    assert_ne!(respell(h, Variant::TrailingBits), h);
    assert!(
        s.contains(['-', '_']),
        "signature has no url-safe characters"
    );
}
