//! Why a check failed, as types: each cause has its stable code and hint in
//! an exhaustive match, so a new cause cannot compile without them.
//!
//! Public so that other callers of the Metering Service (custom metering)
//! key their logs and exit codes by the same causes.

use std::borrow::Cow;
use std::fmt;

/// Why the check was refused for good (exit 78). Never retried.
///
/// ```
/// use entitled::RejectReason;
/// let reason = RejectReason::HttpStatus(407);
/// assert_eq!(reason.code(), "HTTP407");
/// assert!(reason.before_call() == false);
/// assert!(RejectReason::NoRegion.before_call());
/// assert!(RejectReason::TlsCertificate.hint().contains("SSL_CERT_FILE"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// `PlatformNotSupportedException`: not called from an ECS task or EKS pod
    /// with a supported role.
    PlatformNotSupported,
    /// `InvalidProductCodeException`.
    InvalidProductCode,
    /// `InvalidPublicKeyVersionException`.
    InvalidPublicKeyVersion,
    /// `InvalidRegionException`.
    InvalidRegion,
    /// `InvalidUsageDimensionException` (MeterUsage): the dimension is not one of the
    /// product's.
    InvalidUsageDimension,
    /// `InvalidEndpointRegionException` (MeterUsage): not the task's own Region.
    InvalidEndpointRegion,
    /// `DisabledApiException`.
    DisabledApi,
    /// `InternalServiceErrorException` sent with a status that is not 5xx,
    /// which AWS's SDKs do not retry either.
    InternalServiceError,
    /// `AccessDeniedException`: the role lacks `aws-marketplace:RegisterUsage` (or
    /// `aws-marketplace:MeterUsage` for custom metering).
    AccessDenied,
    /// The service refused the signature or the credentials
    /// (`UnrecognizedClientException`, `InvalidSignatureException`, ...).
    SignatureRefused(String),
    /// Another AWS error code, not in the service model.
    OtherCode(String),
    /// An HTTP 4xx (other than 408 and 429) whose body is not an AWS error:
    /// a proxy's block page, an empty 401/403/404, a 407.
    HttpStatus(u16),
    /// The server's TLS certificate did not verify: unknown issuer, wrong
    /// name, expired.
    TlsCertificate,
    /// No AWS Region was found.
    NoRegion,
    /// No credentials were found in any source.
    NoCredentials,
    /// The credential environment is invalid (a bad credentials URI, say).
    CredentialsConfiguration,
    /// The credentials endpoint (ECS agent or STS) refused to give
    /// credentials.
    CredentialsRefused,
    /// IRSA credentials were refused: the web identity token file is missing,
    /// unreadable or expired, or STS denied the role.
    WebIdentityRefused,
    /// The trust store could not be built.
    TlsSetup,
    /// The request could not be built (an invalid endpoint override).
    RequestConstruction,
    /// A locked check (a locked guard build, or
    /// [`CheckBuilder::locked`](crate::CheckBuilder::locked)) found an
    /// endpoint override, or a Region that is not a host name label.
    Locked,
    /// License Manager's `AccessDeniedException` or `AuthorizationException`:
    /// the role lacks the License Manager actions.
    LicenseAccessDenied(String),
    /// License Manager's `ValidationException` or
    /// `InvalidParameterValueException`: the request is not one it accepts.
    LicenseValidation(String),
    /// `UnsupportedDigitalSignatureMethodException`.
    UnsupportedSignatureMethod,
    /// A `RedirectException` that was not followed: a second one, or one to
    /// a place that is not a Region's License Manager endpoint.
    LicenseRedirect,
    /// Anywhere: the licence token (`AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE` or
    /// `AWS_LICENSE_ACCESS_FILE`) is missing, unreadable, expired or refused.
    LicenseTokenRefused,
}

impl RejectReason {
    /// The reason for an AWS error code that ends the check.
    pub(crate) fn from_code(code: &str) -> Self {
        match code {
            "PlatformNotSupportedException" => Self::PlatformNotSupported,
            "InvalidProductCodeException" => Self::InvalidProductCode,
            "InvalidPublicKeyVersionException" => Self::InvalidPublicKeyVersion,
            "InvalidRegionException" => Self::InvalidRegion,
            "InvalidUsageDimensionException" => Self::InvalidUsageDimension,
            "InvalidEndpointRegionException" => Self::InvalidEndpointRegion,
            "DisabledApiException" => Self::DisabledApi,
            "InternalServiceErrorException" => Self::InternalServiceError,
            // UnauthorizedException: MeterUsage's DryRun answer when the role may not call it.
            "AccessDeniedException" | "AccessDenied" | "UnauthorizedException" => {
                Self::AccessDenied
            }
            "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "ExpiredTokenException"
            | "IncompleteSignature"
            | "MissingAuthenticationToken" => Self::SignatureRefused(code.to_owned()),
            other => Self::OtherCode(other.to_owned()),
        }
    }

