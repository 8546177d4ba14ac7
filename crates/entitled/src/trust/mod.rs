//! What the HTTP client trusts, and for which hosts.
//!
//! AWS's endpoints chain to the five Amazon Trust Services roots, which are
//! embedded ([`roots`]); by default an AWS host is trusted with those alone,
//! so a CA a buyer adds to the environment cannot vouch for a fake AWS
//! endpoint unless it is named explicitly ([`bundle`]). Other hosts (a custom
//! endpoint, an ECS agent over https) keep the named bundles, else the
//! distribution's bundle. [`hosts`] says which host names are AWS's.

pub(crate) mod bundle;
pub(crate) mod hosts;
pub(crate) mod roots;

/// No CA file is this big (Debian's whole bundle is about 220 KiB); a
/// larger one is skipped, which keeps the guard's memory small.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Something the check skipped and went on without.
///
/// ```
/// let w = entitled::Warning::CaFileSkipped {
///     path: "/etc/ssl/ca.pem".into(),
///     problem: "a FIFO, not a regular file".into(),
/// };
/// assert!(w.to_string().starts_with("CA file /etc/ssl/ca.pem skipped: a FIFO"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Warning {
    /// A file named by `AWS_CA_BUNDLE` or `SSL_CERT_FILE`, or found under
    /// `SSL_CERT_DIR` (or the system bundle), is not a regular file within
    /// [`MAX_CA_FILE_BYTES`]; it was not read.
    #[error("CA file {path} skipped: {problem}; AWS_CA_BUNDLE, SSL_CERT_FILE and SSL_CERT_DIR must name regular PEM files of at most {MAX_CA_FILE_BYTES} bytes")]
    CaFileSkipped {
        /// The file.
        path: String,
        /// Why.
        problem: String,
    },
}
