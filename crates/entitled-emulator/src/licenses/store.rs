//! The licences and their consumptions, and the rules of CheckoutLicense,
//! ExtendLicenseConsumption and CheckInLicense. One lock guards the whole store, so a checkout
//! counts units and holds them in one step: two checkouts can never take the same last unit.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::calls::EntitlementData;
use crate::wire::ServiceError;

use super::keys::LicenseKeys;
use super::signed_token;

/// One entitlement of a licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entitlement {
    pub name: String,
    pub unit: String,
    pub value: Option<String>,
    pub max_count: Option<u64>,
    pub overage: bool,
    pub allow_check_in: bool,
}

impl Entitlement {
    fn is_tier(&self) -> bool {
        self.unit == "None"
    }
}

/// A licence granted to one account, with every checkout made against it.
#[derive(Debug, Clone)]
pub(crate) struct License {
    pub arn: String,
    pub product_sku: String,
    pub beneficiary: String,
    pub status: String,
    /// Validity, epoch seconds on the licence clock.
    pub begin: u64,
    pub end: u64,
    pub issuer_name: String,
    pub fingerprint: String,
    pub entitlements: Vec<Entitlement>,
    pub ttl_seconds: u64,
    pub created: u64,
    pub version: u32,
    pub consumptions: Vec<Consumption>,
    /// Units drawn down for good by PERPETUAL checkouts, by entitlement name.
    pub drawn: HashMap<String, u64>,
}

impl License {
    /// The status GetLicense shows: an `AVAILABLE` licence past its end is `EXPIRED`.
    pub fn status_at(&self, now: u64) -> &str {
        if self.status == "AVAILABLE" && now >= self.end {
            "EXPIRED"
        } else {
            &self.status
        }
    }

    /// Units of `name` in use at `now`: drawn for good, plus held by live provisional checkouts.
    fn used(&self, name: &str, now: u64) -> u64 {
        let held: u64 = self
            .consumptions
            .iter()
            .filter(|c| c.checkout_type == CheckoutType::Provisional && c.live(now))
            .flat_map(|c| &c.units)
            .filter(|(n, _)| n == name)
            .map(|(_, units)| units)
            .sum();
        self.drawn.get(name).copied().unwrap_or(0) + held
    }

    fn usable_at(&self, now: u64) -> Result<(), String> {
        if self.status != "AVAILABLE" {
            return Err(format!("the licence is {}", self.status));
        }
        if now < self.begin || now >= self.end {
            return Err("the licence is outside its validity".into());
        }
        Ok(())
    }
}

/// `CheckoutType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckoutType {
    /// Floating: held until checked in or the time-to-live runs out.
    Provisional,
    /// Drawdown: never returned.
    Perpetual,
}

impl CheckoutType {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutType::Provisional => "PROVISIONAL",
            CheckoutType::Perpetual => "PERPETUAL",
        }
    }
}

/// Units taken, by entitlement name (tiers take none).
pub(crate) type Units = Vec<(String, u64)>;

/// One checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Consumption {
    pub token: String,
    pub checkout_type: CheckoutType,
    pub allowed: Vec<EntitlementData>,
    /// Units this checkout took.
    pub units: Units,
    pub issued_at: u64,
    pub expiration: u64,
    pub node_id: Option<String>,
    pub checked_in: bool,
}

impl Consumption {
    /// Neither checked in nor expired.
    pub fn live(&self, now: u64) -> bool {
        !self.checked_in && now < self.expiration
    }
}

/// A validated CheckoutLicense request. Two requests with the same `ClientToken` must be
/// equal in everything else to be the same checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckoutRequest {
    pub product_sku: String,
    pub checkout_type: CheckoutType,
    pub key_fingerprint: String,
    pub entitlements: Vec<EntitlementData>,
    pub client_token: String,
    pub beneficiary: Option<String>,
    pub node_id: Option<String>,
}

/// A granted checkout: the answer CheckoutLicense gives, stored for retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checkout {
    pub license_arn: String,
    pub consumption: Consumption,
    pub signed_token: String,
}

/// A checkout kept for its `ClientToken`.
#[derive(Debug)]
struct Replay {
    request: CheckoutRequest,
    answer: Checkout,
}

#[derive(Debug, Default)]
struct Inner {
    licenses: Vec<License>,
    /// By (account, ClientToken).
    replays: HashMap<(String, String), Replay>,
}

