//! Durations on the command line: a whole number and a unit, such as
//! `500ms`, `20s`, `5m` or `1h`.

use std::time::Duration;

/// Parses `500ms`, `20s`, `5m` or `1h`. The unit is required, so `30`
/// cannot be misread as seconds when minutes were meant; zero is refused.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(entitled_shell::parse_duration("5m"), Ok(Duration::from_secs(300)));
/// assert!(entitled_shell::parse_duration("30").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let bad = || {
        format!("{text:?} is not a duration; write a whole number and a unit: 500ms, 20s, 5m or 1h")
    };
    if digits.is_empty() {
        return Err(bad());
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is too large a duration"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let millis = n
        .checked_mul(millis_per_unit)
        .filter(|&ms| ms <= MAX_MILLIS)
        .ok_or_else(|| format!("{text:?} is too large a duration; at most 1000h"))?;
    if millis == 0 {
        return Err(format!(
            "{text:?} is zero; a duration must be greater than zero"
        ));
    }
    Ok(Duration::from_millis(millis))
}

/// 1000 hours: far past AWS's advised 30 minutes, small enough that adding
/// it to `Instant::now()` can never overflow.
const MAX_MILLIS: u64 = 1000 * 3_600_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_unit() {
        let cases = [
            ("500ms", Duration::from_millis(500)),
            ("20s", Duration::from_secs(20)),
            ("5m", Duration::from_secs(300)),
            ("1h", Duration::from_secs(3600)),
            ("1000h", Duration::from_secs(3_600_000)),
            ("007s", Duration::from_secs(7)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for text in [
            "",
            "30",
            "s",
            "1.5s",
            "-1s",
            "+1s",
            "1 s",
            "1S",
            "1sec",
            "1d",
            "0s",
            "0ms",
            "1001h",
            "99999999999999999999s",
            "18446744073709551615h",
            "1h30m",
            " 1s",
        ] {
            assert!(parse_duration(text).is_err(), "{text:?} must be refused");
        }
    }
}
