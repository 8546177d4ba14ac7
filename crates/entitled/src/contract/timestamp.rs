//! License Manager's `IssuedAt` and `Expiration` strings. The model says
//! ISO 8601, but answers seen in the wild also carry a zone-less time
//! (`2020-12-01T00:47:35`, read as UTC) and epoch seconds in a string: parse
//! leniently, then compare strictly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use entitled_verify::calendar::days_from_civil;

/// The instant a License Manager timestamp names, or `None` if it names none.
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return epoch(text);
    }
    iso8601(text)
}

fn epoch(text: &str) -> Option<SystemTime> {
    let seconds: f64 = crate::contract::request::amount(text)?;
    // Milliseconds since the epoch are 13 digits today; seconds are 10.
    let seconds = if seconds > 1e11 {
        seconds / 1000.0
    } else {
        seconds
    };
    UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(seconds).ok()?)
}

fn iso8601(text: &str) -> Option<SystemTime> {
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut date_parts = date.split('-');
    let year: i64 = number(date_parts.next()?, 4)?;
    let month: u32 = number(date_parts.next()?, 2)?;
    let day: u32 = number(date_parts.next()?, 2)?;
    if date_parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (time, offset_secs) = split_zone(rest)?;
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock_parts = clock.split(':');
    let hour: i64 = number(clock_parts.next()?, 2)?;
    let minute: i64 = number(clock_parts.next()?, 2)?;
    let second: i64 = clock_parts.next().map_or(Some(0), |s| number(s, 2))?;
    if clock_parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let nanos = fraction_nanos(fraction)?;
    let days = days_from_civil(year, month, day);
    let total = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    let total = u64::try_from(total).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(total, nanos))
}

/// The time of day and its zone's offset east of UTC in seconds; none is UTC.
fn split_zone(rest: &str) -> Option<(&str, i64)> {
    if let Some(time) = rest.strip_suffix(['Z', 'z']) {
        return Some((time, 0));
    }
    match rest.rfind(['+', '-']) {
        Some(at) => {
            let (time, zone) = rest.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let zone = &zone[1..];
            let (h, m) = zone
                .split_once(':')
                .unwrap_or((zone.get(..2)?, zone.get(2..)?));
            let h: i64 = number(h, 2)?;
            let m: i64 = number(m, 2)?;
            Some((time, sign * (h * 3600 + m * 60)))
        }
        None => Some((rest, 0)),
    }
}

fn number<T: std::str::FromStr>(text: &str, width: usize) -> Option<T> {
    if text.len() != width || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn fraction_nanos(fraction: &str) -> Option<u32> {
    if fraction.is_empty() {
        return Some(0);
    }
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{fraction:0<9}");
    padded.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_seen_names_the_same_instant_and_nonsense_names_none() {
        let at = UNIX_EPOCH + Duration::from_secs(1_606_783_655);
        for text in [
            "2020-12-01T00:47:35Z",
            "2020-12-01T00:47:35",
            "2020-12-01T00:47:35.000Z",
            "2020-12-01T01:47:35+01:00",
            "2020-11-30T23:47:35-0100",
            "1606783655",
            "1606783655000",
        ] {
            assert_eq!(parse(text), Some(at), "{text}");
        }
        assert_eq!(
            parse("2020-12-01T00:47:35.5Z"),
            Some(at + Duration::from_millis(500))
        );
        for text in [
            "",
            "tomorrow",
            "2020-13-01T00:00:00Z",
            "2020-12-01",
            "2020-12-01T25:00:00Z",
            "-5",
            "1e9",
            "2020-12-01T00:47:35.1234567890Z",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
