//! Logging to stderr, one line per event, in one shape for every binary:
//! text for people (`TIME PROGRAM: [error: |warning: ]MESSAGE`) or one JSON
//! object per line for log pipelines (`time`, `level`, `program`, `event`,
//! `message`, then the event's own fields). Credentials and tokens are
//! never passed here.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use entitled_verify::calendar::rfc3339_millis;
use serde_json::{Map, Value};

use crate::rate_limit::{RateLimit, Verdict};

/// How lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// `TIME program: message`, for people.
    #[default]
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// How much is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors, and the warnings a seller must act on.
    Quiet,
    /// Errors, warnings, retries and the lifecycle lines.
    Normal,
    /// Also the details each program names in its `-v` help line.
    Verbose,
}

/// The severity of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// A failure.
    Error,
    /// A warning the seller must act on before the next release, such as an
    /// expired key version: shown even with `-q`, since it is the one line
    /// that must not be missed.
    Urgent,
    /// A retried failure, or something skipped.
    Warn,
    /// Lifecycle: the success line, start and stop.
    Info,
    /// Details shown with `-v`.
    Debug,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Urgent | Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    fn shown_at(self, verbosity: Verbosity) -> bool {
        match self {
            Level::Error | Level::Urgent => true,
            Level::Warn | Level::Info => verbosity >= Verbosity::Normal,
            Level::Debug => verbosity >= Verbosity::Verbose,
        }
    }
}

/// Writes log lines to stderr. Cheap to copy into callbacks.
///
/// ```
/// use entitled_shell::{Format, Level, Logger, Verbosity};
/// let logger = Logger { program: "demo", format: Format::Json, verbosity: Verbosity::Quiet };
/// // Below the verbosity: nothing is written.
/// logger.log(Level::Info, "started", "listening", &[]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Logger {
    /// The program, as every line names it.
    pub program: &'static str,
    /// Text or JSON.
    pub format: Format,
    /// What is shown.
    pub verbosity: Verbosity,
}

/// The error lines written and held back, for the whole process: callbacks
/// on several threads share it.
static ERRORS: Mutex<RateLimit> = Mutex::new(RateLimit::new());

impl Logger {
    /// Writes one event: `event` is a stable machine name, `message` the
    /// human sentence, `fields` the event's structured members (the text
    /// format omits them). An error line identical to the last one written
    /// less than ten seconds before is held back and counted; the count
    /// goes out with the next line (field `repeated`).
    pub fn log(&self, level: Level, event: &str, message: &str, fields: &[(&str, Value)]) {
        if !level.shown_at(self.verbosity) {
            return;
        }
        let now = SystemTime::now();
        let mut lines = String::new();
        let mut repeated = 0;
        if level == Level::Error {
            let key = format!("{event}\n{message}");
            // A poisoned lock only means another thread panicked mid-line;
            // the count is still usable.
            let verdict = ERRORS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .admit(&key, Instant::now());
            match verdict {
                Verdict::Hold => return,
                Verdict::Write {
                    repeated: n,
                    previous,
                } => {
                    repeated = n;
                    if let Some((key, held)) = previous {
                        let (event, message) = key.split_once('\n').unwrap_or(("", &key));
                        lines.push_str(&self.held_line(event, message, held, now));
                    }
                }
            }
        }
        lines.push_str(&self.render(level, event, message, fields, repeated, now));
        // One write for the lines, so concurrent writers never interleave
        // within a line. A closed stderr must not stop the program.
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(lines.as_bytes());
        let _ = err.flush();
    }

    /// The line that reports error lines held back before a different one.
    fn held_line(&self, event: &str, message: &str, held: u64, now: SystemTime) -> String {
        self.render(Level::Error, event, message, &[], held, now)
    }

    fn render(
        &self,
        level: Level,
        event: &str,
        message: &str,
        fields: &[(&str, Value)],
        repeated: u64,
        now: SystemTime,
    ) -> String {
        let time = rfc3339_millis(now);
        match self.format {
            Format::Text => {
                let prefix = match level {
                    Level::Error => "error: ",
                    Level::Urgent | Level::Warn => "warning: ",
                    Level::Info | Level::Debug => "",
                };
                let count = match repeated {
                    0 => String::new(),
                    n => format!(" (and {n} more time(s) not shown)"),
                };
                // Messages are single lines; make sure of it.
                let message = message.replace(['\n', '\r'], " ");
                format!("{time} {}: {prefix}{message}{count}\n", self.program)
            }
            Format::Json => {
                let mut object = Map::new();
                object.insert("time".into(), Value::String(time));
                object.insert("level".into(), Value::String(level.name().into()));
                object.insert("program".into(), Value::String(self.program.into()));
                object.insert("event".into(), Value::String(event.into()));
                object.insert("message".into(), Value::String(message.into()));
                for (key, value) in fields {
                    object.insert((*key).into(), value.clone());
                }
                if repeated > 0 {
                    object.insert("repeated".into(), Value::from(repeated));
                }
                let mut line = Value::Object(object).to_string();
                line.push('\n');
                line
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn logger(format: Format) -> Logger {
        Logger {
            program: "demo",
            format,
            verbosity: Verbosity::Normal,
        }
    }

    #[test]
    fn json_lines_are_one_object_each() {
        let line = logger(Format::Json).render(
            Level::Warn,
            "retry",
            "a \"quoted\"\nmessage",
            &[("attempt", Value::from(2))],
            0,
            at(0),
        );
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["time"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["level"], "warn");
        assert_eq!(v["program"], "demo");
        assert_eq!(v["event"], "retry");
        assert_eq!(v["message"], "a \"quoted\"\nmessage");
        assert_eq!(v["attempt"], 2);
        assert_eq!(v.get("repeated"), None);
    }

    #[test]
    fn text_lines_start_with_the_time_and_stay_on_one_line() {
        let line = logger(Format::Text).render(Level::Error, "e", "two\nlines", &[], 0, at(0));
        assert_eq!(line, "1970-01-01T00:00:00.000Z demo: error: two lines\n");
        let line = logger(Format::Text).render(Level::Info, "e", "up", &[], 0, at(1));
        assert_eq!(line, "1970-01-01T00:00:01.000Z demo: up\n");
    }

    #[test]
    fn a_count_of_held_lines_goes_with_the_line() {
        let line = logger(Format::Text).render(Level::Error, "e", "full", &[], 3, at(0));
        assert!(
            line.ends_with("error: full (and 3 more time(s) not shown)\n"),
            "{line}"
        );
        let line = logger(Format::Json).render(Level::Error, "e", "full", &[], 3, at(0));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["repeated"], 3);
    }

    #[test]
    fn quiet_shows_errors_only() {
        assert!(Level::Error.shown_at(Verbosity::Quiet));
        assert!(Level::Urgent.shown_at(Verbosity::Quiet));
        assert!(!Level::Warn.shown_at(Verbosity::Quiet));
        assert!(Level::Info.shown_at(Verbosity::Normal));
        assert!(!Level::Debug.shown_at(Verbosity::Normal));
        assert!(Level::Debug.shown_at(Verbosity::Verbose));
    }
}
