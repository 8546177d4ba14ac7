//! What a checkout asks for: the entitlements, their units and values, and
//! the checkout type. Validated once, here, so the guard's flags and the
//! library's builder share one rule.

use std::fmt;
use std::str::FromStr;

/// The units License Manager accepts (its `EntitlementDataUnit` enum).
const UNITS: &[&str] = &[
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

pub use crate::contract_error::EntitlementError;

/// One entitlement to check out: a tier (`Unit` `None`, no value) or a
/// counted dimension (a unit and a value).
///
/// ```
/// use entitled::contract::Requested;
/// let tier: Requested = "Premium".parse().unwrap();
/// assert_eq!((tier.unit(), tier.value()), ("None", None));
/// let seats: Requested = "Seats:Count:2".parse().unwrap();
/// assert!(seats.is_counted());
/// assert_eq!(seats.to_string(), "Seats:Count:2");
/// assert!("Seats:None:1".parse::<Requested>().is_err(), "a tier has no value");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requested {
    name: String,
    unit: String,
    value: Option<String>,
}

impl Requested {
    /// A tier: asked with `Unit` `None`; the answer holds it only if bought.
    pub fn tier(name: impl Into<String>) -> Result<Self, EntitlementError> {
        let name = checked_name(name.into())?;
        Ok(Self {
            name,
            unit: "None".into(),
            value: None,
        })
    }

    /// A counted dimension: `value` units of `unit` (`Count`, ...).
    pub fn counted(
        name: impl Into<String>,
        unit: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, EntitlementError> {
        let name = checked_name(name.into())?;
        let unit = unit.into();
        if !UNITS.contains(&unit.as_str()) {
            return Err(EntitlementError::Unit(unit));
        }
        if unit == "None" {
            return Err(EntitlementError::Shape(name));
        }
        let value = value.into();
        match amount(&value) {
            Some(v) if v > 0.0 => {}
            _ => return Err(EntitlementError::Value(value)),
        }
        Ok(Self {
            name,
            unit,
            value: Some(value),
        })
    }

    /// The entitlement's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its unit: `None` for a tier.
    pub fn unit(&self) -> &str {
        &self.unit
    }
    /// Its value: `None` for a tier.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
    /// True for a counted dimension, false for a tier.
    pub fn is_counted(&self) -> bool {
        self.unit != "None"
    }
}

impl FromStr for Requested {
    type Err = EntitlementError;

    /// `NAME` (a tier) or `NAME:UNIT:VALUE` (counted).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [name] => Self::tier(*name),
            [name, "None"] => Self::tier(*name),
            [name, unit, value] => Self::counted(*name, *unit, *value),
            _ => Err(EntitlementError::Shape(s.to_owned())),
        }
    }
}

impl fmt::Display for Requested {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            None => f.write_str(&self.name),
            Some(v) => write!(f, "{}:{}:{v}", self.name, self.unit),
        }
    }
}

fn checked_name(name: String) -> Result<String, EntitlementError> {
    let bad = |c: char| c == ':' || c == ',' || c.is_whitespace() || c.is_control();
    if name.is_empty() || name.len() > 256 || name.chars().any(bad) {
        return Err(EntitlementError::Name(name));
    }
    Ok(name)
}

/// A decimal amount as License Manager writes values: digits, an optional
/// fraction. Nothing else (no sign, exponent, `NaN` or `inf`).
pub(crate) fn amount(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || text.len() > 40 {
        return None;
    }
    text.parse().ok()
}

/// `PROVISIONAL` (a floating unit, returned by check-in or after the
/// time-to-live) or `PERPETUAL` (drawdown, never returned).
///
/// ```
/// use entitled::contract::CheckoutType;
/// assert_eq!("perpetual".parse::<CheckoutType>().unwrap(), CheckoutType::Perpetual);
/// assert_eq!(CheckoutType::default().as_str(), "PROVISIONAL");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CheckoutType {
    /// Held until checked in, or until the licence's time-to-live (60
    /// minutes by default) runs out.
    #[default]
    Provisional,
    /// Drawn down for good: every checkout consumes.
    Perpetual,
}

impl CheckoutType {
    /// As License Manager spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutType::Provisional => "PROVISIONAL",
            CheckoutType::Perpetual => "PERPETUAL",
        }
    }
}

/// A checkout type other than `provisional` or `perpetual`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("checkout type {0:?} is neither provisional nor perpetual")]
pub struct CheckoutTypeError(pub String);

impl FromStr for CheckoutType {
    type Err = CheckoutTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "provisional" => Ok(CheckoutType::Provisional),
            "perpetual" => Ok(CheckoutType::Perpetual),
            _ => Err(CheckoutTypeError(s.to_owned())),
        }
    }
}

impl fmt::Display for CheckoutType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_parse_or_are_refused_with_their_reason() {
        let ok = [
            ("Pro", "Pro"),
            ("Pro:None", "Pro"),
            ("Seats:Count:1", "Seats:Count:1"),
            ("Data:Gigabytes:1.5", "Data:Gigabytes:1.5"),
        ];
        for (text, shown) in ok {
            assert_eq!(text.parse::<Requested>().unwrap().to_string(), shown);
        }
        type Row = (&'static str, fn(&EntitlementError) -> bool);
        let refused: &[Row] = &[
            ("", |e| matches!(e, EntitlementError::Name(_))),
            ("a b", |e| matches!(e, EntitlementError::Name(_))),
            ("Seats:count:1", |e| matches!(e, EntitlementError::Unit(_))),
            ("Seats:Count:0", |e| matches!(e, EntitlementError::Value(_))),
            ("Seats:Count:-1", |e| {
                matches!(e, EntitlementError::Value(_))
            }),
            ("Seats:Count:1e3", |e| {
                matches!(e, EntitlementError::Value(_))
            }),
            ("Seats:Count:NaN", |e| {
                matches!(e, EntitlementError::Value(_))
            }),
            ("Seats:None:1", |e| matches!(e, EntitlementError::Shape(_))),
            ("Seats:Count", |e| matches!(e, EntitlementError::Shape(_))),
            ("a:b:c:d", |e| matches!(e, EntitlementError::Shape(_))),
        ];
        for (text, expected) in refused {
            let err = text.parse::<Requested>().unwrap_err();
            assert!(expected(&err), "{text}: {err}");
        }
    }
}
