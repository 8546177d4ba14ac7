//! A provisional consumption held for the process: extended before it
//! expires, checked in when done.
//!
//! If the process dies without checking in, the units stay held until the
//! consumption's expiry (the licence's provisional time-to-live, 60 minutes
//! unless the seller set another), then AWS returns them by itself.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::answer::Accepted;
use super::builder::Contract;
use super::checkout::{attempt, redirect_refused};
use super::outcome::LmFailure;
use super::retry::Retry;
use super::session::Session;
use super::timestamp;
use crate::classify::AttemptError;
use crate::error::CheckError;

/// The held consumption of a provisional checkout.
///
/// [`extend`](Self::extend) pushes its expiry out by the time-to-live,
/// [`check_in`](Self::check_in) returns the units, and [`keep`](Self::keep)
/// extends it in the background at half the time-to-live until the
/// returned [`Keeper`] is dropped.
///
/// ```no_run
/// # async fn run(contract: entitled::contract::Contract) -> Result<(), entitled::CheckError> {
/// let mut license = contract.checkout().await?;
/// let lease = license.take_lease().expect("a provisional checkout has a lease");
/// let keeper = lease.keep(|err| eprintln!("licence lost: {err}"));
/// // ... serve while the unit is held ...
/// drop(keeper);
/// lease.check_in().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Lease(Arc<State>);

struct State {
    contract: Contract,
    session: Mutex<Arc<Session>>,
    held: Mutex<Held>,
}

#[derive(Clone)]
struct Held {
    consumption_token: String,
    expiration: SystemTime,
    ttl: Duration,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self.held();
        f.debug_struct("Lease")
            .field("expiration", &held.expiration)
            .field("ttl", &held.ttl)
            .finish_non_exhaustive()
    }
}

impl Lease {
    pub(crate) fn new(contract: Contract, session: Arc<Session>, accepted: &Accepted) -> Self {
        Lease(Arc::new(State {
            contract,
            session: Mutex::new(session),
            held: Mutex::new(held_from(accepted)),
        }))
    }

    fn held(&self) -> Held {
        self.0
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn session(&self) -> Arc<Session> {
        self.0
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// When the held units return by themselves.
    pub fn expiration(&self) -> SystemTime {
        self.held().expiration
    }

    /// The consumption's time-to-live, as the checkout gave it.
    pub fn time_to_live(&self) -> Duration {
        self.held().ttl
    }

    /// Extends the consumption by its time-to-live, retrying transient
    /// failures until it would expire. `NotLicensed` when License Manager no
    /// longer knows it (expired, checked in, licence gone).
    pub async fn extend(&self) -> Result<SystemTime, CheckError> {
        let held = self.held();
        let left = held
            .expiration
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let session = self.session();
        let settings = &self.0.contract.0;
        // At least one attempt, even when the clocks disagree about expiry.
        let until = Instant::now() + left.max(settings.attempt_timeout);
        let mut retry = Retry::new(settings.backoff, until, settings.on_retry.as_ref());
        let result = attempt(&mut retry, &session, settings.attempt_timeout, || {
            session.extend(&held.consumption_token)
        })
        .await?;
        let written = result.map_err(|f| self.fatal(f, &session))?;
        let expiration = written
            .as_deref()
            .and_then(timestamp::parse)
            .filter(|at| *at > SystemTime::now())
            .unwrap_or(held.expiration + held.ttl);
        self.0
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .expiration = expiration;
        Ok(expiration)
    }

    /// Checks the consumption in, retrying transient failures within the
    /// contract's deadline. A consumption License Manager no longer knows
    /// (already checked in, or expired) counts as checked in.
    pub async fn check_in(&self) -> Result<(), CheckError> {
        let held = self.held();
        let session = self.session();
        let settings = &self.0.contract.0;
        let mut retry = Retry::new(
            settings.backoff,
            Instant::now() + settings.deadline,
            settings.on_retry.as_ref(),
        );
        let result = attempt(&mut retry, &session, settings.attempt_timeout, || {
            session.check_in(&held.consumption_token)
        })
        .await?;
        match result {
            Ok(()) | Err(LmFailure::NotLicensed { .. }) => Ok(()),
            Err(failure) => Err(self.fatal(failure, &session)),
        }
    }

    /// Replaces a consumption License Manager refused to extend with a new
    /// checkout: the licence is lost only if that is refused too.
    async fn renew(&self) -> Result<(), CheckError> {
        let mut license = self.0.contract.checkout().await?;
        let fresh = license.take_lease().ok_or_else(|| {
            CheckError::rejected(
                crate::RejectReason::OtherCode("NoLease".into()),
                "a provisional checkout came without a lease",
            )
        })?;
        let (held, session) = (fresh.held(), fresh.session());
        *self.0.held.lock().unwrap_or_else(|e| e.into_inner()) = held;
        *self.0.session.lock().unwrap_or_else(|e| e.into_inner()) = session;
        Ok(())
    }

    fn fatal(&self, failure: LmFailure, session: &Session) -> CheckError {
        match failure {
            LmFailure::NotLicensed { code, message } => self.0.contract.not_licensed(code, message),
            LmFailure::Redirect(location) => redirect_refused(location),
            LmFailure::Attempt(AttemptError::Fatal(err)) => {
                err.with_credential_source(session.credential_source())
            }
            LmFailure::Attempt(AttemptError::Transient(t)) => CheckError::Unavailable {
                attempts: 1,
                elapsed: Duration::ZERO,
                last: t,
            },
        }
    }

    /// Extends the consumption in the background at half its time-to-live,
    /// on the current tokio runtime. When an extension is refused, it checks
    /// out again; when that is refused too (not entitled, or failing until
    /// the consumption expired), the licence is lost: `on_loss` is called
    /// once and the keeper stops. Dropping the [`Keeper`] stops it.
    pub fn keep(&self, on_loss: impl FnOnce(&CheckError) + Send + 'static) -> Keeper {
        let lease = self.clone();
        Keeper(tokio::spawn(async move {
            let err = loop {
                let held = lease.held();
                let renew_at = held
                    .expiration
                    .checked_sub(held.ttl / 2)
                    .unwrap_or(held.expiration);
                let wait = renew_at
                    .duration_since(SystemTime::now())
                    .unwrap_or_default();
                tokio::time::sleep(wait).await;
                match lease.extend().await {
                    Ok(_) => continue,
                    Err(CheckError::NotLicensed { .. }) => match lease.renew().await {
                        Ok(()) => continue,
                        Err(err) => break err,
                    },
                    Err(err) => break err,
                }
            };
            on_loss(&err);
        }))
    }
}

fn held_from(accepted: &Accepted) -> Held {
    let ttl = accepted
        .expiration
        .duration_since(accepted.issued_at)
        .ok()
        .filter(|d| !d.is_zero())
        .unwrap_or_else(|| {
            accepted
                .expiration
                .duration_since(SystemTime::now())
                .unwrap_or_default()
        });
    Held {
        consumption_token: accepted.consumption_token.clone(),
        expiration: accepted.expiration,
        ttl,
    }
}

/// Keeps a [`Lease`] extended in the background; dropping it stops that.
#[derive(Debug)]
pub struct Keeper(tokio::task::JoinHandle<()>);

impl Keeper {
    /// True once the keeper has stopped (the licence was lost).
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}
