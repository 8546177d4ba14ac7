//! Counters the sidecar keeps itself (the library counts the rest), shared by the accept
//! loop that increments them and `/metrics` that shows them.

use std::sync::atomic::AtomicU64;

/// Failed `accept` calls since start.
pub static ACCEPT_ERRORS: AtomicU64 = AtomicU64::new(0);
