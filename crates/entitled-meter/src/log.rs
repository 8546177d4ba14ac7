//! Log lines on stderr, as text or JSON, at three verbosities.

use std::io::Write as _;

/// The line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    /// Errors and lifecycle (start, shutdown).
    Normal,
    /// Everything, each report included.
    Verbose,
}

/// A logger; cheap to copy into callbacks.
#[derive(Debug, Clone, Copy)]
pub struct Logger {
    pub format: Format,
    pub verbosity: Verbosity,
}

impl Logger {
    /// Writes one line if `needed` is within the verbosity.
    pub fn line(&self, needed: Verbosity, level: &str, message: &str) {
        if needed > self.verbosity {
            return;
        }
        let text = match self.format {
            Format::Text => format!("entitled-meter: {level}: {message}\n"),
            Format::Json => format!(
                "{}\n",
                serde_json::json!({"level": level, "message": message, "program": "entitled-meter"})
            ),
        };
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    pub fn error(&self, message: &str) {
        self.line(Verbosity::Quiet, "error", message);
    }

    pub fn info(&self, message: &str) {
        self.line(Verbosity::Normal, "info", message);
    }

    pub fn event(&self, event: &entitled::meter::MeterEvent) {
        match event.level {
            entitled::meter::EventLevel::Error => self.error(&event.message),
            entitled::meter::EventLevel::Info => {
                self.line(Verbosity::Verbose, "info", &event.message)
            }
        }
    }
}
