//! PEM armour: the first `-----BEGIN <label>-----` block and its base64 body.

use base64::Engine as _;

/// Why no PEM block could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PemError {
    /// No complete `BEGIN`/`END` pair (or the bytes are not text).
    NoBlock,
    /// The body between the markers is not standard, padded base64.
    BadBase64,
}

/// A decoded PEM block.
pub(crate) struct Block<'a> {
    pub label: &'a str,
    pub der: Vec<u8>,
}

/// Finds the first PEM block and decodes its body. Whitespace inside the
/// body (line breaks, CRLF) is ignored, as RFC 7468 allows.
pub(crate) fn first_block(bytes: &[u8]) -> Result<Block<'_>, PemError> {
    let text = std::str::from_utf8(bytes).map_err(|_| PemError::NoBlock)?;
    let (label, body) = find_block(text).ok_or(PemError::NoBlock)?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| PemError::BadBase64)?;
    Ok(Block { label, der })
}

fn find_block(text: &str) -> Option<(&str, String)> {
    let begin = text.find("-----BEGIN ")?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----")?;
    let label = &after_begin[..label_end];
    let body_and_rest = &after_begin[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_rest.find(&end_marker)?;
    let body: String = body_and_rest[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    Some((label, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_block_is_decoded_and_broken_armour_refused() {
        let block =
            first_block(b"junk\n-----BEGIN X-----\nAAEC\r\nAw==\n-----END X-----\n").unwrap();
        assert_eq!(
            (block.label, block.der.as_slice()),
            ("X", &[0, 1, 2, 3][..])
        );
        assert_eq!(
            first_block(b"-----BEGIN X-----\nAAEC\n").err(),
            Some(PemError::NoBlock)
        );
        assert_eq!(
            first_block(b"-----BEGIN X-----\nA!EC\n-----END X-----").err(),
            Some(PemError::BadBase64)
        );
        assert_eq!(first_block(&[0xff, 0xfe]).err(), Some(PemError::NoBlock));
    }
}
