//! Where each set of credentials came from, as AWS Marketplace sees it: the platform rule
//! accepts only the ECS task role and IRSA, the call log names the role and service
//! account of IRSA calls, and License Manager grants licences to the account of the role.

use std::collections::HashMap;
use std::sync::Mutex;

/// How a caller obtained the credentials it signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Long-term access keys (no session token).
    LongTerm,
    /// Session credentials from the ECS credentials endpoint, or configured ones.
    TaskRole,
    /// Session credentials from the EKS Pod Identity agent endpoint.
    PodIdentity,
    /// A node's instance role, from instance metadata.
    NodeRole,
    /// Session credentials from STS `AssumeRoleWithWebIdentity`.
    Irsa {
        role_arn: String,
        service_account: String,
    },
    /// Session credentials from STS `AssumeRoleWithWebIdentity` with a License Manager access
    /// token (the Anywhere flow): they act as the licence's beneficiary `account`.
    LicenseToken { role_arn: String, account: String },
}

pub(crate) use crate::roles::DEFAULT_ACCOUNT;

impl Origin {
    /// AWS Marketplace accepts RegisterUsage and MeterUsage from the ECS task role and IRSA
    /// only; Pod Identity, node roles and long-term keys get `PlatformNotSupportedException`.
    pub fn marketplace_accepts(&self) -> bool {
        matches!(self, Origin::TaskRole | Origin::Irsa { .. })
    }

    /// The AWS account the caller acts as: the assumed role's for IRSA, the licence's
    /// beneficiary for Anywhere credentials, else [`DEFAULT_ACCOUNT`].
    pub fn account(&self) -> String {
        match self {
            Origin::Irsa { role_arn, .. } => crate::roles::role_account(role_arn)
                .unwrap_or(DEFAULT_ACCOUNT)
                .to_owned(),
            Origin::LicenseToken { account, .. } => account.clone(),
            _ => DEFAULT_ACCOUNT.to_owned(),
        }
    }

    /// The role the credentials came from through STS, if any.
    pub fn role_arn(&self) -> Option<&str> {
        match self {
            Origin::Irsa { role_arn, .. } | Origin::LicenseToken { role_arn, .. } => Some(role_arn),
            _ => None,
        }
    }
}

/// The origin of every credential whose origin its session token alone does not tell.
#[derive(Debug, Default)]
pub(crate) struct Origins {
    by_key: Mutex<HashMap<String, Origin>>,
}

impl Origins {
    pub fn record(&self, access_key_id: &str, origin: Origin) {
        self.by_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(access_key_id.to_owned(), origin);
    }

    /// The recorded origin, else what the credential's kind implies: session credentials are a
    /// task role's, the rest long-term keys.
    pub fn of(&self, access_key_id: &str, session: bool) -> Origin {
        let recorded = self
            .by_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(access_key_id)
            .cloned();
        recorded.unwrap_or(if session {
            Origin::TaskRole
        } else {
            Origin::LongTerm
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_task_role_and_irsa_pass_the_platform_rule() {
        let origins = Origins::default();
        origins.record("ASIAPOD", Origin::PodIdentity);
        assert_eq!(origins.of("ASIAPOD", true), Origin::PodIdentity);
        assert!(!origins.of("ASIAPOD", true).marketplace_accepts());
        assert!(origins.of("ASIATASK", true).marketplace_accepts());
        assert!(!origins.of("AKIALONG", false).marketplace_accepts());
        let irsa = Origin::Irsa {
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            service_account: "ns:sa".into(),
        };
        assert!(irsa.marketplace_accepts());
        assert_eq!(irsa.account(), "123456789012");
        let other = Origin::Irsa {
            role_arn: "arn:aws:iam::210987654321:role/r".into(),
            service_account: "ns:sa".into(),
        };
        assert_eq!(other.account(), "210987654321");
        let anywhere = Origin::LicenseToken {
            role_arn: "arn:aws:iam::555555555555:role/r".into(),
            account: "555555555555".into(),
        };
        assert!(
            !anywhere.marketplace_accepts(),
            "outside AWS: contracts only"
        );
        assert_eq!(anywhere.account(), "555555555555");
        assert_eq!(Origin::TaskRole.account(), DEFAULT_ACCOUNT);
    }
}