/// Every licence.
#[derive(Debug, Default)]
pub(crate) struct LicenseStore {
    inner: Mutex<Inner>,
}

fn error(code: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::license_manager(code, message)
}

fn no_entitlements(message: impl Into<String>) -> ServiceError {
    error("NoEntitlementsAllowedException", message)
}

fn consumption_not_found(token: &str) -> ServiceError {
    error(
        "ResourceNotFoundException",
        format!("License consumption {token} was not found: it expired, was checked in, or is not this account's"),
    )
}

impl LicenseStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, license: License) {
        self.lock().licenses.push(license);
    }

    /// Every licence as it stands.
    pub fn snapshot(&self) -> Vec<License> {
        self.lock().licenses.clone()
    }

    /// Sets a licence's status; false when there is no such licence.
    pub fn set_status(&self, arn: &str, status: &str) -> bool {
        let mut inner = self.lock();
        let Some(license) = inner.licenses.iter_mut().find(|l| l.arn == arn) else {
            return false;
        };
        license.status = status.to_owned();
        license.version += 1;
        true
    }

    /// The licence `arn`, if it exists.
    pub fn get(&self, arn: &str) -> Option<License> {
        self.lock().licenses.iter().find(|l| l.arn == arn).cloned()
    }

    /// The licence a consumption token belongs to.
    pub fn license_of_token(&self, token: &str) -> Option<License> {
        self.lock()
            .licenses
            .iter()
            .find(|l| l.consumptions.iter().any(|c| c.token == token))
            .cloned()
    }

    /// CheckoutLicense for `account` at `now` (licence clock); see the crate README for
    /// the rules. A retry with the same `ClientToken` and parameters gets the first answer.
    pub fn checkout(
        &self,
        req: &CheckoutRequest,
        account: &str,
        now: u64,
        keys: &LicenseKeys,
    ) -> Result<Checkout, ServiceError> {
        let mut inner = self.lock();
        let replay_key = (account.to_owned(), req.client_token.clone());
        if let Some(replay) = inner.replays.get(&replay_key) {
            if replay.request == *req {
                return Ok(replay.answer.clone());
            }
            return Err(error(
                "ConflictException",
                format!("ClientToken {} was used with other parameters; use a new ClientToken for a new checkout", req.client_token),
            ));
        }
        // The account may hold several licences for the SKU (a suspended one and its
        // replacement): the first usable one serves; with none, the first one's reason is given.
        let mut matching = inner.licenses.iter_mut().filter(|l| {
            l.beneficiary == account
                && l.product_sku == req.product_sku
                && l.fingerprint == req.key_fingerprint
        });
        let mut refusal = None;
        let license = loop {
            let Some(candidate) = matching.next() else {
                return Err(no_entitlements(refusal.unwrap_or_else(|| {
                    format!(
                        "No entitlements allowed: account {account} has no licence for product SKU {} from issuer {}",
                        req.product_sku, req.key_fingerprint
                    )
                })));
            };
            match candidate.usable_at(now) {
                Ok(()) => break candidate,
                Err(why) => {
                    refusal.get_or_insert(format!("No entitlements allowed: {why}"));
                }
            }
        };
        let (allowed, units) = grant(license, &req.entitlements, now)?;
        if allowed.is_empty() {
            return Err(no_entitlements(
                "No entitlements allowed: the licence has none of the entitlements asked for, or not enough units left",
            ));
        }
        let key = keys.issuer_if_made(&license.fingerprint).ok_or_else(|| {
            error(
                "ServerInternalException",
                "the issuer's signing key is missing",
            )
        })?;
        if req.checkout_type == CheckoutType::Perpetual {
            for (name, n) in &units {
                *license.drawn.entry(name.clone()).or_default() += n;
            }
        }
        let id: [u8; 16] = rand::random();
        let consumption = Consumption {
            token: crate::encoding::hex(&id),
            checkout_type: req.checkout_type,
            allowed,
            units,
            issued_at: now,
            expiration: now + license.ttl_seconds,
            node_id: req.node_id.clone(),
            checked_in: false,
        };
        let signed_token = signed_token::sign(&license.arn, &consumption, &key);
        license.consumptions.push(consumption.clone());
        let answer = Checkout {
            license_arn: license.arn.clone(),
            consumption,
            signed_token,
        };
        inner.replays.insert(
            replay_key,
            Replay {
                request: req.clone(),
                answer: answer.clone(),
            },
        );
        Ok(answer)
    }

    /// ExtendLicenseConsumption: the live consumption `token` of `account` expires one more
    /// time-to-live later (unless `dry_run`). Returns the new expiration.
    pub fn extend(
        &self,
        token: &str,
        account: &str,
        dry_run: bool,
        now: u64,
    ) -> Result<u64, ServiceError> {
        let mut inner = self.lock();
        let (license, at) = find_live(&mut inner, token, account, now)?;
        // A licence suspended or ended while a unit was held extends nothing: the holder's
        // next extension tells it the licence is gone (ExtendLicenseConsumption models no
        // NoEntitlementsAllowedException, so it is ResourceNotFoundException).
        let status = license.status_at(now);
        if status != "AVAILABLE" {
            return Err(error(
                "ResourceNotFoundException",
                format!(
                    "License {} is {status}: consumption {token} cannot be extended",
                    license.arn
                ),
            ));
        }
        let ttl = license.ttl_seconds;
        let consumption = &mut license.consumptions[at];
        let expiration = consumption.expiration + ttl;
        if !dry_run {
            consumption.expiration = expiration;
        }
        Ok(expiration)
    }

    /// CheckInLicense: releases the live consumption `token` of `account`.
    pub fn check_in(&self, token: &str, account: &str, now: u64) -> Result<(), ServiceError> {
        let mut inner = self.lock();
        let (license, at) = find_live(&mut inner, token, account, now)?;
        let locked = license.consumptions[at].units.iter().find(|(name, _)| {
            license
                .entitlements
                .iter()
                .any(|e| e.name == *name && !e.allow_check_in)
        });
        if let Some((name, _)) = locked {
            return Err(error(
                "ConflictException",
                format!("Entitlement {name} does not allow check-in; its units return when the consumption expires"),
            ));
        }
        license.consumptions[at].checked_in = true;
        Ok(())
    }
}

