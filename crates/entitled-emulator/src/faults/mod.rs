//! Scriptable faults: what the emulator does instead of (or on top of) a normal answer.
//!
//! Faults queue per target, first in first out; each entry is used `times` times before the
//! next one takes over. A target is a product code, `*` (any call that finds no fault queued
//! for its own product code, and ResolveCustomer, which has none), `@credentials` (the ECS
//! credentials endpoint), `@pod-identity` (the EKS Pod Identity agent endpoint) or `@sts`
//! (STS `AssumeRoleWithWebIdentity`).
//!
//! A call uses the first fault in its queue that applies to it and passes over the others,
//! which stay queued: a fault aimed at one operation applies to that operation only, and a
//! fault that changes an answer applies only where that answer exists (`token` to
//! RegisterUsage, `unprocessed` to BatchMeterUsage).

mod apply;

pub(crate) use apply::{apply, paced, Change, Effect, Endpoint};

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::operation::Operation;

/// The fault target of the ECS credentials endpoint `GET /_emulator/credentials`.
pub const CREDENTIALS_TARGET: &str = "@credentials";
/// The fault target of STS `AssumeRoleWithWebIdentity` (`POST /`, awsQuery). An `error` fault
/// there answers in STS's XML error shape.
pub const STS_TARGET: &str = "@sts";
/// The fault target of the EKS Pod Identity agent endpoint
/// `GET /_emulator/pod-identity/credentials`.
pub const POD_IDENTITY_TARGET: &str = "@pod-identity";
/// Targets that name a credentials endpoint rather than metering calls: an operation
/// cannot be aimed at them.
const ENDPOINT_TARGETS: [&str; 3] = [CREDENTIALS_TARGET, STS_TARGET, POD_IDENTITY_TARGET];
/// The fault target that matches any metering call without a fault for its own product code.
pub const ANY_TARGET: &str = "*";

/// One scripted misbehaviour.
///
/// In JSON (admin API and config file) a fault is an object tagged by `kind`, in snake case:
/// `{"kind":"error","code":"ThrottlingException"}`, `{"kind":"status","status":503,"body":""}`,
/// `{"kind":"latency","millis":500}`, `{"kind":"stall"}`, `{"kind":"drop"}`,
/// `{"kind":"drop_mid_response"}`, `{"kind":"malformed","body":"{"}`,
/// `{"kind":"oversized","bytes":10000000}`, `{"kind":"trickle","bytes_per_second":10}`,
/// `{"kind":"token","variant":"wrong_nonce"}`, `{"kind":"unprocessed"}`.
///
/// # Example
/// ```
/// use entitled_emulator::Fault;
/// let f: Fault = serde_json::from_str(r#"{"kind":"error","code":"ThrottlingException"}"#).unwrap();
/// assert_eq!(f, Fault::error("ThrottlingException"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// A modelled error: `{"__type": code, "message": ...}`, status 500 for
    /// `InternalServiceErrorException`, else 400.
    Error {
        /// The error code, e.g. `CustomerNotEntitledException`.
        code: String,
        /// The message; a generic one when `None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A raw HTTP status and body.
    Status {
        /// The HTTP status code.
        status: u16,
        /// The body, sent as is (default empty).
        #[serde(default)]
        body: String,
    },
    /// Wait this long, then answer normally.
    Latency {
        /// The added delay in milliseconds.
        millis: u64,
    },
    /// Accept the request and never answer; the connection is held until the client gives up
    /// or the emulator shuts down.
    Stall,
    /// Close the connection without a response.
    Drop,
    /// Send the headers and part of the body, then close the connection.
    DropMidResponse,
    /// A 200 with this raw body.
    Malformed {
        /// The body, sent as is.
        body: String,
    },
    /// A 200 with a body of this many bytes, streamed.
    Oversized {
        /// The body length.
        bytes: u64,
    },
    /// A valid response, sent slowly.
    Trickle {
        /// The sending rate.
        bytes_per_second: u64,
    },
    /// A 200 from RegisterUsage carrying a deliberately wrong token. Other operations answer
    /// normally. In JSON: `{"kind":"token","variant":"wrong_nonce"}`.
    #[serde(with = "variant_member")]
    Token(TokenVariant),
    /// BatchMeterUsage answers with every record in `UnprocessedRecords`. Other operations
    /// answer normally.
    Unprocessed,
}

