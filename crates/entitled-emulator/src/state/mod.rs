//! Everything a request handler may read or change, built once from a [`Config`], and the
//! request as the handlers receive it. Shared by the server, the admin API, the metering
//! pipeline and the operations, so it depends on none of them.

pub(crate) mod ledger;
pub(crate) mod meter_hours;
pub(crate) mod registrations;

use std::collections::BTreeSet;

use bytes::Bytes;

use crate::calls::CallLog;
use crate::encoding::hex;
use crate::faults::FaultQueues;
use crate::keys::KeyStore;
use crate::sigv4::{Credential, CredentialStore};
use crate::throttle::TokenBucket;
use crate::Config;
use ledger::Ledger;
use meter_hours::MeterHours;
use registrations::Registry;

/// A request with its body read.
pub(crate) struct Received {
    pub parts: http::request::Parts,
    pub body: Bytes,
}

/// Everything a request handler may read or change.
pub(crate) struct State {
    pub region: Option<String>,
    pub credentials: CredentialStore,
    /// The session credentials served by `/_emulator/credentials`.
    pub session: Credential,
    pub container_authorization: Option<String>,
    pub deny: BTreeSet<String>,
    pub deny_callers: BTreeSet<String>,
    pub deny_customers: BTreeSet<String>,
    pub platform_rule: bool,
    pub throttle: Option<TokenBucket>,
    pub keys: KeyStore,
    pub faults: FaultQueues,
    pub calls: CallLog,
    pub ledger: Ledger,
    /// MeterUsage records, one per caller, product, dimension and hour.
    pub meter_hours: MeterHours,
    pub registrations: Registry,
    pub ca_pem: Option<String>,
}

impl State {
    /// True when the caller may use the product.
    pub fn entitled(&self, product_code: &str, caller: &str) -> bool {
        !self.deny.contains(product_code) && !self.deny_callers.contains(caller)
    }

    /// The state a configuration describes, with its keys loaded and the TLS CA, if any.
    pub fn new(config: &Config, keys: KeyStore, ca_pem: Option<String>) -> State {
        let session = new_session_credential();
        let mut credentials = CredentialStore::default();
        for c in &config.credentials {
            credentials.insert(c.clone());
        }
        credentials.insert(session.clone());
        let faults = FaultQueues::default();
        for f in &config.faults {
            faults.push(&f.target, f.fault.clone(), f.times);
        }
        State {
            region: config.region.clone(),
            credentials,
            session,
            container_authorization: config.container_authorization.clone(),
            deny: config.deny.clone(),
            deny_callers: config.deny_callers.clone(),
            deny_customers: config.deny_customers.clone(),
            platform_rule: config.platform_rule,
            throttle: config.throttle.map(TokenBucket::new),
            keys,
            faults,
            calls: CallLog::default(),
            ledger: Ledger::default(),
            meter_hours: MeterHours::default(),
            registrations: Registry::default(),
            ca_pem,
        }
    }
}

/// Random session credentials shaped like STS's.
fn new_session_credential() -> Credential {
    let id: [u8; 8] = rand::random();
    let secret: [u8; 20] = rand::random();
    let token: [u8; 32] = rand::random();
    Credential {
        access_key_id: format!("ASIA{}", hex(&id).to_uppercase()),
        secret_access_key: hex(&secret),
        session_token: Some(format!("emulator-session-{}", hex(&token))),
    }
}
