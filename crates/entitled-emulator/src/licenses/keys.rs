//! The RSA keys License Manager signs with: one per licence issuer (by key fingerprint), for
//! `SignedToken`, and one for the Anywhere licence and access tokens. Each is an RSA-2048 key
//! generated the first time it is needed, off the async threads, so an emulator that serves
//! no licences pays nothing for them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::token::SigningKey;

/// Keys by issuer fingerprint, plus the token key.
#[derive(Debug, Default)]
pub(crate) struct LicenseKeys {
    issuers: Mutex<HashMap<String, SigningKey>>,
    tokens: Mutex<Option<SigningKey>>,
}

impl LicenseKeys {
    /// The issuer key of `fingerprint` if it has been made.
    pub fn issuer_if_made(&self, fingerprint: &str) -> Option<SigningKey> {
        lock(&self.issuers).get(fingerprint).cloned()
    }

    /// The issuer key of `fingerprint`, generated now (on a blocking thread) when it does not
    /// exist yet.
    pub async fn issuer(self: &Arc<Self>, fingerprint: &str) -> Result<SigningKey, String> {
        if let Some(key) = self.issuer_if_made(fingerprint) {
            return Ok(key);
        }
        let me = self.clone();
        let fingerprint = fingerprint.to_owned();
        tokio::task::spawn_blocking(move || me.issuer_blocking(&fingerprint))
            .await
            .map_err(|e| e.to_string())?
    }

    /// [`LicenseKeys::issuer`] for synchronous callers (the [`crate::Emulator`] handle).
    pub fn issuer_blocking(&self, fingerprint: &str) -> Result<SigningKey, String> {
        if let Some(key) = self.issuer_if_made(fingerprint) {
            return Ok(key);
        }
        let key = SigningKey::generate_rsa(2048).map_err(|e| e.to_string())?;
        Ok(lock(&self.issuers)
            .entry(fingerprint.to_owned())
            .or_insert(key)
            .clone())
    }

    /// The Anywhere token key, generated now when it does not exist yet.
    pub async fn token_key(self: &Arc<Self>) -> Result<SigningKey, String> {
        if let Some(key) = lock(&self.tokens).clone() {
            return Ok(key);
        }
        let key = tokio::task::spawn_blocking(|| SigningKey::generate_rsa(2048))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok(lock(&self.tokens).get_or_insert(key).clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