impl Fault {
    /// The modelled error `code` with its generic message, the most common fault:
    /// `Fault::error("ThrottlingException")`.
    pub fn error(code: impl Into<String>) -> Fault {
        Fault::Error {
            code: code.into(),
            message: None,
        }
    }

    /// The change this fault makes to a normal answer, for the kinds that change one.
    pub(crate) fn change(&self) -> Option<Change> {
        match self {
            Fault::Token(variant) => Some(Change::Token(*variant)),
            Fault::Unprocessed => Some(Change::Unprocessed),
            _ => None,
        }
    }

    /// True when a call of `operation` (`None`: the credentials endpoint) can use this fault.
    fn applies_to(&self, operation: Option<Operation>) -> bool {
        self.change()
            .is_none_or(|change| operation.is_some_and(|op| change.alters(op)))
    }

    /// A short name for the call log, e.g. `Stall` or `Token:WrongNonce`.
    pub fn name(&self) -> String {
        match self {
            Fault::Error { code, .. } => code.clone(),
            Fault::Status { status, .. } => format!("Status:{status}"),
            Fault::Token(v) => format!("Token:{v:?}"),
            // Every other kind is named by its variant alone, so a new kind needs no arm here.
            other => {
                let debug = format!("{other:?}");
                let end = debug.find([' ', '{', '(']).unwrap_or(debug.len());
                debug[..end].to_owned()
            }
        }
    }
}

/// [`Fault::Token`]'s variant as the member `variant` of the fault's JSON object.
mod variant_member {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::TokenVariant;

    #[derive(Serialize, Deserialize)]
    struct Member {
        variant: TokenVariant,
    }

    pub fn serialize<S: Serializer>(variant: &TokenVariant, s: S) -> Result<S::Ok, S::Error> {
        Member { variant: *variant }.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TokenVariant, D::Error> {
        Member::deserialize(d).map(|m| m.variant)
    }
}

/// How a [`Fault::Token`] token is wrong.
///
/// # Example
/// ```
/// use entitled_emulator::TokenVariant;
/// let v: TokenVariant = serde_json::from_str(r#""future_iat""#).unwrap();
/// assert_eq!(v, TokenVariant::FutureIat);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenVariant {
    /// `nonce` differs from the request's (present even if the request had none).
    WrongNonce,
    /// `productCode` is another product's.
    WrongProduct,
    /// `publicKeyVersion` is the requested version plus one.
    WrongKeyVersion,
    /// Correct claims signed with a key that is not the product's.
    OtherKey,
    /// `iat` one hour in the future.
    FutureIat,
    /// No `nonce` claim even though the request sent one.
    NoNonce,
    /// Header `{"alg":"none"}` and an empty signature.
    AlgNone,
    /// A PKCS#1 v1.5 (RS256) signature under a PS256 header.
    Rs256Pkcs1,
    /// Correct and validly signed, but claims named `ProductCode`, `PublicKeyVersion`, `Nonce`
    /// (as AWS's API reference spells them); `iat` is unchanged.
    PascalCaseClaims,
}

/// A fault scheduled for a target, as the admin API and config file spell it.
///
/// # Example
/// ```
/// use entitled_emulator::{Fault, Operation, ScheduledFault};
/// let s: ScheduledFault =
///     serde_json::from_str(r#"{"target":"prod","fault":{"kind":"drop"}}"#).unwrap();
/// assert_eq!(s, ScheduledFault { target: "prod".into(), fault: Fault::Drop, times: 1, operation: None });
///
/// let batch: ScheduledFault = serde_json::from_str(
///     r#"{"target":"*","operation":"BatchMeterUsage","fault":{"kind":"error","code":"ThrottlingException"}}"#,
/// ).unwrap();
/// assert_eq!(batch.operation, Some(Operation::BatchMeterUsage));
/// assert!(batch.check().is_ok());
/// let credentials = ScheduledFault { target: "@credentials".into(), ..batch };
/// assert!(credentials.check().unwrap_err().contains("@credentials"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledFault {
    /// A product code, `*`, `@credentials`, `@pod-identity` or `@sts`.
    pub target: String,
    /// What to do.
    pub fault: Fault,
    /// How many calls it applies to (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// Only calls of this operation use it; calls of other operations pass it over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
}

