//! The one error type of the emulator's library boundary.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can go wrong while configuring or starting an emulator.
///
/// Runtime request problems are never errors of this type: they become
/// AWS-shaped HTTP error responses instead.
///
/// # Example
/// ```
/// use entitled_emulator::{EmulatorError, Product};
/// let err = Product::new("prod").key_pem(1, "not a pem").unwrap_err();
/// assert!(matches!(err, EmulatorError::Key { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A private key could not be used for signing.
    #[error("signing key: {reason}; supply an RSA private key of 2048 to 4096 bits as a PKCS#8 PEM \"BEGIN PRIVATE KEY\" block (convert with `openssl pkcs8 -topk8 -nocrypt`)")]
    Key {
        /// What was wrong with the key.
        reason: String,
    },
    /// Generating an RSA key failed.
    #[error("generating an RSA-3072 key: {0}")]
    KeyGeneration(String),
    /// The listen address could not be bound.
    #[error("listen on {addr}: {source}; pick another address or port 0 for a free one")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Creating the TLS CA, leaf certificate or server config failed.
    #[error("TLS set-up: {0}")]
    Tls(String),
    /// A configuration file or value is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The tokio runtime or the emulator thread could not be started.
    #[error("starting the emulator runtime: {0}")]
    Runtime(String),
}
