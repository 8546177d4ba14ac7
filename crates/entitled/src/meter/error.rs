//! What recording or building a meter can fail with.

use std::sync::Arc;

use thiserror::Error;

use crate::CheckError;

/// A record or configuration the meter refuses. Each message names the problem and the fix.
///
/// ```
/// let e = entitled::meter::MeterError::BadQuantity(1 << 40);
/// assert!(e.to_string().contains("2147483647"));
/// ```
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum MeterError {
    /// The dimension is not one the meter was configured with.
    #[error("unknown dimension {dimension:?}; configured dimensions: {known}")]
    UnknownDimension {
        /// The dimension given.
        dimension: String,
        /// The configured ones.
        known: String,
    },
    /// The quantity is outside 0..=2^31-1.
    #[error("quantity {0} is out of range; MeterUsage takes integers from 0 to 2147483647")]
    BadQuantity(u64),
    /// The hour's total for a dimension would pass 2^31-1.
    #[error("dimension {dimension:?}: the hour's total would exceed 2147483647; MeterUsage cannot report it, so the record is refused")]
    HourOverflow {
        /// The dimension.
        dimension: String,
    },
    /// Tags that MeterUsage would refuse.
    #[error("bad tags: {0}")]
    BadTags(String),
    /// The hour already has the most distinct tag sets one MeterUsage call can carry.
    #[error("dimension {0:?}: this hour already has 2500 distinct tag sets, the most one MeterUsage call can carry")]
    TooManyTagSets(String),
    /// The journal could not be opened or written (permission, not a directory, no space,
    /// read-only): a record refused with it was not kept.
    #[error("journal {path}: {reason}")]
    Journal {
        /// The journal file or directory.
        path: String,
        /// The OS error, its cause and the fix.
        reason: String,
    },
    /// Another process holds the journal directory's lock: two meters on one journal would
    /// each report its usage.
    #[error("journal directory {dir} is in use by another process; give each sidecar or meter its own journal directory")]
    JournalInUse {
        /// The journal directory.
        dir: String,
    },
    /// The journal holds unreported usage recorded for another product code.
    #[error("journal directory {dir} holds unreported usage recorded for product {journal}, not {configured}; report it first with product code {journal} (start with it, then shut down), or give {configured} another journal directory")]
    ProductMismatch {
        /// The journal directory.
        dir: String,
        /// The product the usage was recorded for.
        journal: String,
        /// The product configured now.
        configured: String,
    },
    /// An idempotency key that is empty, too long or not visible ASCII.
    #[error("bad idempotency key: {0}")]
    BadIdempotencyKey(String),
    /// The meter is shutting down or stopped and accepts no more records.
    #[error("the meter is shutting down and accepts no more records")]
    ShuttingDown,
    /// The meter's own configuration is unusable (dimensions, journal directory).
    #[error("meter configuration: {0}")]
    Config(String),
    /// The start-up check ([`MeterBuilder::verify_within`](super::MeterBuilder::verify_within))
    /// was refused: MeterUsage would refuse every report (product code, platform, access,
    /// Region, credentials) or this dimension's. Exit 78, as the check's refusals.
    #[error("{} ({reason}: {message}){}; {}", if .reason.before_call() { "cannot call MeterUsage" } else { "MeterUsage DryRun refused" }, .dimension.as_ref().map(|d| format!(" for dimension {d:?}")).unwrap_or_default(), .reason.hint())]
    Refused {
        /// Why, with the check's reason.
        reason: crate::RejectReason,
        /// AWS's message, or ours.
        message: String,
        /// The dimension AWS refused, for `InvalidUsageDimensionException`.
        dimension: Option<String>,
    },
    /// What the check refuses too, with the check's error, reason and exit code: an invalid
    /// product code, a zero duration, extra root certificates with no usable certificate, no
    /// Region (78), no or refused credentials (78). Shared, so the guard and the sidecar
    /// say the same thing.
    #[error(transparent)]
    Check(Arc<CheckError>),
}

impl From<CheckError> for MeterError {
    fn from(err: CheckError) -> Self {
        MeterError::Check(Arc::new(err))
    }
}

impl From<crate::ConfigError> for MeterError {
    fn from(err: crate::ConfigError) -> Self {
        CheckError::from(err).into()
    }
}

impl MeterError {
    /// The exit code of a process that stops on this error, from the check's table: the
    /// check's own code for what the check refuses too, 64 (configuration or input) for the
    /// rest.
    ///
    /// ```
    /// use entitled::meter::MeterError;
    /// assert_eq!(MeterError::Config("no dimensions".into()).exit_code(), 64);
    /// assert_eq!(MeterError::from(entitled::ConfigError::ExtraRoots).exit_code(), 64);
    /// ```
    pub fn exit_code(&self) -> u8 {
        match self {
            MeterError::Check(err) => err.exit_code(),
            MeterError::Refused {
                reason, message, ..
            } => CheckError::rejected(reason.clone(), message.clone()).exit_code(),
            _ => CheckError::from(crate::ConfigError::NoProductCode).exit_code(),
        }
    }
}
