//! The product code, validated once at the boundary.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

/// The text was not a product code AWS Marketplace would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("product code {0:?} is invalid: AWS Marketplace product codes are 1-255 characters of letters, digits and -/=:_.@; copy it from the AWS Marketplace Management Portal")]
pub struct ProductCodeError(String);

impl From<Infallible> for ProductCodeError {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// An AWS Marketplace product code: 1-255 characters matching the service
/// model's pattern [`ProductCode::PATTERN`].
///
/// This type is the only place that rule lives; once built, a `ProductCode`
/// cannot be invalid.
///
/// ```
/// use entitled_verify::ProductCode;
/// let code: ProductCode = "prod-abc123".parse().unwrap();
/// assert_eq!(code.as_str(), "prod-abc123");
/// assert!("has space".parse::<ProductCode>().is_err());
/// assert!(ProductCode::try_from("x".repeat(256)).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductCode(String);

impl ProductCode {
    /// The most characters a product code has: RegisterUsage's `ProductCode`
    /// length limit.
    ///
    /// ```
    /// use entitled_verify::ProductCode;
    /// assert!(ProductCode::try_from("x".repeat(ProductCode::MAX_LEN)).is_ok());
    /// ```
    pub const MAX_LEN: usize = 255;

    /// The service model's pattern for `ProductCode`, as AWS quotes it in a
    /// `ValidationException`. [`ProductCode::try_from`] decides by it; the
    /// text is for messages that must quote the rule.
    ///
    /// ```
    /// use entitled_verify::ProductCode;
    /// assert_eq!(ProductCode::PATTERN, "^[-a-zA-Z0-9/=:_.@]*$");
    /// ```
    pub const PATTERN: &'static str = "^[-a-zA-Z0-9/=:_.@]*$";

    /// The product code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is_valid(text: &str) -> bool {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-/=:_.@".contains(&b);
        !text.is_empty() && text.len() <= Self::MAX_LEN && text.bytes().all(allowed)
    }
}

impl TryFrom<String> for ProductCode {
    type Error = ProductCodeError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        if Self::is_valid(&text) {
            Ok(Self(text))
        } else {
            Err(ProductCodeError(text))
        }
    }
}

impl TryFrom<&str> for ProductCode {
    type Error = ProductCodeError;
    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::try_from(text.to_owned())
    }
}

impl TryFrom<&String> for ProductCode {
    type Error = ProductCodeError;
    fn try_from(text: &String) -> Result<Self, Self::Error> {
        Self::try_from(text.as_str())
    }
}

impl FromStr for ProductCode {
    type Err = ProductCodeError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::try_from(text)
    }
}

impl AsRef<str> for ProductCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProductCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProductCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_codes_follow_the_api_pattern() {
        for ok in [
            "a",
            "prod-1234",
            "1fszvu527waovqeuhpkyx2b5d",
            "a/b=c:d_e.f@g",
            &"x".repeat(255),
        ] {
            assert!(ok.parse::<ProductCode>().is_ok(), "{ok}");
        }
        for bad in ["", "has space", "semi;colon", "ünï", &"x".repeat(256)] {
            let err = bad.parse::<ProductCode>().unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }
}