/// The live consumption `token` of `account`: its licence and its index there.
fn find_live<'a>(
    inner: &'a mut Inner,
    token: &str,
    account: &str,
    now: u64,
) -> Result<(&'a mut License, usize), ServiceError> {
    inner
        .licenses
        .iter_mut()
        .filter(|l| l.beneficiary == account)
        .find_map(|l| {
            let at = l
                .consumptions
                .iter()
                .position(|c| c.token == token && c.live(now))?;
            Some((l, at))
        })
        .ok_or_else(|| consumption_not_found(token))
}

/// What a checkout of `asked` gets from `license` at `now`: the entitlements allowed, and the
/// units taken. Each entitlement is judged alone, in order; one the licence lacks, asked with
/// another unit, or without enough units left is left out.
fn grant(
    license: &License,
    asked: &[EntitlementData],
    now: u64,
) -> Result<(Vec<EntitlementData>, Units), ServiceError> {
    let mut allowed = Vec::new();
    let mut units: Units = Vec::new();
    for want in asked {
        let Some(have) = license.entitlements.iter().find(|e| e.name == want.name) else {
            continue;
        };
        // A counted entitlement asked as a tier (Unit None) is refused, as on AWS.
        if have.unit != want.unit {
            continue;
        }
        if have.is_tier() {
            allowed.push(want.clone());
            continue;
        }
        let n = units_asked(want)?;
        let taken_here: u64 = units
            .iter()
            .filter(|(name, _)| *name == want.name)
            .map(|(_, n)| n)
            .sum();
        let in_use = license.used(&want.name, now) + taken_here;
        let fits = have.max_count.is_none_or(|max| in_use + n <= max);
        if fits || have.overage {
            allowed.push(EntitlementData {
                value: Some(n.to_string()),
                ..want.clone()
            });
            units.push((want.name.clone(), n));
        }
    }
    Ok((allowed, units))
}

/// The units a counted entitlement asks for: `Value`, 1 when absent.
fn units_asked(want: &EntitlementData) -> Result<u64, ServiceError> {
    match &want.value {
        None => Ok(1),
        Some(v) => v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            error(
                "InvalidParameterValueException",
                format!(
                    "Entitlement {}: Value {v:?} is not a positive whole number of {}",
                    want.name, want.unit
                ),
            )
        }),
    }
}
