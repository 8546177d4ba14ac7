//! UTC calendar arithmetic and RFC 3339 text, the one copy every crate uses.
//!
//! Hand-written so that neither the static guard nor the emulator needs a
//! date crate: only UTC and the proleptic Gregorian calendar matter here.

use std::time::SystemTime;

/// `2024-05-01T12:00:00Z`: RFC 3339 in UTC, to the second.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let t = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
/// assert_eq!(entitled_verify::calendar::rfc3339(t), "2000-02-29T00:00:00Z");
/// ```
pub fn rfc3339(time: SystemTime) -> String {
    let (secs, _) = unix_parts(time);
    format_utc(secs, None)
}

/// `2024-05-01T12:00:00.123Z`: RFC 3339 in UTC, to the millisecond.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_735_689_600_042);
/// assert_eq!(entitled_verify::calendar::rfc3339_millis(t), "2025-01-01T00:00:00.042Z");
/// ```
pub fn rfc3339_millis(time: SystemTime) -> String {
    let (secs, millis) = unix_parts(time);
    format_utc(secs, Some(millis))
}

/// Days since 1970-01-01 for a civil date (Howard Hinnant's `days_from_civil`).
///
/// ```
/// assert_eq!(entitled_verify::calendar::days_from_civil(2000, 3, 1), 11_017);
/// ```
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) for days since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
///
/// ```
/// assert_eq!(entitled_verify::calendar::civil_from_days(11_016), (2000, 2, 29));
/// ```
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds since the epoch (negative before it) and the milliseconds past.
fn unix_parts(time: SystemTime) -> (i64, u32) {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
        Err(e) => {
            let d = e.duration();
            let millis = d.subsec_millis();
            if millis == 0 {
                (-(d.as_secs() as i64), 0)
            } else {
                (-(d.as_secs() as i64) - 1, 1000 - millis)
            }
        }
    }
}

fn format_utc(secs: i64, millis: Option<u32>) -> String {
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    match millis {
        Some(ms) => format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z"),
        None => format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn rfc3339_matches_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_164_799, "2024-02-28T23:59:59Z"),
            (1_709_251_199, "2024-02-29T23:59:59Z"),
            (1_735_689_600, "2025-01-01T00:00:00Z"),
            (1_893_456_000, "2030-01-01T00:00:00Z"),
            (4_102_444_800, "2100-01-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ];
        for (secs, want) in cases {
            assert_eq!(rfc3339(at(secs)), want, "{secs}");
        }
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH - Duration::from_secs(1)),
            "1969-12-31T23:59:59Z"
        );
        let before = SystemTime::UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(rfc3339_millis(before), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn days_and_dates_round_trip() {
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }
}
