//! PEM armour (RFC 7468): the workspace's one PEM reader and writer.
//!
//! The library reads product keys with it, the library's HTTP client writes
//! trust roots with it, and the emulator can read and write its keys with it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Why no PEM block could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    /// No complete `BEGIN`/`END` pair (or the bytes are not text).
    #[error("no complete PEM block (-----BEGIN ...----- to -----END ...-----)")]
    NoBlock,
    /// The body between the markers is not standard, padded base64.
    #[error("the PEM block is not valid base64")]
    BadBase64,
}

/// A decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The label, such as `PUBLIC KEY`.
    pub label: String,
    /// The decoded body.
    pub der: Vec<u8>,
}

/// Decodes the first PEM block, whatever its label. Whitespace inside the
/// body (line breaks, CRLF) is ignored, as RFC 7468 allows.
///
/// ```
/// use entitled_verify::pem;
/// let text = pem::encode("DATA", &[0, 1, 2, 3]);
/// assert_eq!(text, "-----BEGIN DATA-----\nAAECAw==\n-----END DATA-----\n");
/// let block = pem::decode_first(text.as_bytes()).unwrap();
/// assert_eq!((block.label.as_str(), block.der.as_slice()), ("DATA", &[0, 1, 2, 3][..]));
/// assert_eq!(pem::decode_first(b"no armour"), Err(pem::PemError::NoBlock));
/// ```
pub fn decode_first(bytes: &[u8]) -> Result<Block, PemError> {
    let text = std::str::from_utf8(bytes).map_err(|_| PemError::NoBlock)?;
    let begin = text.find("-----BEGIN ").ok_or(PemError::NoBlock)?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label = &after_begin[..after_begin.find("-----").ok_or(PemError::NoBlock)?];
    decode_after(&text[begin..], label)
}

/// Decodes the first PEM block labelled `label`, skipping blocks with other
/// labels.
pub fn decode_labelled(bytes: &[u8], label: &str) -> Result<Vec<u8>, PemError> {
    let text = std::str::from_utf8(bytes).map_err(|_| PemError::NoBlock)?;
    let begin = text
        .find(&format!("-----BEGIN {label}-----"))
        .ok_or(PemError::NoBlock)?;
    Ok(decode_after(&text[begin..], label)?.der)
}

/// `text` starts at a `BEGIN` line for `label`.
fn decode_after(text: &str, label: &str) -> Result<Block, PemError> {
    let body_and_rest = &text["-----BEGIN ".len() + label.len() + "-----".len()..];
    let end = body_and_rest
        .find(&format!("-----END {label}-----"))
        .ok_or(PemError::NoBlock)?;
    let body: String = body_and_rest[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD.decode(body).map_err(|_| PemError::BadBase64)?;
    Ok(Block {
        label: label.to_owned(),
        der,
    })
}

/// Formats `der` as a PEM block with 64-column lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_block_is_decoded_and_broken_armour_refused() {
        let block =
            decode_first(b"junk\n-----BEGIN X-----\nAAEC\r\nAw==\n-----END X-----\n").unwrap();
        assert_eq!(
            (block.label.as_str(), block.der.as_slice()),
            ("X", &[0, 1, 2, 3][..])
        );
        assert_eq!(
            decode_first(b"-----BEGIN X-----\nAAEC\n").err(),
            Some(PemError::NoBlock)
        );
        assert_eq!(
            decode_first(b"-----BEGIN X-----\nA!EC\n-----END X-----").err(),
            Some(PemError::BadBase64)
        );
        assert_eq!(decode_first(&[0xff, 0xfe]).err(), Some(PemError::NoBlock));
    }

    #[test]
    fn a_labelled_block_is_found_past_others_and_round_trips() {
        let der: Vec<u8> = (0..=255).collect();
        let text = format!("{}{}", encode("OTHER", &[9]), encode("WANTED", &der));
        assert!(text.lines().all(|l| l.len() <= 64));
        assert_eq!(decode_labelled(text.as_bytes(), "WANTED"), Ok(der));
        assert_eq!(
            decode_labelled(text.as_bytes(), "MISSING"),
            Err(PemError::NoBlock)
        );
    }
}
