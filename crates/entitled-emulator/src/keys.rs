//! The product keys an emulator signs with, per product code and key version.
//!
//! Configured products have their keys loaded or generated at start. A product code that was
//! never configured gets a version-1 RSA-3072 key generated the first time it is needed
//! (a RegisterUsage call or a public-key request), unless only known products are served.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use crate::config::{KeySource, Product};
use crate::token::SigningKey;
use crate::EmulatorError;

/// A key for one product version.
#[derive(Debug, Clone)]
pub(crate) struct VersionKey {
    pub key: SigningKey,
    /// `Some(epoch seconds)` when the version has expired.
    pub rotation: Option<u64>,
}

#[derive(Debug)]
struct ProductEntry {
    versions: BTreeMap<u32, VersionKey>,
    dimensions: Option<BTreeSet<String>>,
}

type LazyKey = Arc<OnceLock<Result<SigningKey, String>>>;

/// Why no key could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyError {
    UnknownProduct,
    UnknownVersion,
    Generation(String),
}

/// The result of a non-blocking lookup.
pub(crate) enum Lookup {
    Ready(VersionKey),
    /// The key must be generated (or waited for) off the async runtime.
    Lazy(LazyKey),
}

#[derive(Debug)]
pub(crate) struct KeyStore {
    configured: HashMap<String, ProductEntry>,
    lazy: Mutex<HashMap<String, LazyKey>>,
    known_only: bool,
    other: LazyKey,
}

impl KeyStore {
    /// Loads configured products, generating keys where asked. Blocking: RSA generation takes
    /// about a second per key, so keys are generated on parallel threads.
    pub fn build(
        products: &[Product],
        known_only: bool,
        other_key: Option<SigningKey>,
    ) -> Result<KeyStore, EmulatorError> {
        let mut configured = HashMap::new();
        let mut to_generate: Vec<(String, u32)> = Vec::new();
        for product in products {
            let mut versions = BTreeMap::new();
            let sources: Vec<(u32, KeySource)> = if product.keys.is_empty() {
                vec![(1, KeySource::Generate)]
            } else {
                product.keys.iter().map(|(v, s)| (*v, s.clone())).collect()
            };
            for (version, source) in sources {
                match source {
                    KeySource::Given(key) => {
                        let rotation = product.expired.get(&version).copied();
                        versions.insert(version, VersionKey { key, rotation });
                    }
                    KeySource::Generate => to_generate.push((product.code.clone(), version)),
                }
            }
            configured.insert(
                product.code.clone(),
                ProductEntry {
                    versions,
                    dimensions: product.dimensions.clone(),
                },
            );
        }
        let generated = generate_many(to_generate.len())?;
        for ((code, version), key) in to_generate.into_iter().zip(generated) {
            let rotation = products
                .iter()
                .find(|p| p.code == code)
                .and_then(|p| p.expired.get(&version).copied());
            if let Some(entry) = configured.get_mut(&code) {
                entry.versions.insert(version, VersionKey { key, rotation });
            }
        }
        let other = Arc::new(OnceLock::new());
        if let Some(key) = other_key {
            let _ = other.set(Ok(key));
        }
        Ok(KeyStore {
            configured,
            lazy: Mutex::new(HashMap::new()),
            known_only,
            other,
        })
    }

    /// Finds the key for `product` / `version` without blocking.
    pub fn lookup(&self, product: &str, version: u32) -> Result<Lookup, KeyError> {
        if let Some(entry) = self.configured.get(product) {
            return entry
                .versions
                .get(&version)
                .cloned()
                .map(Lookup::Ready)
                .ok_or(KeyError::UnknownVersion);
        }
        if self.known_only {
            return Err(KeyError::UnknownProduct);
        }
        if version != 1 {
            return Err(KeyError::UnknownVersion);
        }
        let mut lazy = self.lazy.lock().unwrap_or_else(|e| e.into_inner());
        let cell = lazy.entry(product.to_owned()).or_default().clone();
        match cell.get() {
            Some(Ok(key)) => Ok(Lookup::Ready(VersionKey {
                key: key.clone(),
                rotation: None,
            })),
            Some(Err(e)) => Err(KeyError::Generation(e.clone())),
            None => Ok(Lookup::Lazy(cell)),
        }
    }

    /// Finds the key, generating it on a blocking thread if needed.
    pub async fn resolve(&self, product: &str, version: u32) -> Result<VersionKey, KeyError> {
        match self.lookup(product, version)? {
            Lookup::Ready(k) => Ok(k),
            Lookup::Lazy(cell) => {
                let key = tokio::task::spawn_blocking(move || generate_into(&cell))
                    .await
                    .map_err(|e| KeyError::Generation(e.to_string()))??;
                Ok(VersionKey {
                    key,
                    rotation: None,
                })
            }
        }
    }

    /// Finds the key, generating it on this thread if needed.
    pub fn resolve_blocking(&self, product: &str, version: u32) -> Result<VersionKey, KeyError> {
        match self.lookup(product, version)? {
            Lookup::Ready(k) => Ok(k),
            Lookup::Lazy(cell) => Ok(VersionKey {
                key: generate_into(&cell)?,
                rotation: None,
            }),
        }
    }

    /// The key [`crate::TokenVariant::OtherKey`] tokens are signed with.
    pub async fn other_key(&self) -> Result<SigningKey, KeyError> {
        let cell = self.other.clone();
        if let Some(r) = cell.get() {
            return r.clone().map_err(KeyError::Generation);
        }
        tokio::task::spawn_blocking(move || generate_into(&cell))
            .await
            .map_err(|e| KeyError::Generation(e.to_string()))?
    }

    /// The dimensions a configured product restricts metering to.
    /// False for a product code that was never configured when only known products are
    /// served: MeterUsage refuses it as RegisterUsage does, without needing a key.
    pub fn serves(&self, product: &str) -> bool {
        !self.known_only || self.configured.contains_key(product)
    }

    pub fn dimensions(&self, product: &str) -> Option<&BTreeSet<String>> {
        self.configured
            .get(product)
            .and_then(|e| e.dimensions.as_ref())
    }
}

fn generate_into(cell: &OnceLock<Result<SigningKey, String>>) -> Result<SigningKey, KeyError> {
    cell.get_or_init(|| SigningKey::generate_rsa3072().map_err(|e| e.to_string()))
        .clone()
        .map_err(KeyError::Generation)
}

/// Generates `n` keys, on up to as many threads as there are cores.
fn generate_many(n: usize) -> Result<Vec<SigningKey>, EmulatorError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let results: Vec<Result<SigningKey, EmulatorError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| s.spawn(SigningKey::generate_rsa3072))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(EmulatorError::KeyGeneration(
                        "generator thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    results.into_iter().collect()
}
