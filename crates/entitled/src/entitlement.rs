//! The result of a passed check.

use std::time::SystemTime;

use entitled_verify::VerifiedToken;

/// Proof that RegisterUsage answered for this product and that its token
/// verified. Only the check builds one.
///
/// [`CheckBuilder`](crate::CheckBuilder) shows one being made and read.
#[derive(Clone, Debug)]
pub struct Entitlement {
    token: VerifiedToken,
    attempts: u32,
    key_rotation: Option<SystemTime>,
}

impl Entitlement {
    pub(crate) fn new(
        token: VerifiedToken,
        attempts: u32,
        key_rotation: Option<SystemTime>,
    ) -> Self {
        Self {
            token,
            attempts,
            key_rotation,
        }
    }

    /// The verified product code.
    pub fn product_code(&self) -> &str {
        self.token.product_code()
    }
    /// The verified key version.
    pub fn key_version(&self) -> u32 {
        self.token.key_version()
    }
    /// The nonce this call sent, which the token echoed.
    pub fn nonce(&self) -> &str {
        self.token.nonce()
    }
    /// When AWS issued the token, if it said.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.token.issued_at()
    }
    /// The raw token, for hand-off to the program.
    pub fn token(&self) -> &str {
        self.token.raw()
    }
    /// RegisterUsage calls made, including the successful one.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// Set when AWS says this key version has expired
    /// (`PublicKeyRotationTimestamp`): the check still passes, but a new key
    /// and version must be shipped.
    pub fn key_rotation(&self) -> Option<SystemTime> {
        self.key_rotation
    }
    /// [`key_rotation`](Self::key_rotation) as RFC 3339 text in UTC, such
    /// as `2026-01-01T00:00:00Z`, for a log line.
    pub fn key_rotation_rfc3339(&self) -> Option<String> {
        self.key_rotation.map(entitled_verify::calendar::rfc3339)
    }
}
