//! Just enough DER to read an RSA public key. The key comes from a file the
//! seller controls, but it is still untrusted input: every read is bounds
//! checked and every malformed length is an error, never a panic.

/// A DER tag and its contents.
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;

/// DER content bytes of the rsaEncryption OID, 1.2.840.113549.1.1.1.
pub(crate) const RSA_ENCRYPTION_OID: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Reads consecutive TLVs from a byte slice.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads the next TLV, which must carry `tag`.
    pub fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        let tlv = self.next()?;
        (tlv.tag == tag).then_some(tlv.value)
    }

    fn next(&mut self) -> Option<Tlv<'a>> {
        let (&tag, rest) = self.rest.split_first()?;
        let (len, rest) = read_length(rest)?;
        if rest.len() < len {
            return None;
        }
        let (value, rest) = rest.split_at(len);
        self.rest = rest;
        Some(Tlv { tag, value })
    }
}

/// Definite-length DER lengths only; anything longer than four length bytes
/// cannot describe a key we would accept.
fn read_length(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, rest) = bytes.split_first()?;
    if first < 0x80 {
        return Some((usize::from(first), rest));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > 4 || rest.len() < count {
        return None;
    }
    let (len_bytes, rest) = rest.split_at(count);
    let len = len_bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Some((len, rest))
}

/// Strips the sign-padding zero from a DER INTEGER, refusing negatives.
pub(crate) fn unsigned_integer(value: &[u8]) -> Option<&[u8]> {
    match value {
        [] => None,
        [first, ..] if first & 0x80 != 0 => None,
        [0, rest @ ..] if !rest.is_empty() => Some(rest),
        _ => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_form_lengths_are_read_and_overruns_refused() {
        let mut ok = Reader::new(&[0x02, 0x81, 0x01, 0x05]);
        assert_eq!(ok.expect(INTEGER), Some(&[0x05][..]));
        assert!(ok.is_empty());
        assert!(Reader::new(&[0x02, 0x82, 0xff, 0xff, 0x00])
            .expect(INTEGER)
            .is_none());
        assert!(Reader::new(&[0x02, 0x85, 1, 1, 1, 1, 1])
            .expect(INTEGER)
            .is_none());
        assert!(Reader::new(&[]).expect(INTEGER).is_none());
    }

    #[test]
    fn integers_lose_sign_padding_and_negatives_are_refused() {
        assert_eq!(unsigned_integer(&[0, 0x80]), Some(&[0x80][..]));
        assert_eq!(unsigned_integer(&[0]), Some(&[0][..]));
        assert_eq!(unsigned_integer(&[0x80]), None);
        assert_eq!(unsigned_integer(&[]), None);
    }
}
