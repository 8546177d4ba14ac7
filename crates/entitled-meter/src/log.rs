//! The meter's events as log lines, in the shape every binary shares.

use entitled::meter::{EventLevel, MeterEvent};
use entitled_shell::{Level, Logger};
use serde_json::Value;

/// Logs one of the library's events: errors always, reports with `-v`.
pub fn event(logger: &Logger, event: &MeterEvent) {
    let level = match event.level {
        EventLevel::Error => Level::Error,
        EventLevel::Info => Level::Debug,
    };
    let mut fields = Vec::new();
    if let Some(dimension) = &event.dimension {
        fields.push(("dimension", Value::from(dimension.as_str())));
    }
    if let Some(hour) = event.hour {
        fields.push(("hour", Value::from(entitled::meter::rfc3339(hour))));
    }
    if let Some(quantity) = event.quantity {
        fields.push(("quantity", Value::from(quantity)));
    }
    if let Some(reason) = &event.reason {
        fields.push(("reason", Value::from(reason.as_str())));
    }
    logger.log(level, event.name, &event.message, &fields);
}
