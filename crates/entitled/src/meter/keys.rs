//! The idempotency keys the meter remembers: for [`KEY_WINDOW`] after their batch was kept,
//! as 16-byte hashes, so memory and journal stay bounded under keyed traffic (600,000 keys
//! at 1,000 requests/s take about 21 MB of memory and 23 MB of journal).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use ring::digest::{digest, SHA256};

use super::idempotency::IdempotencyKey;

/// How long a key is remembered after its batch was kept. A client resends after a lost
/// acknowledgement within seconds of the sidecar's restart; ten minutes also covers a pod
/// in `CrashLoopBackOff`, whose restart delay is capped at five minutes.
///
/// ```
/// assert_eq!(entitled::meter::KEY_WINDOW.as_secs(), 600);
/// ```
pub const KEY_WINDOW: Duration = Duration::from_secs(10 * 60);

/// How often expired keys are dropped, in seconds.
const EXPIRE_EVERY_SECONDS: u64 = 10;

/// A key as the meter keeps it: the first 16 bytes of its SHA-256. Two keys in one window
/// collide with a probability near n²/2^129: never, in practice.
pub(crate) type KeyHash = [u8; 16];

/// The hash of a key.
pub(crate) fn key_hash(key: &IdempotencyKey) -> KeyHash {
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest(&SHA256, key.as_str().as_bytes()).as_ref()[..16]);
    out
}

/// A hash as 32 lowercase hex characters, as the journal writes it.
pub(crate) fn to_hex(hash: &KeyHash) -> String {
    let mut s = String::with_capacity(32);
    for b in hash {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A hash read back from the journal.
pub(crate) fn from_hex(text: &str) -> Option<KeyHash> {
    if text.len() != 32 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The remembered keys, each with the second its batch was kept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct KeyWindow {
    seen: HashMap<KeyHash, u32>,
    last_expiry: u64,
}

impl KeyWindow {
    /// True if the key was kept inside the window.
    pub fn contains(&self, hash: &KeyHash) -> bool {
        self.seen.contains_key(hash)
    }

    /// Remembers a key kept at `at` (epoch seconds).
    pub fn insert(&mut self, hash: KeyHash, at: u64) {
        self.seen
            .insert(hash, u32::try_from(at).unwrap_or(u32::MAX));
    }

    /// Forgets a key whose batch could not be written.
    pub fn remove(&mut self, hash: &KeyHash) {
        self.seen.remove(hash);
    }

    /// Forgets keys older than the window, at most every few seconds (a pass visits them
    /// all).
    pub fn expire(&mut self, now: u64) {
        if now < self.last_expiry + EXPIRE_EVERY_SECONDS {
            return;
        }
        self.last_expiry = now;
        let oldest = now.saturating_sub(KEY_WINDOW.as_secs());
        self.seen.retain(|_, at| u64::from(*at) >= oldest);
    }

    /// How many keys are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Every key with its time, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&KeyHash, u64)> {
        self.seen.iter().map(|(k, at)| (k, u64::from(*at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashed_kept_for_the_window_then_forgotten() {
        let mut keys = KeyWindow::default();
        let a = key_hash(&IdempotencyKey::new("req-1").unwrap());
        let b = key_hash(&IdempotencyKey::new("req-2").unwrap());
        assert_ne!(a, b);
        assert_eq!(from_hex(&to_hex(&a)), Some(a));
        assert_eq!(from_hex("zz"), None);
        keys.insert(a, 1_000);
        keys.insert(b, 1_500);
        keys.expire(1_000 + KEY_WINDOW.as_secs());
        assert!(keys.contains(&a) && keys.contains(&b), "inside the window");
        keys.expire(1_001 + KEY_WINDOW.as_secs() + EXPIRE_EVERY_SECONDS);
        assert!(!keys.contains(&a), "past the window");
        assert!(keys.contains(&b));
        assert_eq!(keys.len(), 1);
    }
}
