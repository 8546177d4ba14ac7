//! A local AWS Marketplace Metering Service for tests and sellers' CI.
//!
//! It speaks the real wire protocol (awsJson1.1 over HTTP or HTTPS, SigV4 checked on every
//! call), so unmodified AWS SDKs and the AWS CLI work against it. RegisterUsage returns real
//! PS256 tokens signed with per-product RSA keys; MeterUsage, BatchMeterUsage and
//! ResolveCustomer are implemented against the service model too. STS
//! `AssumeRoleWithWebIdentity` (awsQuery, XML) on the same listener, with an OIDC provider
//! issuing EKS-shaped service-account tokens, lets IRSA run end to end; an EKS Pod Identity
//! agent endpoint serves credentials AWS Marketplace refuses. Faults (errors, throttling,
//! latency, stalls, dropped connections, malformed bodies, wrong tokens) can be scripted per
//! product code, and for the credential endpoints and STS.
//!
//! Defaults worth knowing:
//! - every product code valid per the model is served; a code that was never configured gets a
//!   version-1 RSA-3072 key generated on first use (other versions:
//!   `InvalidPublicKeyVersionException`);
//! - every product is entitled for every known caller unless denied ([`Config::deny`],
//!   [`Config::deny_caller`]);
//! - known callers are [`DEFAULT_ACCESS_KEY_ID`], the session credentials served at
//!   [`Emulator::credentials_url`], and any configured credentials;
//! - the order of checks on each call is SigV4, pinned Region, input validation, faults,
//!   throttle, then the operation (see the `service` module docs).
//!
//! Start one with [`Emulator::spawn`] (its example shows the whole handle) or, from the
//! command line, `entitled-emulator --help`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admin;
mod calls;
mod clock;
mod config;
mod container_credentials;
mod encoding;
mod error;
mod faults;
mod instance_metadata;
mod keys;
mod license_manager;
mod licenses;
mod operation;
mod ops;
mod outcome;
mod roles;
mod server;
mod service;
mod sigv4;
mod state;
mod sts;
mod throttle;
mod tls;
mod web_identity;
mod wire;

pub mod token;

#[cfg(test)]
mod fixtures;

pub use admin::ADMIN_HELP;
pub use calls::{CallRecord, EntitlementData};
pub use config::{
    Config, KeySpec, Product, ProductSpec, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY,
};
pub use error::EmulatorError;
pub use faults::{
    Fault, ScheduledFault, TokenVariant, ANY_TARGET, CREDENTIALS_TARGET, POD_IDENTITY_TARGET,
    STS_TARGET,
};
pub use licenses::{EntitlementSpec, LicenseSpec, ValiditySpec, MARKETPLACE_FINGERPRINT};
pub use operation::Operation;
pub use roles::Role;
pub use server::Emulator;
pub use state::meter_hours::UsageTotal;
