//! The log line shape every binary shares, as tests check it: text lines start with the
//! time; JSON lines are one object with `time`, `level`, `program`, `event` and `message`.

use serde_json::Value;

/// The members every JSON line has.
pub const MEMBERS: [&str; 5] = ["time", "level", "program", "event", "message"];

/// Fails the test unless `time` is RFC 3339, UTC, with milliseconds:
/// `2026-12-05T16:01:12.123Z`.
///
/// ```
/// entitled_test_support::log::assert_time("2026-12-05T16:01:12.123Z");
/// assert!(std::panic::catch_unwind(|| entitled_test_support::log::assert_time("2026-12-05T16:01:12Z")).is_err());
/// ```
pub fn assert_time(time: &str) {
    let b = time.as_bytes();
    let digits = [0..4, 5..7, 8..10, 11..13, 14..16, 17..19, 20..23];
    assert!(
        time.len() == 24
            && (b[4], b[7], b[10], b[13], b[16], b[19], b[23])
                == (b'-', b'-', b'T', b':', b':', b'.', b'Z')
            && digits
                .iter()
                .all(|r| b[r.clone()].iter().all(u8::is_ascii_digit)),
        "not an RFC 3339 UTC time with milliseconds: {time:?}"
    );
}

/// A text log line without the time it must start with.
///
/// ```
/// let line = "2026-12-05T16:01:12.123Z entitled: error: no COMMAND given";
/// assert_eq!(entitled_test_support::log::after_time(line), "entitled: error: no COMMAND given");
/// ```
pub fn after_time(line: &str) -> &str {
    let (time, rest) = line
        .split_once(' ')
        .unwrap_or_else(|| panic!("a log line starts with the time: {line:?}"));
    assert_time(time);
    rest
}

/// Every line of `stderr` as JSON, each checked for the shared members, `program` and the
/// time. Fails the test on the first line that is not.
///
/// ```
/// let stderr = r#"{"time":"2026-12-05T16:01:12.123Z","level":"info","program":"demo","event":"started","message":"up"}"#;
/// let lines = entitled_test_support::log::json_lines(stderr, "demo");
/// assert_eq!(lines[0]["event"], "started");
/// ```
pub fn json_lines(stderr: &str, program: &str) -> Vec<Value> {
    assert!(!stderr.is_empty(), "no log line");
    stderr
        .lines()
        .map(|line| {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            for key in MEMBERS {
                assert!(v[key].is_string(), "{key} missing: {line}");
            }
            assert_eq!(v["program"], program, "{line}");
            assert_time(v["time"].as_str().unwrap());
            v
        })
        .collect()
}
