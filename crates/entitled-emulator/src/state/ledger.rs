//! The ledger of accepted usage records and MeterUsage client tokens, for duplicates and
//! idempotency.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::wire::{request_id, ServiceError};

/// What recording a usage record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// New, or an identical repeat: the record id.
    Accepted(String),
    /// Same product, customer, dimension and hour slot with another quantity.
    Duplicate,
}

/// A usage record's identity: product, customer, dimension, timestamp (whole seconds).
type RecordKey = (String, String, String, i64);
/// What was accepted for it: quantity and record id.
type RecordValue = (String, String);

/// Accepted usage records and MeterUsage client tokens.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    records: Mutex<HashMap<RecordKey, RecordValue>>,
    client_tokens: Mutex<HashMap<String, (String, String)>>,
}

impl Ledger {
    /// Records usage keyed by product, customer, dimension and timestamp (whole seconds).
    pub fn record(
        &self,
        product: &str,
        customer: &str,
        dimension: &str,
        ts: f64,
        quantity: &str,
    ) -> Recorded {
        let key = (
            product.to_owned(),
            customer.to_owned(),
            dimension.to_owned(),
            ts.floor() as i64,
        );
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        match records.get(&key) {
            Some((q, id)) if q == quantity => Recorded::Accepted(id.clone()),
            Some(_) => Recorded::Duplicate,
            None => {
                let id = request_id();
                records.insert(key, (quantity.to_owned(), id.clone()));
                Recorded::Accepted(id)
            }
        }
    }

    /// For a client token: `Ok(Some(id))` if seen with the same request, `Ok(None)` if new,
    /// `Err` if seen with a different request.
    pub fn client_token(
        &self,
        token: &str,
        fingerprint: &str,
    ) -> Result<Option<String>, ServiceError> {
        let tokens = self.client_tokens.lock().unwrap_or_else(|e| e.into_inner());
        match tokens.get(token) {
            Some((f, id)) if f == fingerprint => Ok(Some(id.clone())),
            Some(_) => Err(ServiceError::new(
                "IdempotencyConflictException",
                "The ClientToken was already used with different request parameters",
            )),
            None => Ok(None),
        }
    }

    pub fn remember_client_token(&self, token: &str, fingerprint: &str, id: &str) {
        self.client_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_owned(), (fingerprint.to_owned(), id.to_owned()));
    }
}
