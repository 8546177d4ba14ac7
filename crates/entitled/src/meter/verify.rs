//! The start-up check: a MeterUsage call with `DryRun` for each dimension (quantity 0,
//! `Timestamp` now) says, before any usage is at stake, whether AWS would take the reports.
//! AWS answers `DryRunOperation` when the call would be allowed. Its reference promises only
//! the permission check; the emulator also validates the product, dimension and entitlement,
//! as a real call would.
//!
//! A refusal that would stop every report (product code, platform, access, Region,
//! credentials) or a dimension's is an error of `build`. "Not entitled" is a state, not an
//! error: the product decides. No answer within the start-up budget, or a transient
//! failure, leaves the state unknown and keeps trying in the background with backoff.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_marketplacemetering::error::ProvideErrorMetadata as _;
use aws_sdk_marketplacemetering::primitives::DateTime;
use aws_sdk_marketplacemetering::Client;

use super::classify::classify_meter_call;
use super::clock::Clock;
use super::events::{EventHook, MeterEvent};
use super::outcome::{scope, Outcome, Scope, NOT_ENTITLED_CLASS};
use super::status::{Board, LastError, Verification};
use super::MeterError;
use crate::reason::{Transient, TransientCause};
use crate::signing_credentials::SigningCredentials;
use crate::Backoff;

/// AWS's answer to a `DryRun` that would have been allowed.
const DRY_RUN_ALLOWED: &str = "DryRunOperation";

/// What the start-up check needs; built by [`super::MeterBuilder`].
pub(crate) struct Verifier {
    pub client: Client,
    /// Resolved by us, as for reports, so a credential failure keeps its type.
    pub credentials: SigningCredentials,
    pub product_code: String,
    /// The dimensions no `DryRun` has passed yet.
    pub unverified: Vec<String>,
    /// Checked again while the customer is not entitled (entitlement is the product's).
    pub first_dimension: String,
    pub clock: Arc<dyn Clock>,
    pub attempt_timeout: Duration,
    pub backoff: Backoff,
    pub board: Arc<Board>,
    pub events: EventHook,
}

/// What one round of `DryRun` calls learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Round {
    /// Every dimension answered `DryRunOperation`.
    Verified,
    /// `CustomerNotEntitledException`, with AWS's message.
    NotEntitled(String),
    /// Nothing settled: the class and message of the failure, retried.
    Unknown(String, String),
}

/// One `DryRun` call's answer.
enum Answer {
    /// `DryRunOperation`.
    Allowed,
    /// A success: the endpoint ignored `DryRun` and recorded quantity 0.
    Recorded(String),
    Failed(Outcome),
}

/// Runs the check for at most `within`. Returns the background task that keeps trying when
/// the answer is not settled (unknown, or not entitled), or the refusal.
pub(crate) async fn at_start(
    mut verifier: Verifier,
    within: Duration,
) -> Result<Option<tokio::task::JoinHandle<()>>, MeterError> {
    let round = match tokio::time::timeout(within, verifier.round()).await {
        Ok(answered) => answered?,
        Err(_) => Round::Unknown(
            TransientCause::Timeout.code().to_owned(),
            format!(
                "no answer from AWS within {} s of start",
                within.as_secs_f64()
            ),
        ),
    };
    verifier.apply(&round);
    if let Round::Unknown(class, message) = &round {
        verifier.events.emit(
            MeterEvent::error(
                "not_verified",
                format!("could not verify with AWS at start ({class}: {message}); status unknown, retrying in the background"),
            )
            .reason(class.as_str()),
        );
    }
    Ok((round != Round::Verified).then(|| tokio::spawn(verifier.keep_trying())))
}

impl Verifier {
    /// Retries with backoff until every dimension is verified or a refusal ends it.
    async fn keep_trying(mut self) {
        let mut waits = self.backoff.waits();
        loop {
            tokio::time::sleep(waits.next_wait()).await;
            match self.round().await {
                Ok(round) => {
                    self.apply(&round);
                    if round == Round::Verified {
                        return;
                    }
                }
                Err(refused) => return self.stop(refused),
            }
        }
    }

