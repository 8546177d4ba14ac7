//! What the meter shows the application: its state (entitled, stopped, pending usage, last
//! report and error) and counters for metrics.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::RejectReason;

/// Usage not yet reported for one hour and dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUsage {
    /// The hour's first second (epoch seconds, UTC).
    pub hour: u64,
    /// The dimension.
    pub dimension: String,
    /// The quantity not yet reported.
    pub quantity: u64,
}

/// The last failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    /// The [`RejectReason::code`] of a refusal (`InvalidProductCodeException`,
    /// `CredentialsRefused`, ...), `CustomerNotEntitledException`, the
    /// [`TransientCause::code`](crate::TransientCause::code) of a transient failure
    /// (`throttled`, `server_error`, `network`, ...), `duplicate` or `unsendable`.
    pub class: String,
    /// What AWS or the network said.
    pub message: String,
    /// When (epoch seconds).
    pub at: u64,
}

/// Whether AWS has said that this meter's reports would be accepted.
///
/// ```
/// use entitled::meter::{MeterStatus, Verification};
/// let s = MeterStatus::default();
/// assert_eq!(s.verification, Verification::Unknown);
/// // Until AWS answers, the status says "unknown", never "entitled".
/// assert_eq!(s.to_json()["entitled"], serde_json::Value::Null);
/// assert_eq!(s.to_json()["verification"], "unknown");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Verification {
    /// No answer yet: the start-up check timed out or failed transiently (it keeps trying),
    /// or was not asked for and no report has gone through.
    #[default]
    Unknown,
    /// A MeterUsage `DryRun` answered `DryRunOperation` for every dimension, or a report
    /// went through.
    Verified,
    /// AWS answered `CustomerNotEntitledException`.
    NotEntitled,
}

impl Verification {
    /// The name in `/v1/status`: `unknown`, `verified` or `not_entitled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Unknown => "unknown",
            Verification::Verified => "verified",
            Verification::NotEntitled => "not_entitled",
        }
    }
}

/// A snapshot of the meter's state.
///
/// ```
/// let s = entitled::meter::MeterStatus::default();
/// assert!(s.entitled && s.accepting && s.pending.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterStatus {
    /// False after `CustomerNotEntitledException` (from a report or the start-up check),
    /// until AWS accepts a report or a `DryRun` again. True before any answer: read it with
    /// [`MeterStatus::verification`], which says whether AWS has answered.
    pub entitled: bool,
    /// Whether AWS has answered yet; see [`Verification`]. While it is `Unknown`, the JSON
    /// shows `"entitled": null`.
    pub verification: Verification,
    /// True until shutdown begins.
    pub accepting: bool,
    /// Set when reporting stopped for the whole meter (product code, platform, access,
    /// Region, credentials), with the check's reason and AWS's message.
    pub stopped: Option<(RejectReason, String)>,
    /// Dimensions AWS refused (`InvalidUsageDimensionException`), with the message.
    pub refused_dimensions: BTreeMap<String, String>,
    /// Usage not yet reported.
    pub pending: Vec<PendingUsage>,
    /// When a report last succeeded (epoch seconds).
    pub last_report: Option<u64>,
    /// The last failed call.
    pub last_error: Option<LastError>,
    /// Whether the last journal write failed (disk full): records are refused until one
    /// succeeds.
    pub journal_failing: bool,
    /// Quantity written off as lost since start, per dimension.
    pub lost: BTreeMap<String, u64>,
}

