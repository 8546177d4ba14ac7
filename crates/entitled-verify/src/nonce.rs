//! The per-call nonce that binds AWS's signed answer to this very call.

use std::fmt;

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

/// 256 bits: well past the 128 the replay argument needs, and 43 characters
/// of base64url, far under RegisterUsage's 255-character limit.
const NONCE_BYTES: usize = 32;

/// The OS random source failed, which leaves no safe way to make a nonce.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed; no nonce can be made")]
pub struct RandomError;

/// A fresh nonce from the OS CSPRNG, as URL-safe base64 without padding.
///
/// ```
/// let a = entitled_verify::Nonce::generate().unwrap();
/// let b = entitled_verify::Nonce::generate().unwrap();
/// assert_ne!(a, b);
/// assert_eq!(a.as_str().len(), 43);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Nonce(String);

impl Nonce {
    /// Draws a new nonce. Every RegisterUsage call gets its own.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; NONCE_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| RandomError)?;
        Ok(Self(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ))
    }

    /// The nonce text as sent to AWS.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", self.0)
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_url_safe_within_the_api_limit_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let nonce = Nonce::generate().unwrap();
            assert!(nonce.as_str().len() <= 255);
            assert!(nonce
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert!(seen.insert(nonce.0));
        }
    }
}
