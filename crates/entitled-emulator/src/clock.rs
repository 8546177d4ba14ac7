//! Wall-clock helpers: epoch seconds, SigV4 `X-Amz-Date` parsing and RFC 3339 formatting.
//!
//! The calendar arithmetic is `entitled_verify::calendar`'s, the one copy in the workspace.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub(crate) fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds since the Unix epoch as a float, now.
pub(crate) fn now_epoch_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

use entitled_verify::calendar::days_from_civil;

/// Parses a SigV4 basic-format timestamp such as `20240102T030405Z`.
pub(crate) fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(se);
    u64::try_from(secs).ok()
}

/// Formats epoch seconds as RFC 3339 UTC, e.g. `2030-01-01T00:00:00Z`.
pub(crate) fn rfc3339(epoch: u64) -> String {
    entitled_verify::calendar::rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(epoch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20300101T000000Z"), Some(1_893_456_000));
        assert_eq!(rfc3339(1_893_456_000), "2030-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse_amz_date("2030-01-01T00:00:00Z"), None);
        assert_eq!(parse_amz_date("20301301T000000Z"), None);
    }
}
