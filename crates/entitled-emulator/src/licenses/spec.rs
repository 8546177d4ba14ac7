//! A licence as the admin API, the config file and `--license` describe it ([`LicenseSpec`]),
//! checked into the [`License`] the store holds. The model's enums live here too: every
//! module that checks a unit or a status reads them from this one place.

use serde::{Deserialize, Serialize};

use crate::roles::DEFAULT_ACCOUNT;

use super::clock::parse_timestamp;
use super::store::{Entitlement, License};

/// AWS Marketplace's issuer fingerprint: the `KeyFingerprint` every Marketplace licence has.
pub const MARKETPLACE_FINGERPRINT: &str = "aws:294406891311:AWS/Marketplace:issuer-fingerprint";
/// AWS Marketplace's issuer name.
pub(crate) const MARKETPLACE_ISSUER: &str = "AWS/Marketplace";
/// The model's `EntitlementUnit` (and `EntitlementDataUnit`) values.
pub(crate) const UNITS: [&str; 27] = [
    "Count",
    "None",
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
];
/// The model's `LicenseStatus` values.
pub(crate) const STATUSES: [&str; 7] = [
    "AVAILABLE",
    "PENDING_AVAILABLE",
    "DEACTIVATED",
    "SUSPENDED",
    "EXPIRED",
    "PENDING_DELETE",
    "DELETED",
];
/// The provisional time-to-live when a licence names none: AWS's 60 minutes.
const DEFAULT_TTL_MINUTES: u32 = 60;
/// How long a licence is valid when it names no end: a year, a common contract term.
const DEFAULT_TERM_SECONDS: u64 = 365 * 86_400;

/// A licence to seed: `POST /_emulator/licenses`, the config file's `licenses`, or
/// [`crate::Config::license`]. Unknown fields are refused, naming them.
///
/// # Example
/// ```
/// use entitled_emulator::LicenseSpec;
/// let spec: LicenseSpec = serde_json::from_str(r#"{"product_sku": "prod-sku",
///     "entitlements": [{"name": "Premium", "unit": "None"},
///                      {"name": "Users", "unit": "Count", "max_count": 5}]}"#).unwrap();
/// assert_eq!(spec.entitlements[1].max_count, Some(5));
/// assert!(serde_json::from_str::<LicenseSpec>(r#"{"product_sku": "p", "entitlements": [], "sku": 1}"#)
///     .unwrap_err().to_string().contains("sku"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseSpec {
    /// The `ProductSKU` checkouts name (for Marketplace, the product id).
    pub product_sku: String,
    /// The account the licence is granted to; the default caller's account `123456789012`.
    #[serde(default)]
    pub beneficiary: Option<String>,
    /// What the licence grants.
    pub entitlements: Vec<EntitlementSpec>,
    /// A `LicenseStatus`; `AVAILABLE` by default.
    #[serde(default)]
    pub status: Option<String>,
    /// When the licence is valid; from now for a year by default.
    #[serde(default)]
    pub validity: Option<ValiditySpec>,
    /// The issuer's name; `AWS/Marketplace` by default.
    #[serde(default)]
    pub issuer_name: Option<String>,
    /// The issuer's key fingerprint checkouts must name; AWS Marketplace's by default.
    #[serde(default)]
    pub key_fingerprint: Option<String>,
    /// How long a provisional checkout holds its units; 60 minutes by default.
    #[serde(default)]
    pub provisional_ttl_minutes: Option<u32>,
}

/// One entitlement of a [`LicenseSpec`]: a tier (`unit` `None`) or counted units.
///
/// # Example
/// ```
/// use entitled_emulator::EntitlementSpec;
/// assert_eq!(EntitlementSpec::tier("Premium").unit, "None");
/// let seats = EntitlementSpec::count("Users", 5);
/// assert_eq!((seats.unit.as_str(), seats.max_count), ("Count", Some(5)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitlementSpec {
    /// The entitlement (dimension) name, as checkouts ask for it.
    pub name: String,
    /// An `EntitlementUnit`: `None` for a tier, `Count` (or another unit) for units.
    pub unit: String,
    /// The entitlement's `Value`, shown by GetLicense.
    #[serde(default)]
    pub value: Option<String>,
    /// Counted entitlements: the units bought. Required unless `overage` is on.
    #[serde(default)]
    pub max_count: Option<u64>,
    /// Counted entitlements: checkouts beyond `max_count` are allowed.
    #[serde(default)]
    pub overage: Option<bool>,
    /// Whether CheckInLicense may return the units early; true by default.
    #[serde(default)]
    pub allow_check_in: Option<bool>,
}

/// A licence's validity, as ISO 8601 timestamps (`2030-01-01T00:00:00Z`).
///
/// # Example
/// ```
/// use entitled_emulator::{Config, EntitlementSpec, LicenseSpec, ValiditySpec};
/// let ended = LicenseSpec {
///     validity: Some(ValiditySpec { begin: "2020-01-01T00:00:00Z".into(), end: Some("2021-01-01T00:00:00Z".into()) }),
///     ..LicenseSpec::new("old-sku", vec![EntitlementSpec::tier("Basic")])
/// };
/// let config = Config::new().license(ended); // checkouts get NoEntitlementsAllowedException
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValiditySpec {
    /// The start.
    pub begin: String,
    /// The end; a year after `begin` when absent.
    #[serde(default)]
    pub end: Option<String>,
}