impl MeterStatus {
    /// The exit code of a process that stops metering in this state with `left` still in the
    /// journal, from the check's table: 78 refused (the reason stopped the whole meter, or
    /// AWS refused a dimension that still has usage), 77 not entitled, 65 usage was lost,
    /// 75 records left for a restart, 0 nothing pending.
    ///
    /// ```
    /// use entitled::meter::{MeterStatus, PendingUsage};
    /// let left = [PendingUsage { hour: 0, dimension: "users".into(), quantity: 1 }];
    /// assert_eq!(MeterStatus::default().exit_code(&[]), 0);
    /// assert_eq!(MeterStatus::default().exit_code(&left), 75);
    /// let not_entitled = MeterStatus { entitled: false, ..MeterStatus::default() };
    /// assert_eq!(not_entitled.exit_code(&[]), 77);
    /// let mut refused = MeterStatus::default();
    /// refused.refused_dimensions.insert("users".into(), "no such dimension".into());
    /// assert_eq!(refused.exit_code(&left), 78);
    /// let mut lost = MeterStatus::default();
    /// lost.lost.insert("users".into(), 3);
    /// assert_eq!(lost.exit_code(&[]), 65);
    /// ```
    pub fn exit_code(&self, left: &[PendingUsage]) -> u8 {
        let refused = left
            .iter()
            .find_map(|p| self.refused_dimensions.get(&p.dimension));
        match (&self.stopped, refused) {
            (Some((reason, message)), _) => {
                return crate::CheckError::rejected(reason.clone(), message.clone()).exit_code()
            }
            (None, Some(message)) => {
                return crate::CheckError::rejected(
                    crate::RejectReason::InvalidUsageDimension,
                    message.clone(),
                )
                .exit_code()
            }
            (None, None) => {}
        }
        if !self.entitled {
            crate::CheckError::NotEntitled {
                product_code: String::new(),
                message: String::new(),
            }
            .exit_code()
        } else if self.lost.values().any(|q| *q > 0) {
            EXIT_USAGE_LOST
        } else if !left.is_empty() {
            EXIT_RECORDS_LEFT
        } else {
            0
        }
    }
}

/// Records left in the journal at shutdown: the check's "unavailable" code, for a restart
/// to report them (sysexits EX_TEMPFAIL).
const EXIT_RECORDS_LEFT: u8 = 75;
/// Usage was written off as lost since start (sysexits EX_DATAERR): no restart brings it
/// back, and an operator must see it.
const EXIT_USAGE_LOST: u8 = 65;

impl Default for MeterStatus {
    fn default() -> Self {
        MeterStatus {
            entitled: true,
            verification: Verification::Unknown,
            accepting: true,
            stopped: None,
            refused_dimensions: BTreeMap::new(),
            pending: Vec::new(),
            last_report: None,
            last_error: None,
            journal_failing: false,
            lost: BTreeMap::new(),
        }
    }
}

impl MeterStatus {
    /// Settles [`MeterStatus::verification`] with what the reporter learnt: a refusal as
    /// not entitled, a report that went through as verified.
    pub(crate) fn settle_verification(&mut self) {
        if !self.entitled {
            self.verification = Verification::NotEntitled;
        } else if self.last_report.is_some() {
            self.verification = Verification::Verified;
        }
    }

    /// The status as JSON, for the sidecar's `GET /v1/status`. `entitled` is `null` until
    /// AWS has answered (`verification` is `unknown`).
    pub fn to_json(&self) -> Value {
        json!({
            "entitled": (self.verification != Verification::Unknown).then_some(self.entitled),
            "verification": self.verification.as_str(),
            "accepting": self.accepting,
            "stopped": self.stopped.as_ref().map(|(r, m)| json!({"class": r.code(), "message": m, "hint": r.hint()})),
            "refused_dimensions": self.refused_dimensions,
            "pending": self.pending.iter().map(|p| json!({
                "hour": crate::meter::rfc3339(p.hour), "dimension": p.dimension, "quantity": p.quantity
            })).collect::<Vec<_>>(),
            "last_report": self.last_report.map(crate::meter::rfc3339),
            "last_error": self.last_error.as_ref().map(|e| json!({
                "class": e.class, "message": e.message, "at": crate::meter::rfc3339(e.at)
            })),
            "journal_failing": self.journal_failing,
            "lost": self.lost,
        })
    }
}

/// Counters since start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeterMetrics {
    /// Records acknowledged (durable).
    pub records_accepted: u64,
    /// Quantity reported per dimension.
    pub quantity_reported: BTreeMap<String, u64>,
    /// MeterUsage calls by outcome.
    pub calls: BTreeMap<String, u64>,
    /// Quantity written off as lost, per dimension.
    pub lost_quantity: BTreeMap<String, u64>,
    /// The journal's size in bytes.
    pub journal_bytes: u64,
    /// Batches acknowledged again by their idempotency key, without adding usage.
    pub idempotent_replays: u64,
}

/// Status and metrics behind one lock, with a version bump on every change.
#[derive(Debug, Default)]
pub(crate) struct Board {
    pub inner: Mutex<(MeterStatus, MeterMetrics)>,
    pub changed: tokio::sync::Notify,
}

impl Board {
    pub fn update<R>(&self, f: impl FnOnce(&mut MeterStatus, &mut MeterMetrics) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (s, m) = &mut *g;
        let r = f(s, m);
        drop(g);
        self.changed.notify_waiters();
        r
    }

    pub fn snapshot(&self) -> (MeterStatus, MeterMetrics) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
