//! The one error type of the check, its classes and their exit codes.

use std::time::Duration;

use crate::credential_source::CredentialSource;
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
    #[error("AWS Marketplace Metering stayed unavailable for {:.1} s over {attempts} attempt(s); last error: {last}; check network access to the metering endpoint, or raise the deadline", elapsed.as_secs_f64())]
    Unavailable {
        /// Calls attempted.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last transient failure.
        last: String,
    },
    /// CustomerNotEntitledException. Exit 77.
    #[error("the customer is not entitled to product {product_code} (CustomerNotEntitledException: {message}); the buyer must subscribe to this product in AWS Marketplace")]
    NotEntitled {
        /// The product code checked.
        product_code: String,
        /// AWS's message.
        message: String,
    },
    /// Refused as unsupported or misconfigured. Exit 78.
    #[error("RegisterUsage refused ({code}: {message}){}; {hint}", source_note(*.credential_source, .code))]
    Rejected {
        /// The AWS error code, or a local code such as `NoCredentials`.
        code: String,
        /// AWS's message, or ours.
        message: String,
        /// The likely fix.
        hint: &'static str,
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
            CheckError::NotEntitled { .. } => 77,
            CheckError::Rejected { .. } => 78,
        }
    }

    /// A short, stable name for the class, for structured logs.
    pub fn class(&self) -> &'static str {
        match self {
            CheckError::Config(_) => "config",
            CheckError::Verification(_) => "verification",
            CheckError::Unavailable { .. } => "unavailable",
            CheckError::NotEntitled { .. } => "not_entitled",
            CheckError::Rejected { .. } => "rejected",
        }
    }

    pub(crate) fn rejected(code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        let hint = hint_for(&code);
        CheckError::Rejected {
            code,
            message: message.into(),
            hint,
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

/// For a refusal that names its credential source: which one, and for a platform refusal of
/// a source AWS Marketplace does not accept, that only the ECS task role and IRSA are.
fn source_note(source: Option<CredentialSource>, code: &str) -> String {
    match source {
        None => String::new(),
        Some(s) if code == "PlatformNotSupportedException" && !s.marketplace_accepts() => format!(
            "; signed with {s}, which AWS Marketplace does not accept: only the ECS task role, or IRSA on EKS"
        ),
        Some(s) => format!("; credentials from {s}"),
    }
}

/// The likely fix for each code that ends the check.
fn hint_for(code: &str) -> &'static str {
    match code {
        "PlatformNotSupportedException" => "RegisterUsage works only from an ECS task (task IAM role) or an EKS pod (IRSA); a node or instance role, EKS Pod Identity or long-term keys usually cause this",
        "InvalidProductCodeException" => "check the product code against the AWS Marketplace Management Portal",
        "InvalidPublicKeyVersionException" => "check --public-key-version against the key version AWS Marketplace gave with the key",
        "InvalidRegionException" => "call from the task's own Region (set AWS_REGION to it); products are tested in us-east-1 before they go live",
        "DisabledApiException" => "the RegisterUsage API is disabled for this product or account; contact AWS Marketplace seller operations",
        "AccessDeniedException" => "grant aws-marketplace:RegisterUsage to the task role or IRSA role (managed policy AWSMarketplaceMeteringRegisterUsage)",
        "WebIdentityRefused" => "IRSA credentials were refused: check the pod's service account (its eks.amazonaws.com/role-arn annotation, and that the projected token at AWS_WEB_IDENTITY_TOKEN_FILE exists, is readable and current) and the role's trust policy (the cluster's OIDC provider, sub system:serviceaccount:NAMESPACE:NAME, aud sts.amazonaws.com)",
        "NoCredentials" => "run with an ECS task role or EKS IRSA role; no AWS credentials were found",
        "CredentialsConfiguration" => "fix the credential environment (AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)",
        "NoRegion" => "set AWS_REGION to the task's Region; none was found in the environment, the profile, ECS task metadata or instance metadata",
        "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException" | "SignatureDoesNotMatch" | "ExpiredTokenException" | "IncompleteSignature" | "MissingAuthenticationToken" => "the credentials were refused; use the ECS task role or EKS IRSA credentials, and check the clock",
        _ => "AWS advises terminating on errors other than throttling; check the product code, key version, Region and role",
    }
}