impl LicenseSpec {
    /// A licence for `product_sku` with these entitlements and every default.
    pub fn new(product_sku: impl Into<String>, entitlements: Vec<EntitlementSpec>) -> Self {
        LicenseSpec {
            product_sku: product_sku.into(),
            beneficiary: None,
            entitlements,
            status: None,
            validity: None,
            issuer_name: None,
            key_fingerprint: None,
            provisional_ttl_minutes: None,
        }
    }

    /// The fingerprint checkouts must name.
    pub(crate) fn fingerprint(&self) -> &str {
        self.key_fingerprint
            .as_deref()
            .unwrap_or(MARKETPLACE_FINGERPRINT)
    }

    /// The licence this spec describes, created `now` (licence clock), or what is wrong with
    /// it and how to fix it.
    pub(crate) fn into_license(self, now: u64) -> Result<License, String> {
        if self.product_sku.trim().is_empty() {
            return Err("product_sku must not be empty".into());
        }
        let beneficiary = self.beneficiary.clone().unwrap_or(DEFAULT_ACCOUNT.into());
        if beneficiary.len() != 12 || !beneficiary.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "beneficiary {beneficiary:?} is not a 12-digit AWS account id"
            ));
        }
        let status = self.status.clone().unwrap_or("AVAILABLE".into());
        check_status(&status)?;
        let (begin, end) = match &self.validity {
            None => (now, now + DEFAULT_TERM_SECONDS),
            Some(v) => validity(v)?,
        };
        let ttl = self.provisional_ttl_minutes.unwrap_or(DEFAULT_TTL_MINUTES);
        if ttl == 0 {
            return Err("provisional_ttl_minutes must be at least 1".into());
        }
        if self.entitlements.is_empty() {
            return Err("entitlements must name at least one entitlement".into());
        }
        let mut entitlements: Vec<Entitlement> = Vec::new();
        for e in &self.entitlements {
            if entitlements.iter().any(|seen| seen.name == e.name) {
                return Err(format!("entitlement {:?} is given twice", e.name));
            }
            entitlements.push(entitlement(e)?);
        }
        let fingerprint = self.fingerprint().to_owned();
        let id: [u8; 16] = rand::random();
        Ok(License {
            arn: format!(
                "arn:aws:license-manager::{}:license:l-{}",
                issuer_account(&fingerprint),
                crate::encoding::hex(&id)
            ),
            product_sku: self.product_sku,
            beneficiary,
            status,
            begin,
            end,
            issuer_name: self.issuer_name.unwrap_or(MARKETPLACE_ISSUER.into()),
            fingerprint,
            entitlements,
            ttl_seconds: u64::from(ttl) * 60,
            created: now,
            version: 1,
            consumptions: Vec::new(),
            drawn: Default::default(),
        })
    }
}

impl EntitlementSpec {
    /// A tier: `unit` `None`.
    pub fn tier(name: impl Into<String>) -> Self {
        EntitlementSpec {
            name: name.into(),
            unit: "None".into(),
            value: None,
            max_count: None,
            overage: None,
            allow_check_in: None,
        }
    }

    /// `max_count` units of `Count`.
    pub fn count(name: impl Into<String>, max_count: u64) -> Self {
        EntitlementSpec {
            unit: "Count".into(),
            max_count: Some(max_count),
            ..Self::tier(name)
        }
    }
}

/// `--license SKU=ENTITLEMENT[,ENTITLEMENT...]`, each `NAME` (a tier) or `NAME:COUNT`.
impl std::str::FromStr for LicenseSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = "expected SKU=ENTITLEMENT[,ENTITLEMENT...], each NAME (a tier) or NAME:COUNT (units), e.g. prod-sku=Premium,Users:5";
        let (sku, list) = s.split_once('=').ok_or(usage)?;
        let entitlements = list
            .split(',')
            .map(|item| match item.split_once(':') {
                None if !item.is_empty() => Ok(EntitlementSpec::tier(item)),
                Some((name, n)) if !name.is_empty() => n
                    .parse()
                    .map(|n| EntitlementSpec::count(name, n))
                    .map_err(|_| format!("{n:?} is not a number of units; {usage}")),
                _ => Err(usage.to_owned()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if sku.is_empty() {
            return Err(usage.into());
        }
        Ok(LicenseSpec::new(sku, entitlements))
    }
}

/// Refuses a status outside the model's `LicenseStatus`.
pub(crate) fn check_status(status: &str) -> Result<(), String> {
    if STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(format!(
            "status {status:?} is not a LicenseStatus; use one of {}",
            STATUSES.join(", ")
        ))
    }
}

