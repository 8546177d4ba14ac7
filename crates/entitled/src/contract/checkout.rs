//! The checkout: CheckoutLicense with one client token per logical checkout,
//! retried as the check retries, with the one pause-and-retry that a counted
//! provisional checkout gets, and at most one redirect.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use entitled_verify::Nonce;

use super::answer::{accept, Asked};
use super::builder::Contract;
use super::lease::Lease;
use super::license::License;
use super::outcome::LmFailure;
use super::request::CheckoutType;
use super::retry::Retry;
use super::session::Session;
use crate::classify::AttemptError;
use crate::error::{CheckError, ConfigError};
use crate::reason::{RejectReason, Transient, TransientCause};

impl Contract {
    /// Checks out the entitlements: retries what is transient until the
    /// deadline, and accepts only an answer consistent with the request.
    ///
    /// A provisional checkout comes with a [`Lease`]: check it in when the
    /// unit is no longer needed ([`Lease::check_in`]). If the process dies
    /// first, AWS returns the units by itself once the licence's time-to-live
    /// (60 minutes unless the seller set another) runs out.
    pub async fn checkout(&self) -> Result<License, CheckError> {
        let settings = &self.0;
        let deadline_at = Instant::now() + settings.deadline;
        let session = Arc::new(Session::connect(settings, deadline_at).await?);
        let node_id = match &settings.node_id {
            Some(id) => id.clone(),
            None => fresh_token()?,
        };
        // One token per logical checkout: a retry after a lost answer is the
        // same request, so it cannot hold a second unit.
        let mut client_token = fresh_token()?;
        let mut retry = Retry::new(settings.backoff, deadline_at, settings.on_retry.as_ref());
        let mut busy_retried = false;
        loop {
            let result = attempt(&mut retry, &session, settings.attempt_timeout, || {
                session.checkout(settings, &node_id, &client_token)
            })
            .await?;
            let failure = match result {
                Ok(raw) => {
                    let asked = Asked {
                        entitlements: &settings.entitlements,
                        checkout_type: settings.checkout_type,
                        node_id: &node_id,
                        issuer_key: settings.issuer_key.as_ref(),
                    };
                    let accepted = accept(raw, &asked, SystemTime::now())?;
                    let lease = (settings.checkout_type == CheckoutType::Provisional)
                        .then(|| Lease::new(self.clone(), session.clone(), &accepted));
                    return Ok(License::new(
                        accepted,
                        settings.checkout_type,
                        node_id,
                        retry.attempts(),
                        lease,
                    ));
                }
                Err(failure) => failure,
            };
            match failure {
                LmFailure::NotLicensed { code, message } => {
                    if busy_retried || !self.retries_busy() {
                        return Err(self.not_licensed(code, message));
                    }
                    // A busy unit and no licence give the same error: one more
                    // try after a pause, as a new logical checkout.
                    busy_retried = true;
                    let left = deadline_at.saturating_duration_since(Instant::now());
                    tokio::time::sleep(settings.busy_retry_pause.min(left)).await;
                    client_token = fresh_token()?;
                }
                LmFailure::Redirect(location) => {
                    if !session.follow(location.as_deref()) {
                        return Err(redirect_refused(location));
                    }
                }
                LmFailure::Attempt(AttemptError::Fatal(err)) => {
                    return Err(err.with_credential_source(session.credential_source()))
                }
                LmFailure::Attempt(AttemptError::Transient(_)) => {
                    unreachable!("attempt() retries transient failures")
                }
            }
        }
    }

    /// Only a counted provisional checkout may be refused because every unit
    /// is held for now.
    fn retries_busy(&self) -> bool {
        self.0.checkout_type == CheckoutType::Provisional
            && self.0.entitlements.iter().any(|r| r.is_counted())
    }

    pub(crate) fn not_licensed(&self, code: String, message: String) -> CheckError {
        CheckError::NotLicensed {
            product_sku: self.0.product_sku.clone(),
            code,
            message,
        }
    }
}

fn fresh_token() -> Result<String, CheckError> {
    Ok(Nonce::generate().map_err(ConfigError::from)?.to_string())
}

pub(crate) fn redirect_refused(location: Option<String>) -> CheckError {
    CheckError::rejected(
        RejectReason::LicenseRedirect,
        match location {
            Some(l) => format!("redirected to {l:?}"),
            None => "redirected without a Location".into(),
        },
    )
}

/// Runs one logical call: retries its transient failures and timeouts until
/// the deadline (`Err` then), and returns its answer or its first other
/// failure.
pub(crate) async fn attempt<T, F, Fut>(
    retry: &mut Retry<'_>,
    session: &Session,
    attempt_timeout: Duration,
    mut call: F,
) -> Result<Result<T, LmFailure>, CheckError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, LmFailure>>,
{
    loop {
        let budget = retry.begin(attempt_timeout)?;
        let cause = match tokio::time::timeout(budget, call()).await {
            Ok(Err(LmFailure::Attempt(AttemptError::Transient(cause)))) => cause,
            Ok(other) => return Ok(other),
            Err(_) => Transient {
                endpoint: session.waiting_on().await,
                cause: TransientCause::Timeout,
                detail: format!("attempt timed out after {} ms", budget.as_millis()),
            },
        };
        retry.failed(cause).await;
    }
}
