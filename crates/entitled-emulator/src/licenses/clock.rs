//! The licence clock: wall-clock time plus an offset that only moves forward
//! (`POST /_emulator/clock`), so a test can pass a 60-minute time-to-live without waiting.
//!
//! It governs licence validity, consumption expiry and License Manager tokens only. SigV4's
//! request-time check and the metering windows keep the real clock: moving them would refuse
//! every signed request.

use std::sync::atomic::{AtomicU64, Ordering};

use entitled_verify::calendar::days_from_civil;

/// Wall-clock time plus the offset tests have added.
#[derive(Debug, Default)]
pub(crate) struct LicenseClock {
    offset: AtomicU64,
}

impl LicenseClock {
    /// Epoch seconds on the licence clock.
    pub fn now(&self) -> u64 {
        crate::clock::now_epoch().saturating_add(self.offset.load(Ordering::SeqCst))
    }

    /// Moves the clock forward by `seconds`; returns the total offset.
    pub fn advance(&self, seconds: u64) -> u64 {
        self.offset.fetch_add(seconds, Ordering::SeqCst) + seconds
    }

    /// Seconds the licence clock is ahead of the wall clock.
    pub fn offset(&self) -> u64 {
        self.offset.load(Ordering::SeqCst)
    }
}

/// Parses an ISO 8601 / RFC 3339 timestamp leniently: `YYYY-MM-DDTHH:MM:SS`, optional
/// fraction, then `Z`, an offset `+HH:MM`, or nothing (read as UTC, as some License Manager
/// answers are). `None` for anything else or a time before 1970.
pub(crate) fn parse_timestamp(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "" | "Z" => 0,
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let (zh, zm) = zone[1..].split_once(':')?;
            if zh.len() != 2 || zm.len() != 2 {
                return None;
            }
            sign * (zh.parse::<i64>().ok()? * 3600 + zm.parse::<i64>().ok()? * 60)
        }
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_leniently() {
        let cases = [
            ("2030-01-01T00:00:00Z", Some(1_893_456_000)),
            ("2030-01-01T00:00:00", Some(1_893_456_000)),
            ("2030-01-01T00:00:00.123Z", Some(1_893_456_000)),
            ("2030-01-01T01:00:00+01:00", Some(1_893_456_000)),
            ("2029-12-31T23:00:00-01:00", Some(1_893_456_000)),
            ("2030-13-01T00:00:00Z", None),
            ("2030-01-01 00:00:00Z", None),
            ("1893456000", None),
            ("2030-01-01T00:00:00X", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_timestamp(text), want, "{text}");
        }
    }

    #[test]
    fn the_clock_only_moves_forward_by_what_was_asked() {
        let clock = LicenseClock::default();
        let before = clock.now();
        assert_eq!(clock.advance(3600), 3600);
        assert_eq!(clock.advance(60), 3660);
        assert!(clock.now() >= before + 3660);
        assert_eq!(clock.offset(), 3660);
    }
}