fn validity(v: &ValiditySpec) -> Result<(u64, u64), String> {
    let parse = |what: &str, s: &str| {
        parse_timestamp(s).ok_or_else(|| {
            format!("validity.{what} {s:?} is not an ISO 8601 time like 2030-01-01T00:00:00Z")
        })
    };
    let begin = parse("begin", &v.begin)?;
    let end = match &v.end {
        Some(end) => parse("end", end)?,
        None => begin + DEFAULT_TERM_SECONDS,
    };
    if end <= begin {
        return Err("validity.end must be after validity.begin".into());
    }
    Ok((begin, end))
}

fn entitlement(e: &EntitlementSpec) -> Result<Entitlement, String> {
    if e.name.is_empty() {
        return Err("an entitlement name must not be empty".into());
    }
    if !UNITS.contains(&e.unit.as_str()) {
        return Err(format!(
            "entitlement {:?}: unit {:?} is not an EntitlementUnit; use None for a tier, Count for units",
            e.name, e.unit
        ));
    }
    let overage = e.overage.unwrap_or(false);
    let tier = e.unit == "None";
    if tier && (e.max_count.is_some() || overage) {
        return Err(format!(
            "entitlement {:?}: a tier (unit None) has no max_count or overage",
            e.name
        ));
    }
    if !tier && e.max_count.is_none() && !overage {
        return Err(format!(
            "entitlement {:?}: counted units need max_count (or overage: true)",
            e.name
        ));
    }
    Ok(Entitlement {
        name: e.name.clone(),
        unit: e.unit.clone(),
        value: e.value.clone(),
        max_count: e.max_count,
        overage,
        allow_check_in: e.allow_check_in.unwrap_or(true),
    })
}

/// The account in a fingerprint shaped `aws:ACCOUNT:...` (AWS Marketplace's is 294406891311),
/// which owns the licence ARN; the Marketplace account otherwise.
fn issuer_account(fingerprint: &str) -> &str {
    fingerprint
        .split(':')
        .nth(1)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("294406891311")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_spells_tiers_and_units() {
        let spec: LicenseSpec = "prod-sku=Premium,Users:5".parse().unwrap();
        assert_eq!(spec.product_sku, "prod-sku");
        assert_eq!(
            spec.entitlements,
            [
                EntitlementSpec::tier("Premium"),
                EntitlementSpec::count("Users", 5)
            ]
        );
        for bad in ["prod-sku", "=Premium", "p=Users:x", "p=", "p=:3"] {
            assert!(bad.parse::<LicenseSpec>().is_err(), "{bad}");
        }
    }

    /// Every way a licence can be wrong, each refused with a message naming it.
    #[test]
    fn bad_licences_are_refused_naming_the_problem() {
        let good = || LicenseSpec::new("sku", vec![EntitlementSpec::tier("Basic")]);
        let cases: Vec<(LicenseSpec, &str)> = vec![
            (
                LicenseSpec::new(" ", vec![EntitlementSpec::tier("a")]),
                "product_sku",
            ),
            (
                LicenseSpec {
                    beneficiary: Some("12".into()),
                    ..good()
                },
                "beneficiary",
            ),
            (
                LicenseSpec {
                    status: Some("ACTIVE".into()),
                    ..good()
                },
                "LicenseStatus",
            ),
            (
                LicenseSpec {
                    provisional_ttl_minutes: Some(0),
                    ..good()
                },
                "provisional_ttl",
            ),
            (LicenseSpec::new("sku", vec![]), "at least one"),
            (
                LicenseSpec::new(
                    "sku",
                    vec![EntitlementSpec::tier("a"), EntitlementSpec::tier("a")],
                ),
                "twice",
            ),
            (
                LicenseSpec::new(
                    "sku",
                    vec![EntitlementSpec {
                        unit: "Seats".into(),
                        ..EntitlementSpec::tier("a")
                    }],
                ),
                "EntitlementUnit",
            ),
            (
                LicenseSpec::new(
                    "sku",
                    vec![EntitlementSpec {
                        max_count: None,
                        ..EntitlementSpec::count("a", 1)
                    }],
                ),
                "max_count",
            ),
            (
                LicenseSpec::new(
                    "sku",
                    vec![EntitlementSpec {
                        max_count: Some(1),
                        ..EntitlementSpec::tier("a")
                    }],
                ),
                "a tier",
            ),
            (
                LicenseSpec {
                    validity: Some(ValiditySpec {
                        begin: "2030-01-01T00:00:00Z".into(),
                        end: Some("2029-01-01T00:00:00Z".into()),
                    }),
                    ..good()
                },
                "after",
            ),
            (
                LicenseSpec {
                    validity: Some(ValiditySpec {
                        begin: "soon".into(),
                        end: None,
                    }),
                    ..good()
                },
                "validity.begin",
            ),
        ];
        for (spec, named) in cases {
            let err = spec.clone().into_license(0).unwrap_err();
            assert!(err.contains(named), "{spec:?}: {err}");
        }
        let license = good().into_license(1_000).unwrap();
        assert!(license
            .arn
            .starts_with("arn:aws:license-manager::294406891311:license:l-"));
        assert_eq!(
            (license.begin, license.end),
            (1_000, 1_000 + DEFAULT_TERM_SECONDS)
        );
        assert_eq!(license.ttl_seconds, 3600);
        assert_eq!(license.beneficiary, DEFAULT_ACCOUNT);
    }
}
