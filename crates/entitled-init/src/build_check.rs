//! Build-time checks on the values a seller compiles in.
//!
//! This file is shared: `build.rs` includes it to refuse a bad product code
//! or key while building, and the crate includes it so the same rules are
//! unit-tested. It must stay free of dependencies.

/// RegisterUsage's rule for product codes: 1-255 characters of letters,
/// digits and `-/=:_.@`.
pub fn check_product_code(code: &str) -> Result<(), String> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-/=:_.@".contains(&b);
    if code.is_empty() || code.len() > 255 || !code.bytes().all(allowed) {
        return Err(format!(
            "ENTITLED_PRODUCT_CODE={code:?} is not a valid product code: 1-255 characters of letters, digits and -/=:_.@; copy it from the AWS Marketplace Management Portal"
        ));
    }
    Ok(())
}

/// Key versions are RegisterUsage's `PublicKeyVersion`: an integer from 1.
pub fn check_key_version(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(v) if v >= 1 && v <= i32::MAX as u32 => Ok(v),
        _ => Err(format!(
            "ENTITLED_PUBLIC_KEY_VERSION={text:?} is not a key version: use the integer (from 1) AWS Marketplace gave with the key"
        )),
    }
}

/// The rsaEncryption OID, 1.2.840.113549.1.1.1, as DER content bytes.
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Checks that `pem` is a PEM `PUBLIC KEY` (SPKI, RSA) or `RSA PUBLIC KEY`
/// block. The library parses it fully at start-up; this catches the usual
/// mistakes (a private key, a certificate, a truncated copy) at build time.
pub fn check_public_key_pem(pem: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(pem).map_err(|_| "the key file is not PEM text".to_string())?;
    if text.contains("PRIVATE KEY-----") {
        return Err("the key file holds a PRIVATE key; compile in the product's PUBLIC key from AWS Marketplace".into());
    }
    let (label, body) = pem_body(text).ok_or_else(|| {
        "the key file has no PEM \"PUBLIC KEY\" block; use the key AWS Marketplace gave for this product".to_string()
    })?;
    let der = base64_decode(&body).ok_or_else(|| {
        "the PEM block is not valid base64; copy the key again, whole".to_string()
    })?;
    if der.first() != Some(&0x30) || der.len() < 140 {
        return Err("the PEM block is not a DER public key; use the key AWS Marketplace gave for this product".into());
    }
    if label == "PUBLIC KEY"
        && !der
            .windows(RSA_ENCRYPTION_OID.len())
            .any(|w| w == RSA_ENCRYPTION_OID)
    {
        return Err("the public key is not an RSA key; AWS Marketplace signs RegisterUsage tokens with RSA (PS256)".into());
    }
    Ok(())
}

/// The label and base64 body of the first `PUBLIC KEY` or `RSA PUBLIC KEY` block.
fn pem_body(text: &str) -> Option<(&'static str, String)> {
    for label in ["PUBLIC KEY", "RSA PUBLIC KEY"] {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(start) = text.find(&begin) {
            let rest = &text[start + begin.len()..];
            let stop = rest.find(&end)?;
            let body: String = rest[..stop]
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            return Some((label, body));
        }
    }
    None
}

/// Standard base64 with padding, as PEM uses.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}
