//! Which roles the emulator's STS lets a web identity assume: the emulator's stand-in for IAM
//! trust policies, for EKS service-account tokens (IRSA) and for License Manager access
//! tokens (the Anywhere flow).

use serde::Deserialize;

use crate::web_identity::Subject;

/// A role STS knows, optionally bound to one service account (its trust policy's `sub`
/// condition), or trusting License Manager's federated principal
/// `openid-license-manager.amazonaws.com` instead of the cluster's OIDC provider. With no roles
/// configured, STS accepts any well-formed role ARN for either kind of token.
///
/// In the config file: `"roles": [{"arn": "arn:aws:iam::123456789012:role/app",
/// "service_account": "shop:app"}, {"arn": "...", "license_manager": true}]`; on the command
/// line `--role ARN[=NS:NAME]` or `--role ARN=license-manager`.
///
/// # Example
/// ```
/// use entitled_emulator::Role;
/// let role: Role = "arn:aws:iam::123456789012:role/app=shop:app".parse().unwrap();
/// assert_eq!(role.arn, "arn:aws:iam::123456789012:role/app");
/// assert_eq!(role.service_account.as_deref(), Some("shop:app"));
/// assert!("role/app".parse::<Role>().is_err(), "not an IAM role ARN");
/// let anywhere: Role = "arn:aws:iam::123456789012:role/lm=license-manager".parse().unwrap();
/// assert!(anywhere.license_manager);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "FileRole")]
pub struct Role {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub arn: String,
    /// `NAMESPACE:NAME`: only this service account may assume the role; any when `None`.
    pub service_account: Option<String>,
    /// The role trusts `openid-license-manager.amazonaws.com` (License Manager access tokens)
    /// rather than the cluster's OIDC provider.
    pub license_manager: bool,
}

/// The account of every caller whose credentials name no role of their own: the default
/// ECS task role's (`arn:aws:iam::123456789012:role/entitled-emulator-task-role`), long-term
/// keys, Pod Identity and node roles alike.
pub(crate) const DEFAULT_ACCOUNT: &str = "123456789012";

/// The `--role` binding that names License Manager's federated principal.
const LICENSE_MANAGER_BINDING: &str = "license-manager";

/// A role as the config file spells it, checked by the same rules as `--role`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRole {
    arn: String,
    #[serde(default)]
    service_account: Option<String>,
    #[serde(default)]
    license_manager: bool,
}

impl TryFrom<FileRole> for Role {
    type Error = String;

    fn try_from(file: FileRole) -> Result<Self, Self::Error> {
        match (file.service_account, file.license_manager) {
            (Some(_), true) => Err(format!(
                "role {}: service_account and license_manager name two different trusted principals; give one",
                file.arn
            )),
            (Some(sa), false) => format!("{}={sa}", file.arn).parse(),
            (None, true) => format!("{}={LICENSE_MANAGER_BINDING}", file.arn).parse(),
            (None, false) => file.arn.parse(),
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    /// `ARN`, `ARN=NAMESPACE:NAME` or `ARN=license-manager`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (arn, service_account, license_manager) = match s.rsplit_once('=') {
            Some((arn, LICENSE_MANAGER_BINDING)) => (arn, None, true),
            Some((arn, sa)) => (arn, Some(sa.to_owned()), false),
            None => (s, None, false),
        };
        if !is_role_arn(arn) {
            return Err(format!(
                "{arn:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
            ));
        }
        if let Some(sa) = &service_account {
            if sa.split(':').count() != 2 || sa.split(':').any(str::is_empty) {
                return Err(format!(
                    "{sa:?} is not a service account NAMESPACE:NAME (or {LICENSE_MANAGER_BINDING})"
                ));
            }
        }
        Ok(Role {
            arn: arn.to_owned(),
            service_account,
            license_manager,
        })
    }
}

/// `arn:PARTITION:iam::ACCOUNT(12 digits):role/NAME`.
pub(crate) fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()))
}