    /// A `DryRun` for each unverified dimension (the first dimension again once all are,
    /// while not entitled), stopping at the first that does not pass.
    async fn round(&mut self) -> Result<Round, MeterError> {
        let dimensions = if self.unverified.is_empty() {
            vec![self.first_dimension.clone()]
        } else {
            self.unverified.clone()
        };
        for dimension in dimensions {
            let outcome = match self.dry_run(&dimension).await {
                Answer::Allowed => {
                    self.unverified.retain(|d| *d != dimension);
                    continue;
                }
                Answer::Recorded(id) => {
                    self.events.emit(MeterEvent::error(
                        "dry_run_recorded",
                        format!("the metering endpoint ignored DryRun and recorded quantity 0 for dimension {dimension} (record {id}); a later report for this hour may be refused as a duplicate"),
                    ));
                    self.unverified.retain(|d| *d != dimension);
                    continue;
                }
                Answer::Failed(outcome) => outcome,
            };
            let class = outcome.label().into_owned();
            return match outcome {
                Outcome::NotEntitled(message) => Ok(Round::NotEntitled(message)),
                Outcome::Refused(reason, message) => match scope(&reason) {
                    Scope::Meter => Err(MeterError::Refused {
                        reason,
                        message,
                        dimension: None,
                    }),
                    Scope::Dimension => Err(MeterError::Refused {
                        reason,
                        message,
                        dimension: Some(dimension),
                    }),
                    Scope::Retry => Ok(Round::Unknown(reason.code().into_owned(), message)),
                },
                Outcome::Transient(t) => {
                    Ok(Round::Unknown(t.cause.code().to_owned(), t.to_string()))
                }
                Outcome::Duplicate(message)
                | Outcome::Unsendable(message)
                | Outcome::Reported(message) => Ok(Round::Unknown(class, message)),
            };
        }
        Ok(Round::Verified)
    }

    async fn dry_run(&mut self, dimension: &str) -> Answer {
        let request = self
            .client
            .meter_usage()
            .product_code(&self.product_code)
            .timestamp(DateTime::from_secs(self.clock.now() as i64))
            .usage_dimension(dimension)
            .usage_quantity(0)
            .dry_run(true);
        let credentials = &mut self.credentials;
        let product_code = self.product_code.as_str();
        let attempt = async {
            let signing = match credentials.get().await {
                Ok(signing) => signing,
                Err(e) => return Answer::Failed(Outcome::from(e)),
            };
            let sent = request
                .customize()
                .config_override(
                    aws_sdk_marketplacemetering::config::Builder::default()
                        .credentials_provider(signing),
                )
                .send()
                .await;
            match sent {
                Ok(out) => Answer::Recorded(out.metering_record_id().unwrap_or("").to_owned()),
                Err(err) if err.code() == Some(DRY_RUN_ALLOWED) => Answer::Allowed,
                Err(err) => Answer::Failed(classify_meter_call(err, product_code)),
            }
        };
        match tokio::time::timeout(self.attempt_timeout, attempt).await {
            Ok(answer) => answer,
            Err(_) => Answer::Failed(Outcome::Transient(Transient {
                endpoint: self.credentials.waiting_on(),
                cause: TransientCause::Timeout,
                detail: format!(
                    "the DryRun call timed out after {} ms",
                    self.attempt_timeout.as_millis()
                ),
            })),
        }
    }

    /// Shows a round's answer in the status; an unsettled round keeps the last answer.
    fn apply(&self, round: &Round) {
        let now = self.clock.now();
        match round {
            Round::Verified => {
                self.board.update(|s, _| {
                    s.verification = Verification::Verified;
                    s.entitled = true;
                });
                self.events.emit(MeterEvent::info(
                    "verified",
                    format!(
                        "MeterUsage DryRun allowed for product {}: reports will be accepted",
                        self.product_code
                    ),
                ));
            }
            Round::NotEntitled(message) => {
                let was = self.board.update(|s, _| {
                    let was = s.verification;
                    s.verification = Verification::NotEntitled;
                    s.entitled = false;
                    s.last_error = Some(last_error(NOT_ENTITLED_CLASS, message, now));
                    was
                });
                if was != Verification::NotEntitled {
                    self.events.emit(
                        MeterEvent::error(
                            "not_entitled",
                            format!("MeterUsage DryRun refused ({NOT_ENTITLED_CLASS}): {message}; usage is kept, and checked again in the background"),
                        )
                        .reason(NOT_ENTITLED_CLASS),
                    );
                }
            }
            Round::Unknown(class, message) => self
                .board
                .update(|s, _| s.last_error = Some(last_error(class, message, now))),
        }
    }

    /// A refusal found in the background: shown as a refusal at report time would be.
    fn stop(&self, refused: MeterError) {
        let MeterError::Refused {
            reason,
            message,
            dimension,
        } = &refused
        else {
            return;
        };
        let now = self.clock.now();
        self.board.update(|s, _| {
            s.last_error = Some(last_error(&reason.code(), message, now));
            match dimension {
                Some(d) => {
                    s.refused_dimensions.insert(d.clone(), message.clone());
                }
                None => s.stopped = Some((reason.clone(), message.clone())),
            }
        });
        self.events.emit(
            MeterEvent::error("refused", refused.to_string()).reason(reason.code().into_owned()),
        );
    }
}

fn last_error(class: &str, message: &str, at: u64) -> LastError {
    LastError {
        class: class.to_owned(),
        message: message.to_owned(),
        at,
    }
}
