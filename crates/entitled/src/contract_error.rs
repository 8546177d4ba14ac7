//! The errors of contract pricing that the check's error type carries: in
//! a module of their own, so `error` need not depend on `contract`.

use entitled_verify::LicenseTokenError;

/// An entitlement spelled wrongly, found before any call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntitlementError {
    /// The name is empty or holds a character the answer's list cannot carry.
    #[error("entitlement name {0:?} is empty or holds ':', ',' or whitespace; use the dimension's API name from the listing")]
    Name(String),
    /// The unit is not one License Manager knows.
    #[error("entitlement unit {0:?} is not a License Manager unit; use Count, None, Seconds, Bytes, ... (case-sensitive)")]
    Unit(String),
    /// A counted value that is not a positive decimal number.
    #[error("entitlement value {0:?} is not a positive number; a counted dimension asks for at least one unit")]
    Value(String),
    /// A tier (`Unit` `None`) with a value, or a counted unit without one.
    #[error("entitlement {0:?}: a tier is NAME alone (unit None, no value); a counted dimension is NAME:UNIT:VALUE, such as Seats:Count:1")]
    Shape(String),
    /// The same name twice.
    #[error("entitlement {0:?} is asked for twice")]
    Duplicate(String),
}

/// Why a CheckoutLicense answer was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// A required member is absent or empty.
    #[error("the answer has no {0}")]
    Missing(&'static str),
    /// The checkout type is not the one asked for.
    #[error("the answer's checkout type is {found:?}, not the {asked} asked for")]
    CheckoutType {
        /// What was asked.
        asked: &'static str,
        /// What came back.
        found: String,
    },
    /// An allowed entitlement was never asked for.
    #[error("the answer allows entitlement {0:?}, which was not asked for")]
    NotAsked(String),
    /// The same entitlement is allowed twice.
    #[error("the answer allows entitlement {0:?} twice")]
    Duplicate(String),
    /// An allowed entitlement's unit is not the one asked for.
    #[error("the answer allows {name:?} in unit {found:?}, not the {asked:?} asked for")]
    Unit {
        /// The entitlement.
        name: String,
        /// What was asked.
        asked: String,
        /// What came back.
        found: String,
    },
    /// An allowed value is not a number within what was asked.
    #[error("the answer allows {name:?} with value {found:?}, outside the {asked} asked for")]
    Value {
        /// The entitlement.
        name: String,
        /// What was asked (`no value` for a tier).
        asked: String,
        /// What came back.
        found: String,
    },
    /// A timestamp that names no instant.
    #[error("the answer's {field} {text:?} is not a timestamp")]
    Timestamp {
        /// `IssuedAt` or `Expiration`.
        field: &'static str,
        /// As written.
        text: String,
    },
    /// The consumption has already expired.
    #[error("the answer's Expiration {0:?} is not in the future (check the clock)")]
    Expired(String),
    /// The node id sent was not echoed.
    #[error("the answer's NodeId {found:?} is not the node id sent; the answer may be a replay")]
    NodeId {
        /// What came back.
        found: Option<String>,
    },
    /// The signed token did not verify with the issuer's key.
    #[error("SignedToken: {0}")]
    Token(#[from] LicenseTokenError),
    /// The signed token verified but says something else than the answer.
    #[error("SignedToken claim {0} does not match the answer")]
    TokenClaim(&'static str),
}
