//! What the meter tells the operator: one-line events the application logs its own way.

use std::sync::Arc;

/// How serious an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventLevel {
    /// Routine: a report went through.
    Info,
    /// Something an operator must see: lost usage, a duplicate, a refusal.
    Error,
}

/// One event: a stable name, a one-line message and, when the event is
/// about usage, its dimension, hour and quantity, so that a log pipeline can
/// key on them without parsing the message.
///
/// ```
/// let e = entitled::meter::MeterEvent::error("lost", "LOST usage").usage("users", 3600, 4);
/// assert_eq!(e.level, entitled::meter::EventLevel::Error);
/// assert_eq!((e.name, e.dimension.as_deref(), e.hour, e.quantity), ("lost", Some("users"), Some(3600), Some(4)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MeterEvent {
    /// The level.
    pub level: EventLevel,
    /// A stable machine name: `reported`, `duplicate`, `lost`, `not_entitled`, `refused`,
    /// `skipped`; from the start-up check, `verified`, `not_verified` and
    /// `dry_run_recorded`.
    pub name: &'static str,
    /// The message, one line.
    pub message: String,
    /// The dimension the event is about, if any.
    pub dimension: Option<String>,
    /// The UTC hour (Unix seconds of its start) the event is about, if any.
    pub hour: Option<u64>,
    /// The quantity the event is about, if any.
    pub quantity: Option<u64>,
    /// The refusal's code (`CustomerNotEntitledException`, `NoRegion`...), if any.
    pub reason: Option<String>,
}

impl MeterEvent {
    /// An info event.
    pub fn info(name: &'static str, message: impl Into<String>) -> Self {
        Self::new(EventLevel::Info, name, message.into())
    }

    /// An error event.
    pub fn error(name: &'static str, message: impl Into<String>) -> Self {
        Self::new(EventLevel::Error, name, message.into())
    }

    fn new(level: EventLevel, name: &'static str, message: String) -> Self {
        MeterEvent {
            level,
            name,
            message,
            dimension: None,
            hour: None,
            quantity: None,
            reason: None,
        }
    }

    /// The usage the event is about.
    pub fn usage(mut self, dimension: &str, hour: u64, quantity: u64) -> Self {
        self.dimension = Some(dimension.to_owned());
        self.hour = Some(hour);
        self.quantity = Some(quantity);
        self
    }

    /// The refusal's code.
    pub fn reason(mut self, code: impl Into<String>) -> Self {
        self.reason = Some(code.into());
        self
    }
}

/// Where events go; by default errors are written to stderr.
#[derive(Clone)]
pub(crate) struct EventHook(pub Arc<dyn Fn(&MeterEvent) + Send + Sync>);

impl Default for EventHook {
    fn default() -> Self {
        EventHook(Arc::new(|e: &MeterEvent| {
            if e.level == EventLevel::Error {
                eprintln!("entitled::meter: {}", e.message);
            }
        }))
    }
}

impl EventHook {
    pub fn emit(&self, event: MeterEvent) {
        (self.0)(&event);
    }
}