    /// A short stable code: the AWS error code, or a local one.
    pub fn code(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Self::PlatformNotSupported => "PlatformNotSupportedException",
            Self::InvalidProductCode => "InvalidProductCodeException",
            Self::InvalidPublicKeyVersion => "InvalidPublicKeyVersionException",
            Self::InvalidRegion => "InvalidRegionException",
            Self::InvalidUsageDimension => "InvalidUsageDimensionException",
            Self::InvalidEndpointRegion => "InvalidEndpointRegionException",
            Self::DisabledApi => "DisabledApiException",
            Self::InternalServiceError => "InternalServiceErrorException",
            Self::AccessDenied => "AccessDeniedException",
            Self::SignatureRefused(code) | Self::OtherCode(code) => code,
            Self::HttpStatus(status) => return Cow::Owned(format!("HTTP{status}")),
            Self::TlsCertificate => "TlsCertificateNotTrusted",
            Self::NoRegion => "NoRegion",
            Self::NoCredentials => "NoCredentials",
            Self::CredentialsConfiguration => "CredentialsConfiguration",
            Self::CredentialsRefused => "CredentialsRefused",
            Self::WebIdentityRefused => "WebIdentityRefused",
            Self::TlsSetup => "TlsSetup",
            Self::RequestConstruction => "RequestConstruction",
            Self::Locked => "LockedToAwsEndpoints",
            Self::LicenseAccessDenied(code) | Self::LicenseValidation(code) => code,
            Self::UnsupportedSignatureMethod => "UnsupportedDigitalSignatureMethodException",
            Self::LicenseRedirect => "RedirectException",
            Self::LicenseTokenRefused => "LicenseTokenRefused",
        })
    }

    /// True where RegisterUsage was never called: the failure came before it.
    pub fn before_call(&self) -> bool {
        matches!(
            self,
            Self::NoRegion
                | Self::NoCredentials
                | Self::CredentialsConfiguration
                | Self::CredentialsRefused
                | Self::WebIdentityRefused
                | Self::TlsSetup
                | Self::RequestConstruction
                | Self::Locked
                | Self::LicenseTokenRefused
        )
    }

    /// True for the reasons only License Manager gives.
    fn license_manager(&self) -> bool {
        matches!(
            self,
            Self::LicenseAccessDenied(_)
                | Self::LicenseValidation(_)
                | Self::UnsupportedSignatureMethod
                | Self::LicenseRedirect
                | Self::LicenseTokenRefused
        )
    }

    /// How a message about this reason starts.
    pub(crate) fn stage(&self) -> &'static str {
        if *self == Self::LicenseTokenRefused {
            "cannot call License Manager"
        } else if self.license_manager() {
            "License Manager refused"
        } else if self.before_call() {
            "cannot call RegisterUsage"
        } else {
            "RegisterUsage refused"
        }
    }

    /// The likely fix, in words that hold for any caller of the library.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::PlatformNotSupported => "RegisterUsage works only from an ECS task (task IAM role) or an EKS pod (IRSA); a node or instance role, EKS Pod Identity or long-term keys usually cause this",
            Self::InvalidProductCode => "check the configured product code against the AWS Marketplace Management Portal",
            Self::InvalidPublicKeyVersion => "check the configured key version against the one AWS Marketplace gave with the key",
            Self::InvalidRegion | Self::InvalidEndpointRegion => "call from the task's own Region (set AWS_REGION to it); products are tested in us-east-1 before they go live",
            Self::InvalidUsageDimension => "use the dimension names (API names) of the product's listing in the AWS Marketplace Management Portal",
            Self::DisabledApi => "the RegisterUsage API is disabled for this product or account; contact AWS Marketplace seller operations",
            Self::InternalServiceError => "AWS reported an internal error with a status that is not retried; try again later and contact AWS Marketplace seller operations if it persists",
            Self::AccessDenied => "grant aws-marketplace:RegisterUsage (managed policy AWSMarketplaceMeteringRegisterUsage), and aws-marketplace:MeterUsage for custom metering, to the task role or IRSA role",
            Self::SignatureRefused(_) => "the credentials were refused; use the ECS task role or EKS IRSA credentials, and check the clock",
            Self::OtherCode(_) => "AWS advises terminating on errors other than throttling; check the product code, key version, Region and role",
            Self::HttpStatus(_) => "the answer is not from the Metering Service: check the endpoint URL and any HTTPS proxy (HTTPS_PROXY) or firewall between the container and AWS",
            Self::TlsCertificate => "the endpoint's TLS certificate did not verify (unknown issuer, wrong name or expired); if a TLS-inspecting proxy sits in between, add its CA with AWS_CA_BUNDLE or SSL_CERT_FILE (a locked build trusts only the Amazon roots), and check the endpoint URL and the clock",
            Self::NoRegion => "set AWS_REGION to the task's Region; none was found in the environment, the profile, ECS task metadata or instance metadata",
            Self::NoCredentials => "run with an ECS task role or EKS IRSA role; no AWS credentials were found",
            Self::CredentialsConfiguration => "fix the credential environment (AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)",
            Self::CredentialsRefused => "the credentials endpoint refused: check the authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN or its _FILE), the credentials URI (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI) and that the task has a task role (or the pod an IRSA role)",
            Self::WebIdentityRefused => "IRSA credentials were refused: check the pod's service account (its eks.amazonaws.com/role-arn annotation, and that the projected token at AWS_WEB_IDENTITY_TOKEN_FILE exists, is readable and current) and the role's trust policy (the cluster's OIDC provider, sub system:serviceaccount:NAMESPACE:NAME, aud sts.amazonaws.com)",
            Self::TlsSetup => "the trust store could not be built; check the extra CA certificates",
            Self::RequestConstruction => "check the endpoint URL override (AWS_ENDPOINT_URL_MARKETPLACE_METERING, AWS_ENDPOINT_URL_LICENSE_MANAGER or AWS_ENDPOINT_URL)",
            Self::Locked => "this build is locked to AWS's own endpoints and the Amazon roots: unset the AWS_ENDPOINT_URL variables and set AWS_REGION to the task's Region, or use an unlocked build to test against an emulator",
            Self::LicenseAccessDenied(_) => "grant license-manager:CheckoutLicense, license-manager:CheckInLicense, license-manager:ExtendLicenseConsumption and license-manager:GetLicense (managed policy AWSLicenseManagerConsumptionPolicy) to the task role, IRSA role or Anywhere role",
            Self::LicenseValidation(_) => "License Manager refused the request: check the product SKU (the AWS Marketplace product id), the key fingerprint, and each entitlement: a tier is asked with unit None, a counted dimension with its unit (Count, ...) and a value, never with unit None",
            Self::UnsupportedSignatureMethod => "the licence's issuer signs with a method License Manager does not support for this checkout; contact the seller",
            Self::LicenseRedirect => "License Manager redirected to a place that is not a Region's License Manager endpoint (or redirected twice); call from the licence's home Region (set AWS_REGION), and check AWS_ENDPOINT_URL_LICENSE_MANAGER",
            Self::LicenseTokenRefused => "the licence token (credential source LicenseToken) was missing, unreadable, expired or refused: the buyer creates a licence token in AWS License Manager and stores it with the role ARN in the Kubernetes secret aws-marketplace-license-config (keys license_token and iam_role), mounted at /var/run/secrets/product-license; check AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE (or AWS_LICENSE_ACCESS_FILE) and AWS_ROLE_ARN",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// Which endpoint a transient failure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// The AWS Marketplace Metering Service.
    Metering,
    /// The credentials endpoint: the ECS container credentials endpoint,
    /// STS for IRSA.
    Credentials,
    /// The Region lookup (ECS task metadata, instance metadata).
    Region,
    /// AWS License Manager (contract pricing).
    LicenseManager,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::Metering => "the AWS Marketplace Metering endpoint",
            Endpoint::Credentials => "the credentials endpoint (ECS container credentials or STS)",
            Endpoint::Region => "the Region lookup",
            Endpoint::LicenseManager => "the AWS License Manager endpoint",
        })
    }
}

