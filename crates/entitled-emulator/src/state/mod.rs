//! Everything a request handler may read or change, built once from a [`Config`], and the
//! request as the handlers receive it. Shared by the server, the admin API, the metering
//! pipeline and the operations, so it depends on none of them.

pub(crate) mod ledger;
pub(crate) mod meter_hours;
pub(crate) mod origins;
pub(crate) mod registrations;

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;

use crate::calls::CallLog;
use crate::encoding::hex;
use crate::faults::FaultQueues;
use crate::keys::KeyStore;
use crate::licenses::LicenseManager;
use crate::roles::Role;
use crate::sigv4::{Credential, CredentialStore, Verified};
use crate::throttle::TokenBucket;
use crate::web_identity::OidcProvider;
use crate::Config;
use ledger::Ledger;
use meter_hours::MeterHours;
use origins::{Origin, Origins};
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
    /// The session credentials served by `/_emulator/pod-identity/credentials`.
    pub pod_identity: Credential,
    /// The node (instance) role's session credentials, served by instance metadata.
    pub node_role: Credential,
    /// The IMDSv2 session token `PUT /latest/api/token` hands out.
    pub imds_token: String,
    /// Where credentials came from, for the platform rule and the call log.
    pub origins: Origins,
    /// The OIDC provider whose tokens STS accepts.
    pub oidc: Arc<OidcProvider>,
    /// The roles STS lets web identities assume; any when empty.
    pub roles: Vec<Role>,
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
    /// License Manager: licences, their keys and tokens, the licence clock.
    pub licenses: LicenseManager,
    pub ca_pem: Option<String>,
}

impl State {
    /// True when the platform rule is on and the caller's credentials are not ones AWS
    /// Marketplace accepts (the ECS task role or IRSA).
    pub fn platform_refuses(&self, caller: &Verified) -> bool {
        self.platform_rule
            && !self
                .origins
                .of(&caller.access_key_id, caller.session)
                .marketplace_accepts()
    }

    /// True when the caller may use the product.
    pub fn entitled(&self, product_code: &str, caller: &str) -> bool {
        !self.deny.contains(product_code) && !self.deny_callers.contains(caller)
    }

    /// The state a configuration describes, with its keys loaded and the TLS CA, if any.
    pub fn new(config: &Config, keys: KeyStore, ca_pem: Option<String>) -> State {
        let session = new_session_credential();
        let credentials = CredentialStore::default();
        for c in &config.credentials {
            credentials.insert(c.clone());
        }
        credentials.insert(session.clone());
        let pod_identity = new_session_credential();
        credentials.insert(pod_identity.clone());
        let origins = Origins::default();
        origins.record(&pod_identity.access_key_id, Origin::PodIdentity);
        let node_role = new_session_credential();
        credentials.insert(node_role.clone());
        origins.record(&node_role.access_key_id, Origin::NodeRole);
        let imds_token: [u8; 16] = rand::random();
        let faults = FaultQueues::default();
        for f in &config.faults {
            faults.push(&f.target, f.fault.clone(), f.times, f.operation);
        }
        State {
            region: config.region.clone(),
            credentials,
            session,
            pod_identity,
            node_role,
            imds_token: hex(&imds_token),
            origins,
            oidc: Arc::new(OidcProvider::default()),
            roles: config.roles.clone(),
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
            licenses: LicenseManager::default(),
            ca_pem,
        }
    }
}

/// Random session credentials shaped like STS's.
pub(crate) fn new_session_credential() -> Credential {
    let id: [u8; 8] = rand::random();
    let secret: [u8; 20] = rand::random();
    let token: [u8; 32] = rand::random();
    Credential {
        access_key_id: format!("ASIA{}", hex(&id).to_uppercase()),
        secret_access_key: hex(&secret),
        session_token: Some(format!("emulator-session-{}", hex(&token))),
    }
}
