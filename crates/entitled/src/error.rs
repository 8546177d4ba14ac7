//! The one error type of the check, its classes and their exit codes.

use std::fmt;
use std::time::Duration;

use crate::credential_source::CredentialSource;
use crate::reason::{RejectReason, Transient};
use entitled_verify::{KeyError, KeyVersion, KeyVersionError, ProductCodeError, VerifyError};

/// Bad input to the check, found before any call is made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The product code is empty, too long or has characters AWS refuses.
    #[error(transparent)]
    ProductCode(#[from] ProductCodeError),
    /// No product code was given.
    #[error("no product code given; pass the product code from AWS Marketplace")]
    NoProductCode,
    /// No key was given for the key version asked for.
    #[error(
        "no public key for key version {0}; pass the key AWS Marketplace gave for that version"
    )]
    NoKeyForVersion(KeyVersion),
    /// The key version is out of range.
    #[error(transparent)]
    KeyVersion(#[from] KeyVersionError),
    /// A public key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The extra root certificates hold no certificate rustls can use.
    #[error("the extra root certificates hold no usable PEM certificate; pass the CA certificate, not a key")]
    ExtraRoots,
    /// A duration is zero.
    #[error("{0} must be greater than zero")]
    ZeroDuration(&'static str),
    /// A locked check was also given an endpoint or extra roots.
    #[error("{0} cannot be set on a locked check, which calls only AWS's own endpoints and trusts only the Amazon roots; drop it, or drop `locked`")]
    Locked(&'static str),
    /// A file named by the environment for aws-config (`AWS_CONFIG_FILE`,
    /// `AWS_SHARED_CREDENTIALS_FILE`, `AWS_WEB_IDENTITY_TOKEN_FILE`,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`) is a FIFO, a device, a
    /// directory or a socket, or too large. Refused before it is read.
    #[error(
        "{variable} names {path}: {source}; it must name a regular file of at most {limit} bytes"
    )]
    EnvironmentFile {
        /// The variable.
        variable: &'static str,
        /// The file it names.
        path: String,
        /// The limit for this file.
        limit: u64,
        /// What is wrong with it.
        source: entitled_verify::bounded::BoundedReadError,
    },
    /// A contract checkout was configured without a product SKU.
    #[error(
        "no product SKU given; pass the AWS Marketplace product id of the contract-priced product"
    )]
    NoProductSku,
    /// A contract checkout was configured without an entitlement.
    #[error("no entitlement to check out; ask for every tier the product has, or for counted units (NAME:UNIT:VALUE)")]
    NoEntitlements,
    /// An entitlement is spelled wrongly.
    #[error(transparent)]
    Entitlement(#[from] crate::contract_error::EntitlementError),
    /// An `AWS_ENDPOINT_URL` variable is set to nothing: the SDK would take the empty
    /// text for a URL.
    #[error("{0} is set but empty; unset it to use AWS's endpoint, or give it the URL of the endpoint to call")]
    EmptyEndpointVariable(String),
    /// The OS random source failed.
    #[error(transparent)]
    Random(#[from] entitled_verify::RandomError),
}

/// Why the entitlement check did not pass. Each class has one exit code,
/// given by [`CheckError::exit_code`].
///
/// ```
/// let err = entitled::CheckError::from(entitled::ConfigError::NoProductCode);
/// assert_eq!(err.exit_code(), 64);
/// assert_eq!(err.class(), "config");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// Bad input; nothing was called. Exit 64.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The answer's token failed verification. Exit 65. Never retried.
    #[error("RegisterUsage answer refused: {0}")]
    Verification(#[from] VerifyError),
    /// The deadline ran out while every failure was transient. Exit 75.
    #[error("{} stayed unavailable for {:.1} s over {attempts} attempt(s); last cause: {} ({}); {}, or raise the deadline", .last.endpoint, .elapsed.as_secs_f64(), .last.cause, .last.detail, .last.cause.endpoint_hint(.last.endpoint))]
    Unavailable {
        /// Calls attempted.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last transient failure: its endpoint and cause.
        last: Transient,
    },
    /// CustomerNotEntitledException. Exit 77.
    #[error("the customer is not entitled to product {product_code} (CustomerNotEntitledException: {message}); the buyer must subscribe to this product in AWS Marketplace")]
    NotEntitled {
        /// The product code checked.
        product_code: String,
        /// AWS's message.
        message: String,
    },
    /// License Manager allowed no checkout: `NoEntitlementsAllowedException`,
    /// `EntitlementNotAllowedException` or `ResourceNotFoundException`. Exit 77.
    #[error("no licence allows this checkout of product SKU {product_sku} ({code}: {message}); the buyer's account has no available licence for it with this key fingerprint, every unit is in use, or it lacks the tier asked for (a counted dimension asked with unit None is refused the same way); see the licence under Granted licenses in AWS License Manager")]
    NotLicensed {
        /// The product SKU asked for.
        product_sku: String,
        /// AWS's error code.
        code: String,
        /// AWS's message.
        message: String,
    },
    /// A CheckoutLicense answer that does not match the request, or whose
    /// signed token does not verify. Exit 65. Never a pass.
    #[error("CheckoutLicense answer refused: {0}")]
    LicenseAnswer(#[from] crate::contract_error::AnswerError),
    /// Refused as unsupported or misconfigured, by AWS or before the call
    /// (no Region, no credentials, an untrusted certificate). Exit 78.
    #[error("{} ({reason}: {message}){}; {}", .reason.stage(), source_note(*.credential_source, .reason), .reason.hint())]
    Rejected {
        /// Why.
        reason: RejectReason,
        /// AWS's message, or ours.
        message: String,
        /// The credential source that signed the refused call, or that failed to provide
        /// credentials, when one did.
        credential_source: Option<CredentialSource>,
    },
}

impl CheckError {
    /// The documented exit code for this class of failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CheckError::Config(_) => 64,
            CheckError::Verification(_) => 65,
            CheckError::Unavailable { .. } => 75,
            CheckError::NotEntitled { .. } | CheckError::NotLicensed { .. } => 77,
            CheckError::LicenseAnswer(_) => 65,
            CheckError::Rejected { .. } => 78,
        }
    }

    /// A short, stable name for the class, for structured logs.
    pub fn class(&self) -> &'static str {
        match self {
            CheckError::Config(_) => "config",
            CheckError::Verification(_) => "verification",
            CheckError::Unavailable { .. } => "unavailable",
            CheckError::NotEntitled { .. } | CheckError::NotLicensed { .. } => "not_entitled",
            CheckError::LicenseAnswer(_) => "verification",
            CheckError::Rejected { .. } => "rejected",
        }
    }

    pub(crate) fn rejected(reason: RejectReason, message: impl Into<String>) -> Self {
        CheckError::Rejected {
            reason,
            message: message.into(),
            credential_source: None,
        }
    }

    /// The credential source the check used, for refusals that involved one: which source
    /// signed a call AWS refused (`PlatformNotSupportedException` above all), or which one
    /// failed to provide credentials.
    ///
    /// ```
    /// let err = entitled::CheckError::from(entitled::ConfigError::NoProductCode);
    /// assert_eq!(err.credential_source(), None, "nothing was signed");
    /// ```
    pub fn credential_source(&self) -> Option<CredentialSource> {
        match self {
            CheckError::Rejected {
                credential_source, ..
            } => *credential_source,
            _ => None,
        }
    }

    /// IRSA credentials refused, named with the token file and role the pod was given, so the
    /// hint (service account, trust policy) can be acted on.
    pub(crate) fn web_identity_refused(message: impl fmt::Display) -> Self {
        let var = |name| std::env::var(name).unwrap_or_else(|_| "(unset)".into());
        CheckError::rejected(
            RejectReason::WebIdentityRefused,
            format!(
                "{message} (token file AWS_WEB_IDENTITY_TOKEN_FILE={}, role AWS_ROLE_ARN={})",
                var("AWS_WEB_IDENTITY_TOKEN_FILE"),
                var("AWS_ROLE_ARN")
            ),
        )
        .with_credential_source(Some(CredentialSource::Irsa))
    }

    /// A licence token (Anywhere) that is missing, unreadable, expired or refused, or its
    /// role: the message names the file and the role; the hint, the buyer's secret.
    pub(crate) fn license_token_refused(message: impl fmt::Display) -> Self {
        CheckError::rejected(RejectReason::LicenseTokenRefused, message.to_string())
            .with_credential_source(Some(CredentialSource::LicenseToken))
    }

    /// Records the credential source on a refusal; other classes are returned unchanged.
    pub(crate) fn with_credential_source(mut self, source: Option<CredentialSource>) -> Self {
        if let CheckError::Rejected {
            credential_source, ..
        } = &mut self
        {
            *credential_source = source;
        }
        self
    }
}