/// Why one attempt failed in a way worth retrying.
///
/// ```
/// use entitled::{Endpoint, TransientCause};
/// assert_eq!(TransientCause::Throttled.code(), "throttled");
/// assert_eq!(TransientCause::Network.endpoint_hint(Endpoint::Metering),
///     "check network access to the AWS Marketplace Metering endpoint");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransientCause {
    /// Throttling (`ThrottlingException` and kin, or HTTP 429).
    Throttled,
    /// A 5xx from the service.
    ServerError,
    /// A 2xx whose body could not be read as an answer (truncated, mangled).
    MalformedAnswer,
    /// The attempt, the connection or the read timed out.
    Timeout,
    /// The endpoint could not be reached: refused, reset, DNS, or a TLS
    /// handshake broken by the network.
    Network,
    /// The credentials endpoint failed in a way that may pass.
    CredentialsUnavailable,
}

impl TransientCause {
    /// A short stable code, for structured logs.
    pub fn code(self) -> &'static str {
        match self {
            Self::Throttled => "throttled",
            Self::ServerError => "server_error",
            Self::MalformedAnswer => "malformed_answer",
            Self::Timeout => "timeout",
            Self::Network => "network",
            Self::CredentialsUnavailable => "credentials_unavailable",
        }
    }

    /// What to check when this cause lasted until the deadline.
    pub fn endpoint_hint(self, endpoint: Endpoint) -> String {
        match self {
            Self::Throttled => format!("{endpoint} kept throttling; fewer containers starting at once, or a longer deadline, helps"),
            Self::ServerError | Self::MalformedAnswer | Self::CredentialsUnavailable => {
                format!("{endpoint} kept failing; try again later, or raise the deadline")
            }
            Self::Timeout | Self::Network => format!("check network access to {endpoint}"),
        }
    }
}

impl fmt::Display for TransientCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One failed attempt worth retrying: where, why, and what was said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transient {
    /// The endpoint that failed.
    pub endpoint: Endpoint,
    /// The cause.
    pub cause: TransientCause,
    /// The error text, for people.
    pub detail: String,
}

impl fmt::Display for Transient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.cause, self.endpoint, self.detail)
    }
}
