//! `GET /metrics` in the Prometheus text format.

use std::fmt::Write as _;

use entitled::meter::{MeterMetrics, MeterStatus, Verification};

/// Renders the meter's counters and state.
pub fn render(m: &MeterMetrics, s: &MeterStatus) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: Vec<(String, u64)>| {
        let _ = writeln!(out, "# HELP entitled_meter_{name} {help}");
        let _ = writeln!(out, "# TYPE entitled_meter_{name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "entitled_meter_{name}{labels} {v}");
        }
    };
    let by = |label: &str, map: &std::collections::BTreeMap<String, u64>| {
        map.iter()
            .map(|(k, v)| (format!("{{{label}=\"{}\"}}", escape(k)), *v))
            .collect::<Vec<_>>()
    };
    metric(
        "records_accepted_total",
        "counter",
        "Usage records acknowledged (durable in the journal).",
        vec![(String::new(), m.records_accepted)],
    );
    metric(
        "quantity_reported_total",
        "counter",
        "Quantity accepted by MeterUsage, per dimension.",
        by("dimension", &m.quantity_reported),
    );
    metric(
        "meter_usage_calls_total",
        "counter",
        "MeterUsage calls by outcome.",
        by("outcome", &m.calls),
    );
    metric(
        "lost_quantity_total",
        "counter",
        "Quantity that could not be reported (window passed or refused), per dimension.",
        by("dimension", &m.lost_quantity),
    );
    metric(
        "journal_bytes",
        "gauge",
        "Size of the journal file.",
        vec![(String::new(), m.journal_bytes)],
    );
    let mut pending = std::collections::BTreeMap::new();
    for p in &s.pending {
        *pending.entry(p.dimension.clone()).or_default() += p.quantity;
    }
    metric(
        "pending_quantity",
        "gauge",
        "Quantity recorded but not yet reported, per dimension.",
        by("dimension", &pending),
    );
    metric(
        "idempotent_replays_total",
        "counter",
        "Requests acknowledged again by their Idempotency-Key, without adding usage.",
        vec![(String::new(), m.idempotent_replays)],
    );
    metric(
        "journal_failing",
        "gauge",
        "1 while the last journal write failed (records are refused), else 0.",
        vec![(String::new(), u64::from(s.journal_failing))],
    );
    metric(
        "stopped",
        "gauge",
        "1 once a refusal stopped all reporting (see /v1/status), else 0.",
        vec![(String::new(), u64::from(s.stopped.is_some()))],
    );
    metric(
        "last_report_timestamp_seconds",
        "gauge",
        "When MeterUsage last accepted a report (Unix seconds); 0 before the first.",
        vec![(String::new(), s.last_report.unwrap_or(0))],
    );
    metric(
        "accept_errors_total",
        "counter",
        "Failed accepts (out of file descriptors, most often), each followed by a backoff.",
        vec![(
            String::new(),
            crate::counters::ACCEPT_ERRORS.load(std::sync::atomic::Ordering::Relaxed),
        )],
    );
    // No sample until AWS has answered: "unknown" must not read as entitled.
    let answered = s.verification != Verification::Unknown;
    metric(
        "entitled",
        "gauge",
        "0 after CustomerNotEntitledException, 1 once AWS accepted a DryRun or a report; absent until AWS answers.",
        answered
            .then(|| (String::new(), u64::from(s.entitled)))
            .into_iter()
            .collect(),
    );
    metric(
        "verified",
        "gauge",
        "1 once AWS has answered the start-up DryRun check or a report (verified or not entitled), 0 while unknown.",
        vec![(String::new(), u64::from(answered))],
    );
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
