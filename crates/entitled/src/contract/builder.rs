//! Configuring a checkout: what to ask for, and the check's connection,
//! deadline and backoff.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use entitled_verify::PublicKey;

use super::request::{CheckoutType, EntitlementError, Requested};
use crate::backoff::Backoff;
use crate::check::{RetryEvent, RetryHook, WarningHook, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_DEADLINE};
use crate::connection::Connection;
use crate::error::ConfigError;
use crate::trust::Warning;

/// AWS Marketplace's issuer key fingerprint: every licence AWS Marketplace
/// issues carries it. Not a placeholder.
pub const MARKETPLACE_KEY_FINGERPRINT: &str = "aws:294406891311:AWS/Marketplace:issuer-fingerprint";

/// How long a counted provisional checkout waits before its one retry after
/// "not entitled": a busy unit and no licence give the same error.
pub const DEFAULT_BUSY_RETRY_PAUSE: Duration = Duration::from_secs(2);

/// Configures a License Manager checkout (contract pricing).
///
/// Ask for every tier the product has (the answer holds the one bought), or
/// for counted units. The connection methods are the check's: in production
/// the Region and credentials come from the ECS task, the EKS pod or, outside
/// AWS, the buyer's licence token; `AWS_ENDPOINT_URL_LICENSE_MANAGER`
/// overrides the endpoint.
///
/// ```
/// use entitled::contract::{CheckoutType, Contract};
/// let contract = Contract::builder()
///     .product_sku("prod-abc123")
///     .tier("Basic")
///     .tier("Premium")
///     .counted("Seats", "Count", "1")
///     .checkout_type(CheckoutType::Provisional)
///     .build()
///     .unwrap();
/// assert_eq!(contract.entitlements().len(), 3);
/// let err = Contract::builder().product_sku("prod-abc123").build().unwrap_err();
/// assert!(err.to_string().contains("entitlement"), "{err}");
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ContractBuilder {
    product_sku: Option<String>,
    entitlements: Vec<Result<Requested, EntitlementError>>,
    checkout_type: CheckoutType,
    key_fingerprint: Option<String>,
    node_id: Option<String>,
    issuer_key: Option<PublicKey>,
    deadline: Option<Duration>,
    attempt_timeout: Option<Duration>,
    backoff: Backoff,
    busy_retry_pause: Option<Duration>,
    connection: Connection,
    on_retry: Option<RetryHook>,
    on_warning: Option<WarningHook>,
}

impl fmt::Debug for ContractBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContractBuilder")
            .field("product_sku", &self.product_sku)
            .field("entitlements", &self.entitlements)
            .field("checkout_type", &self.checkout_type)
            .finish_non_exhaustive()
    }
}

