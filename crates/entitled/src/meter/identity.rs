//! Who is metering: the identity that scopes AWS's once-per-hour rule (the ECS task or the
//! EKS pod), and the deterministic `ClientToken` derived from it.

use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

/// The pod's identity from the downward API, when the Deployment exposes it.
pub const POD_UID_ENV: &str = "POD_UID";

/// The `ClientToken` for one report: SHA-256 over identity, product, dimension and hour, as
/// 64 hex characters (MeterUsage's limit). A resend after a crash is the same request.
///
/// ```
/// let a = entitled::meter::client_token("task-1", "prod", "users", 3600);
/// assert_eq!(a.len(), 64);
/// assert_eq!(a, entitled::meter::client_token("task-1", "prod", "users", 3600));
/// assert_ne!(a, entitled::meter::client_token("task-2", "prod", "users", 3600));
/// ```
pub fn client_token(identity: &str, product_code: &str, dimension: &str, hour: u64) -> String {
    let input = format!("entitled-meter/v1\n{identity}\n{product_code}\n{dimension}\n{hour}");
    digest(&SHA256, input.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The task or pod identity from the environment: the ECS task ARN, else the pod's UID
/// (`POD_UID`), else the pod name (`HOSTNAME` when running in Kubernetes).
pub(crate) async fn from_environment() -> Option<String> {
    if let Some(uri) = std::env::var("ECS_CONTAINER_METADATA_URI_V4")
        .ok()
        .filter(|u| !u.is_empty())
    {
        if let Some(arn) = crate::region::task_arn_from_metadata(&uri).await {
            return Some(arn);
        }
    }
    if let Some(uid) = std::env::var(POD_UID_ENV).ok().filter(|v| !v.is_empty()) {
        return Some(format!("pod-uid:{uid}"));
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        if let Some(name) = std::env::var("HOSTNAME").ok().filter(|v| !v.is_empty()) {
            return Some(format!("pod:{name}"));
        }
    }
    None
}

/// A random identity, kept in the journal so restarts on the same journal reuse it.
pub(crate) fn random() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(format!(
        "journal:{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}
