//! The key version, validated once at the boundary.

use std::convert::Infallible;
use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

/// RegisterUsage's `PublicKeyVersion` is a JSON integer of at least 1; the
/// SDK sends it as an `i32`, so `i32::MAX` is the largest that can be asked for.
const MAX: u32 = i32::MAX as u32;

/// The value was not a key version RegisterUsage can be asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("public key version {0} is invalid; key versions are integers from 1 to 2147483647, as AWS Marketplace gave with the key")]
pub struct KeyVersionError(String);

impl From<Infallible> for KeyVersionError {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// A product key version: an integer from 1 to `i32::MAX`.
///
/// This type is the only place that range lives; once built, a `KeyVersion`
/// cannot be out of range.
///
/// ```
/// use entitled_verify::KeyVersion;
/// let v: KeyVersion = "2".parse().unwrap();
/// assert_eq!(v.get(), 2);
/// assert!(KeyVersion::try_from(0u32).is_err());
/// assert!(KeyVersion::try_from(3_000_000_000u32).is_err());
/// assert_eq!(KeyVersion::default().get(), 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyVersion(NonZeroU32);

impl KeyVersion {
    /// Version 1, the version of every product's first key.
    pub const FIRST: KeyVersion = KeyVersion(NonZeroU32::MIN);

    /// The largest version RegisterUsage can be asked for, `i32::MAX`.
    ///
    /// ```
    /// use entitled_verify::KeyVersion;
    /// assert_eq!(KeyVersion::MAX.get(), 2_147_483_647);
    /// assert!(KeyVersion::try_from(i64::from(KeyVersion::MAX.get()) + 1).is_err());
    /// ```
    pub const MAX: KeyVersion = match NonZeroU32::new(MAX) {
        Some(max) => KeyVersion(max),
        // Never taken (MAX is not zero); a const item has no `?` or fallible result.
        None => Self::FIRST,
    };

    /// The version number.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// Any other integer type, through `u32` so the range is checked in one place.
    fn from_integer<T>(value: T) -> Result<Self, KeyVersionError>
    where
        T: Copy + fmt::Display,
        u32: TryFrom<T>,
    {
        u32::try_from(value)
            .map_err(|_| KeyVersionError(value.to_string()))
            .and_then(Self::try_from)
    }
}

impl Default for KeyVersion {
    fn default() -> Self {
        Self::FIRST
    }
}

impl TryFrom<u32> for KeyVersion {
    type Error = KeyVersionError;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        match NonZeroU32::new(value) {
            Some(v) if value <= MAX => Ok(Self(v)),
            _ => Err(KeyVersionError(value.to_string())),
        }
    }
}

impl TryFrom<i32> for KeyVersion {
    type Error = KeyVersionError;
    fn try_from(value: i32) -> Result<Self, Self::Error> {
        Self::from_integer(value)
    }
}

/// For JSON integers, which `serde_json` reads as `i64`.
impl TryFrom<i64> for KeyVersion {
    type Error = KeyVersionError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::from_integer(value)
    }
}

impl TryFrom<u64> for KeyVersion {
    type Error = KeyVersionError;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::from_integer(value)
    }
}

impl FromStr for KeyVersion {
    type Err = KeyVersionError;
    /// A decimal integer, as `u32::from_str` reads it: no spaces, no `v1`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<u32>()
            .ok()
            .and_then(|v| Self::try_from(v).ok())
            .ok_or_else(|| KeyVersionError(format!("{text:?}")))
    }
}

impl From<KeyVersion> for u32 {
    fn from(version: KeyVersion) -> u32 {
        version.get()
    }
}

impl From<KeyVersion> for i32 {
    fn from(version: KeyVersion) -> i32 {
        // In range by construction: 1..=i32::MAX.
        version.get() as i32
    }
}

impl fmt::Display for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_1_to_i32_max_whatever_the_input_type() {
        assert_eq!(KeyVersion::try_from(1u32).unwrap().get(), 1);
        assert_eq!(KeyVersion::try_from(i32::MAX).unwrap().get(), MAX);
        assert!(KeyVersion::try_from(MAX + 1).is_err());
        assert!(KeyVersion::try_from(3_000_000_000u32).is_err());
        assert!(KeyVersion::try_from(-1i32).is_err());
        assert!(KeyVersion::try_from(0i32).is_err());
        assert!(KeyVersion::try_from(u64::from(u32::MAX) + 1).is_err());
        assert_eq!(
            KeyVersion::try_from(i64::from(MAX)).unwrap(),
            KeyVersion::MAX
        );
        assert!(KeyVersion::try_from(i64::from(MAX) + 1).is_err());
        assert!(KeyVersion::try_from(0i64).is_err());
        assert!(KeyVersion::try_from(i64::MIN).is_err());
        assert_eq!("2147483647".parse::<KeyVersion>().unwrap().get(), MAX);
        for bad in ["", "0", "v1", " 1", "-1", "2147483648", "1.0"] {
            assert!(bad.parse::<KeyVersion>().is_err(), "{bad:?}");
        }
        assert_eq!(i32::from(KeyVersion::try_from(7u32).unwrap()), 7);
    }
}
