//! Logging to stderr: one line per event, as text or as one JSON object per
//! line (for CloudWatch). Credentials and the token are never passed here.

use std::io::Write as _;
use std::time::SystemTime;

use serde_json::{Map, Value};

/// How lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// `entitled: message`, for people.
    #[default]
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// How much is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors, and the warnings a seller must act on (the key rotation).
    Quiet,
    /// Errors, warnings, retries and the success line.
    Normal,
    /// Also the resolved configuration and the program about to run.
    Verbose,
}

/// The severity of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// A failure that ends the guard.
    Error,
    /// A warning the seller must act on before the next release, such as an
    /// expired key version: shown even with `-q`, since it is the one line
    /// that must not be missed.
    Urgent,
    /// A retried failure, or something skipped.
    Warn,
    /// The success line.
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

/// Writes log lines to stderr. Cheap to copy into the retry hook.
#[derive(Clone, Copy, Debug)]
pub struct Logger {
    /// Text or JSON.
    pub format: Format,
    /// What is shown.
    pub verbosity: Verbosity,
}

impl Default for Logger {
    fn default() -> Self {
        Self {
            format: Format::Text,
            verbosity: Verbosity::Normal,
        }
    }
}

impl Logger {
    /// Writes one event: `event` is a stable machine name, `message` the
    /// human sentence, `fields` extra JSON members (text format omits them).
    pub fn log(&self, level: Level, event: &str, message: &str, fields: &[(&str, Value)]) {
        if !level.shown_at(self.verbosity) {
            return;
        }
        let line = self.render(level, event, message, fields, SystemTime::now());
        // One write per line, so concurrent writers never interleave within
        // a line. A closed stderr must not stop the guard, so errors are
        // ignored.
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }

    fn render(
        &self,
        level: Level,
        event: &str,
        message: &str,
        fields: &[(&str, Value)],
        now: SystemTime,
    ) -> String {
        match self.format {
            Format::Text => {
                let prefix = match level {
                    Level::Error => "error: ",
                    Level::Urgent | Level::Warn => "warning: ",
                    Level::Info | Level::Debug => "",
                };
                // Messages are single lines; make sure of it.
                format!("entitled: {prefix}{}\n", message.replace(['\n', '\r'], " "))
            }
            Format::Json => {
                let mut object = Map::new();
                object.insert("time".into(), Value::String(rfc3339_millis(now)));
                object.insert("level".into(), Value::String(level.name().into()));
                object.insert("event".into(), Value::String(event.into()));
                object.insert("message".into(), Value::String(message.into()));
                for (key, value) in fields {
                    object.insert((*key).into(), value.clone());
                }
                let mut line = Value::Object(object).to_string();
                line.push('\n');
                line
            }
        }
    }
}

// One RFC 3339 formatter for every crate: the verification crate's.
use entitled::calendar::rfc3339_millis;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn json_lines_are_one_object_each() {
        let logger = Logger {
            format: Format::Json,
            verbosity: Verbosity::Normal,
        };
        let line = logger.render(
            Level::Warn,
            "retry",
            "a \"quoted\"\nmessage",
            &[("attempt", Value::from(2))],
            at(0),
        );
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "warn");
        assert_eq!(v["event"], "retry");
        assert_eq!(v["attempt"], 2);
        assert_eq!(v["message"], "a \"quoted\"\nmessage");
        assert_eq!(v["time"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn text_lines_stay_on_one_line() {
        let logger = Logger {
            format: Format::Text,
            verbosity: Verbosity::Normal,
        };
        let line = logger.render(Level::Error, "e", "two\nlines", &[], at(0));
        assert_eq!(line, "entitled: error: two lines\n");
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