/// The account id of a role ARN that [`is_role_arn`] accepts.
pub(crate) fn role_account(arn: &str) -> Option<&str> {
    is_role_arn(arn).then(|| arn.split(':').nth(4)).flatten()
}

/// Whether `subject` may assume `role_arn`: an `AccessDenied` message when not.
pub(crate) fn authorize(roles: &[Role], role_arn: &str, subject: &Subject) -> Result<(), String> {
    if roles.is_empty() {
        return Ok(());
    }
    let allowed = roles.iter().any(|r| {
        r.arn == role_arn
            && !r.license_manager
            && r.service_account
                .as_deref()
                .is_none_or(|sa| sa == subject.service_account)
    });
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "Not authorized to perform sts:AssumeRoleWithWebIdentity: {} may not assume {role_arn}; check the role's trust policy (its {}:sub condition)",
            subject.sub,
            crate::web_identity::ISSUER.trim_start_matches("https://")
        ))
    }
}

/// The federated principal of License Manager access tokens, as trust policies name it.
pub(crate) const LICENSE_MANAGER_PRINCIPAL: &str = "openid-license-manager.amazonaws.com";

/// Whether a License Manager access token may assume `role_arn`: any role when none are
/// configured, else only roles bound to `license-manager`. An `AccessDenied` message when not.
pub(crate) fn authorize_license_token(roles: &[Role], role_arn: &str) -> Result<(), String> {
    if roles.is_empty() || roles.iter().any(|r| r.arn == role_arn && r.license_manager) {
        return Ok(());
    }
    Err(format!(
        "Not authorized to perform sts:AssumeRoleWithWebIdentity: {role_arn} does not trust the federated principal {LICENSE_MANAGER_PRINCIPAL}; configure it with --role {role_arn}={LICENSE_MANAGER_BINDING}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_file_and_the_flag_spell_roles_alike() {
        let config = crate::Config::new()
            .config_json(
                r#"{"roles": [{"arn": "arn:aws:iam::123456789012:role/app", "service_account": "shop:app"}]}"#,
                ".".as_ref(),
            )
            .unwrap();
        let flag: Role = "arn:aws:iam::123456789012:role/app=shop:app"
            .parse()
            .unwrap();
        assert_eq!(config.roles, [flag]);
        for bad in [
            r#"{"roles": [{"arn": "arn:aws:iam::123456789012:role/app", "sa": "y"}]}"#,
            r#"{"roles": [{"arn": "role/app"}]}"#,
            r#"{"roles": [{"arn": "arn:aws:iam::123456789012:role/app", "service_account": "app"}]}"#,
            r#"{"roles": [{"arn": "arn:aws:iam::123456789012:role/app", "service_account": "a:b", "license_manager": true}]}"#,
        ] {
            assert!(
                crate::Config::new().config_json(bad, ".".as_ref()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn bindings_restrict_roles_and_service_accounts() {
        let subject = Subject {
            sub: "system:serviceaccount:shop:app".into(),
            service_account: "shop:app".into(),
        };
        let arn = "arn:aws:iam::123456789012:role/app";
        assert!(authorize(&[], arn, &subject).is_ok(), "no roles: any role");
        let bound: Role = format!("{arn}=shop:app").parse().unwrap();
        assert!(authorize(std::slice::from_ref(&bound), arn, &subject).is_ok());
        let other: Role = format!("{arn}=shop:other").parse().unwrap();
        assert!(authorize(&[other], arn, &subject).is_err());
        let unknown = "arn:aws:iam::123456789012:role/else";
        assert!(authorize(std::slice::from_ref(&bound), unknown, &subject).is_err());
        let anywhere: Role = format!("{arn}=license-manager").parse().unwrap();
        assert!(
            authorize(std::slice::from_ref(&anywhere), arn, &subject).is_err(),
            "a role trusting License Manager does not trust the cluster"
        );
        assert!(authorize_license_token(std::slice::from_ref(&anywhere), arn).is_ok());
        assert!(authorize_license_token(&[bound], arn).is_err());
        assert!(
            authorize_license_token(&[], arn).is_ok(),
            "no roles: any role"
        );
    }
}
