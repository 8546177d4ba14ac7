//! Client-chosen idempotency keys: a request resent with the same key after a lost
//! acknowledgement (a crash between the journal write and the reply) is acknowledged again
//! without adding its usage twice.

use super::error::MeterError;

/// The longest key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 128;

/// A key naming one request (one record or one batch): 1 to 128 visible ASCII characters
/// (`!` to `~`), so it fits one journal line and one HTTP header unchanged.
///
/// ```
/// use entitled::meter::IdempotencyKey;
/// let key = IdempotencyKey::new("req-42").unwrap();
/// assert_eq!(key.as_str(), "req-42");
/// assert!(IdempotencyKey::new("").is_err());
/// assert!(IdempotencyKey::new("has space").is_err());
/// assert!(IdempotencyKey::new("x".repeat(129)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a key.
    ///
    /// # Errors
    /// [`MeterError::BadIdempotencyKey`] for an empty key, one over 128 bytes, or one with
    /// a character outside `!`..=`~`.
    pub fn new(key: impl Into<String>) -> Result<Self, MeterError> {
        let key = key.into();
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(MeterError::BadIdempotencyKey(format!(
                "it is {} bytes long; give 1 to {MAX_IDEMPOTENCY_KEY_LEN}",
                key.len()
            )));
        }
        if let Some(c) = key.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(MeterError::BadIdempotencyKey(format!(
                "character {c:?} is not visible ASCII; use letters, digits and punctuation"
            )));
        }
        Ok(IdempotencyKey(key))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
