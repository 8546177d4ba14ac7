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

/// One event.
///
/// ```
/// let e = entitled::meter::MeterEvent::error("LOST usage");
/// assert_eq!(e.level, entitled::meter::EventLevel::Error);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterEvent {
    /// The level.
    pub level: EventLevel,
    /// The message, one line.
    pub message: String,
}

impl MeterEvent {
    /// An info event.
    pub fn info(message: impl Into<String>) -> Self {
        MeterEvent {
            level: EventLevel::Info,
            message: message.into(),
        }
    }

    /// An error event.
    pub fn error(message: impl Into<String>) -> Self {
        MeterEvent {
            level: EventLevel::Error,
            message: message.into(),
        }
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