impl ScheduledFault {
    /// Refuses what can never apply: an operation on the credentials endpoint's target.
    pub fn check(&self) -> Result<(), String> {
        match self.operation {
            Some(op) if ENDPOINT_TARGETS.contains(&self.target.as_str()) => Err(format!(
                "operation {op:?} cannot apply to {}, which serves credentials, not metering calls; drop \"operation\" or target a product code or *",
                self.target
            )),
            _ => Ok(()),
        }
    }
}

fn one() -> u32 {
    1
}

/// One queued fault with the uses it has left.
#[derive(Debug)]
struct Queued {
    fault: Fault,
    times: u32,
    operation: Option<Operation>,
}

impl Queued {
    fn applies_to(&self, operation: Option<Operation>) -> bool {
        self.operation.is_none_or(|aimed| Some(aimed) == operation)
            && self.fault.applies_to(operation)
    }
}

/// The fault queues, per target.
#[derive(Debug, Default)]
pub(crate) struct FaultQueues {
    queues: Mutex<HashMap<String, VecDeque<Queued>>>,
}

impl FaultQueues {
    /// Queues `fault` for `times` calls to `target`, of `operation` only when given.
    pub fn push(&self, target: &str, fault: Fault, times: u32, operation: Option<Operation>) {
        if times == 0 {
            return;
        }
        let mut q = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        q.entry(target.to_owned()).or_default().push_back(Queued {
            fault,
            times,
            operation,
        });
    }