impl ContractBuilder {
    /// The product SKU: the AWS Marketplace product id (not the product code).
    pub fn product_sku(mut self, sku: impl Into<String>) -> Self {
        self.product_sku = Some(sku.into());
        self
    }
    /// Asks for a tier (`Unit` `None`). Ask for every tier the product has.
    pub fn tier(mut self, name: impl Into<String>) -> Self {
        self.entitlements.push(Requested::tier(name));
        self
    }
    /// Asks for `value` units of a counted dimension.
    pub fn counted(
        mut self,
        name: impl Into<String>,
        unit: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.entitlements
            .push(Requested::counted(name, unit, value));
        self
    }
    /// Asks for an entitlement already parsed (the guard's `--entitlement`).
    pub fn entitlement(mut self, requested: Requested) -> Self {
        self.entitlements.push(Ok(requested));
        self
    }
    /// `PROVISIONAL` (the default) or `PERPETUAL` (drawdown).
    pub fn checkout_type(mut self, checkout_type: CheckoutType) -> Self {
        self.checkout_type = checkout_type;
        self
    }
    /// The issuer's key fingerprint (default [`MARKETPLACE_KEY_FINGERPRINT`]).
    pub fn key_fingerprint(mut self, fingerprint: impl Into<String>) -> Self {
        self.key_fingerprint = Some(fingerprint.into());
        self
    }
    /// A node id to send (and see echoed); without one, each checkout sends a
    /// fresh random one, the closest thing to a nonce License Manager offers.
    pub fn node_id(mut self, node_id: impl Into<String>) -> Self {
        self.node_id = Some(node_id.into());
        self
    }
    /// The issuer's public key, for seller-issued licences: the answer's
    /// `SignedToken` must then verify (PS384) and match the answer. AWS
    /// publishes no key for licences AWS Marketplace issues; without a key
    /// the token is not verified, and trust rests on TLS and SigV4.
    pub fn issuer_public_key(mut self, key: PublicKey) -> Self {
        self.issuer_key = Some(key);
        self
    }
    /// Total time for a checkout, retries included (default 30 minutes).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }
    /// Time for one attempt (default 10 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }
    /// The waits between attempts (default [`Backoff::default`]).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }
    /// The pause before a counted provisional checkout's one retry after
    /// "not entitled" (default [`DEFAULT_BUSY_RETRY_PAUSE`]).
    pub fn busy_retry_pause(mut self, pause: Duration) -> Self {
        self.busy_retry_pause = Some(pause);
        self
    }
    crate::builder_setters::connection_setters!();
    /// Locks the checkout to AWS's own License Manager endpoint and the
    /// Amazon Trust Services roots, as [`CheckBuilder::locked`](crate::CheckBuilder::locked)
    /// does for the check: an `AWS_ENDPOINT_URL*` variable is refused (exit
    /// code 78), the CA variables are ignored. A Marketplace-issued licence
    /// carries no signature a seller can check, so this is what keeps a buyer
    /// who controls the environment from answering for License Manager.
    pub fn locked(mut self) -> Self {
        self.connection.locked = true;
        self
    }
    /// Called after each transient failure (see [`RetryEvent`]).
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self
    }
    /// Called for what was skipped, such as a CA file that is a FIFO.
    pub fn on_warning(mut self, hook: impl Fn(&Warning) + Send + Sync + 'static) -> Self {
        self.on_warning = Some(Arc::new(hook));
        self
    }

    /// Validates the configuration. No call is made.
    pub fn build(self) -> Result<Contract, ConfigError> {
        let product_sku = self
            .product_sku
            .filter(|s| !s.trim().is_empty())
            .ok_or(ConfigError::NoProductSku)?;
        let mut entitlements: Vec<Requested> = Vec::new();
        for requested in self.entitlements {
            let requested = requested?;
            if entitlements.iter().any(|r| r.name() == requested.name()) {
                return Err(EntitlementError::Duplicate(requested.name().to_owned()).into());
            }
            entitlements.push(requested);
        }
        if entitlements.is_empty() {
            return Err(ConfigError::NoEntitlements);
        }
        let deadline = self.deadline.unwrap_or(DEFAULT_DEADLINE);
        let attempt_timeout = self.attempt_timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT);
        if deadline.is_zero() {
            return Err(ConfigError::ZeroDuration("the deadline"));
        }
        if attempt_timeout.is_zero() {
            return Err(ConfigError::ZeroDuration("the attempt timeout"));
        }
        self.connection.validate()?;
        Ok(Contract(Arc::new(Settings {
            product_sku,
            entitlements,
            checkout_type: self.checkout_type,
            key_fingerprint: self
                .key_fingerprint
                .unwrap_or_else(|| MARKETPLACE_KEY_FINGERPRINT.to_owned()),
            node_id: self.node_id,
            issuer_key: self.issuer_key,
            deadline,
            attempt_timeout,
            backoff: self.backoff,
            busy_retry_pause: self.busy_retry_pause.unwrap_or(DEFAULT_BUSY_RETRY_PAUSE),
            connection: self.connection,
            on_retry: self.on_retry,
            on_warning: self.on_warning,
        })))
    }
}

/// A validated checkout configuration; [`checkout`](Self::checkout) calls
/// License Manager. Cheap to clone.
#[derive(Clone)]
pub struct Contract(pub(crate) Arc<Settings>);

pub(crate) struct Settings {
    pub product_sku: String,
    pub entitlements: Vec<Requested>,
    pub checkout_type: CheckoutType,
    pub key_fingerprint: String,
    pub node_id: Option<String>,
    pub issuer_key: Option<PublicKey>,
    pub deadline: Duration,
    pub attempt_timeout: Duration,
    pub backoff: Backoff,
    pub busy_retry_pause: Duration,
    pub connection: Connection,
    pub on_retry: Option<RetryHook>,
    pub on_warning: Option<WarningHook>,
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("product_sku", &self.0.product_sku)
            .field("entitlements", &self.0.entitlements)
            .field("checkout_type", &self.0.checkout_type)
            .finish_non_exhaustive()
    }
}

impl Contract {
    /// Starts configuring a checkout.
    pub fn builder() -> ContractBuilder {
        ContractBuilder::default()
    }
    /// The entitlements asked for.
    pub fn entitlements(&self) -> &[Requested] {
        &self.0.entitlements
    }
    /// The product SKU.
    pub fn product_sku(&self) -> &str {
        &self.0.product_sku
    }
    /// The checkout type.
    pub fn checkout_type(&self) -> CheckoutType {
        self.0.checkout_type
    }
}