/// The common path's inputs convert with `?` straight into a [`CheckError`]:
/// loading a key, or parsing a product code or key version, in a function
/// that returns `Result<_, CheckError>`.
///
/// ```
/// use entitled::{CheckError, KeyVersion, ProductCode, PublicKey};
/// fn load(path: &str) -> Result<(ProductCode, KeyVersion, PublicKey), CheckError> {
///     let code: ProductCode = "prod-abc123".parse()?;
///     let version = KeyVersion::try_from(1u32)?;
///     Ok((code, version, PublicKey::from_file(path)?))
/// }
/// let err = load("/nonexistent/key.pem").unwrap_err();
/// assert_eq!(err.exit_code(), 64, "a missing key file is bad input: {err}");
/// ```
impl From<KeyError> for CheckError {
    fn from(err: KeyError) -> Self {
        CheckError::Config(ConfigError::Key(err))
    }
}

impl From<ProductCodeError> for CheckError {
    fn from(err: ProductCodeError) -> Self {
        CheckError::Config(ConfigError::ProductCode(err))
    }
}

impl From<KeyVersionError> for CheckError {
    fn from(err: KeyVersionError) -> Self {
        CheckError::Config(ConfigError::KeyVersion(err))
    }
}

/// For a refusal that names its credential source: which one, and for a platform refusal of
/// a source AWS Marketplace does not accept, that only the ECS task role and IRSA are.
fn source_note(source: Option<CredentialSource>, reason: &RejectReason) -> String {
    match source {
        None => String::new(),
        Some(s) if *reason == RejectReason::PlatformNotSupported && !s.marketplace_accepts() => format!(
            "; signed with {s}, which AWS Marketplace does not accept: only the ECS task role, or IRSA on EKS"
        ),
        Some(s) => format!("; credentials from {s}"),
    }
}