    pub fn clear(&self) {
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Takes one use of the first fault queued for `target` that applies to a call of
    /// `operation` (`None`: a credentials endpoint: ECS, Pod Identity or STS). The others stay
    /// queued, uses intact.
    pub fn take(&self, target: &str, operation: Option<Operation>) -> Option<Fault> {
        let mut q = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let queue = q.get_mut(target)?;
        let at = queue.iter().position(|f| f.applies_to(operation))?;
        let entry = &mut queue[at];
        let fault = entry.fault.clone();
        entry.times -= 1;
        if entry.times == 0 {
            queue.remove(at);
        }
        Some(fault)
    }

    /// Takes a fault for a metering call of `operation`: the product's own queue first,
    /// then `*`.
    pub fn take_for_product(
        &self,
        product_code: Option<&str>,
        operation: Operation,
    ) -> Option<Fault> {
        product_code
            .and_then(|p| self.take(p, Some(operation)))
            .or_else(|| self.take(ANY_TARGET, Some(operation)))
    }

    /// What is queued, for `GET /_emulator/faults`.
    pub fn snapshot(&self) -> Vec<ScheduledFault> {
        let q = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<ScheduledFault> = q
            .iter()
            .flat_map(|(target, queue)| {
                queue.iter().map(|q| ScheduledFault {
                    target: target.clone(),
                    fault: q.fault.clone(),
                    times: q.times,
                    operation: q.operation,
                })
            })
            .collect();
        out.sort_by(|a, b| a.target.cmp(&b.target));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fault kind in the JSON the crate README documents, and back, byte for byte.
    #[test]
    fn every_kind_round_trips_through_its_documented_json() {
        let documented = [
            (r#"{"kind":"error","code":"X"}"#, Fault::error("X")),
            (
                r#"{"kind":"error","code":"X","message":"m"}"#,
                Fault::Error {
                    code: "X".into(),
                    message: Some("m".into()),
                },
            ),
            (
                r#"{"kind":"status","status":503,"body":"b"}"#,
                Fault::Status {
                    status: 503,
                    body: "b".into(),
                },
            ),
            (
                r#"{"kind":"latency","millis":5}"#,
                Fault::Latency { millis: 5 },
            ),
            (r#"{"kind":"stall"}"#, Fault::Stall),
            (r#"{"kind":"drop"}"#, Fault::Drop),
            (r#"{"kind":"drop_mid_response"}"#, Fault::DropMidResponse),
            (
                r#"{"kind":"malformed","body":"{"}"#,
                Fault::Malformed { body: "{".into() },
            ),
            (
                r#"{"kind":"oversized","bytes":9}"#,
                Fault::Oversized { bytes: 9 },
            ),
            (
                r#"{"kind":"trickle","bytes_per_second":3}"#,
                Fault::Trickle {
                    bytes_per_second: 3,
                },
            ),
            (
                r#"{"kind":"token","variant":"rs256_pkcs1"}"#,
                Fault::Token(TokenVariant::Rs256Pkcs1),
            ),
            (
                r#"{"kind":"token","variant":"pascal_case_claims"}"#,
                Fault::Token(TokenVariant::PascalCaseClaims),
            ),
            (r#"{"kind":"unprocessed"}"#, Fault::Unprocessed),
        ];
        for (json, fault) in documented {
            assert_eq!(
                serde_json::from_str::<Fault>(json).unwrap(),
                fault,
                "{json}"
            );
            assert_eq!(serde_json::to_string(&fault).unwrap(), json);
        }
    }

    #[test]
    fn documented_defaults_and_refusals() {
        let status: Fault = serde_json::from_str(r#"{"kind":"status","status":500}"#).unwrap();
        assert_eq!(
            status,
            Fault::Status {
                status: 500,
                body: String::new()
            }
        );
        for bad in [
            r#"{"kind":"teleport"}"#,
            r#"{"kind":"token"}"#,
            r#"{"kind":"token","variant":"wrong"}"#,
            r#"{"code":"X"}"#,
        ] {
            assert!(serde_json::from_str::<Fault>(bad).is_err(), "{bad}");
        }
    }

    /// The names the crate README's fault table gives the call log.
    #[test]
    fn names_for_the_call_log() {
        let named = [
            (Fault::error("X"), "X"),
            (
                Fault::Status {
                    status: 503,
                    body: String::new(),
                },
                "Status:503",
            ),
            (Fault::Latency { millis: 1 }, "Latency"),
            (Fault::Stall, "Stall"),
            (Fault::Drop, "Drop"),
            (Fault::DropMidResponse, "DropMidResponse"),
            (
                Fault::Malformed {
                    body: String::new(),
                },
                "Malformed",
            ),
            (Fault::Oversized { bytes: 1 }, "Oversized"),
            (
                Fault::Trickle {
                    bytes_per_second: 1,
                },
                "Trickle",
            ),
            (Fault::Token(TokenVariant::WrongNonce), "Token:WrongNonce"),
            (Fault::Unprocessed, "Unprocessed"),
        ];
        for (fault, name) in named {
            assert_eq!(fault.name(), name);
        }
    }

    #[test]
    fn fifo_with_times() {
        let q = FaultQueues::default();
        let batch = Operation::BatchMeterUsage;
        q.push("p", Fault::Drop, 2, None);
        q.push("p", Fault::Stall, 1, None);
        q.push("*", Fault::Unprocessed, 1, None);
        assert_eq!(q.take_for_product(Some("p"), batch), Some(Fault::Drop));
        assert_eq!(q.take_for_product(Some("p"), batch), Some(Fault::Drop));
        assert_eq!(q.take_for_product(Some("p"), batch), Some(Fault::Stall));
        assert_eq!(
            q.take_for_product(Some("p"), batch),
            Some(Fault::Unprocessed)
        );
        assert_eq!(q.take_for_product(Some("p"), batch), None);
    }

    #[test]
    fn a_fault_aimed_at_one_operation_is_passed_over_by_the_others() {
        let q = FaultQueues::default();
        let stall = Fault::Stall;
        q.push("p", stall.clone(), 1, Some(Operation::BatchMeterUsage));
        q.push("p", Fault::Drop, 1, None);
        assert_eq!(
            q.take_for_product(Some("p"), Operation::RegisterUsage),
            Some(Fault::Drop)
        );
        assert_eq!(q.take_for_product(Some("p"), Operation::MeterUsage), None);
        assert_eq!(
            q.take_for_product(Some("p"), Operation::BatchMeterUsage),
            Some(stall)
        );
        assert!(q.snapshot().is_empty());
    }

    #[test]
    fn answer_changes_are_used_only_where_the_answer_exists() {
        let q = FaultQueues::default();
        q.push("*", Fault::Token(TokenVariant::AlgNone), 1, None);
        q.push("*", Fault::Unprocessed, 1, None);
        assert_eq!(q.take(ANY_TARGET, Some(Operation::MeterUsage)), None);
        assert_eq!(q.take(ANY_TARGET, None), None, "credentials");
        assert_eq!(
            q.take(ANY_TARGET, Some(Operation::BatchMeterUsage)),
            Some(Fault::Unprocessed)
        );
        assert_eq!(
            q.take(ANY_TARGET, Some(Operation::RegisterUsage)),
            Some(Fault::Token(TokenVariant::AlgNone))
        );
    }
}
