//! The Region: aws-config's chain, with ECS task metadata before IMDS.
//!
//! Older ECS agents on EC2 set no `AWS_REGION`, and aws-config has no
//! ECS-metadata Region source. RegisterUsage must be called in the task's own
//! Region, so guessing one is never an option.

use std::time::Duration;

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::region::{future, ProvideRegion, RegionProviderChain};
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::Region;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The task metadata document is small; anything bigger is not it.
const MAX_METADATA_BYTES: usize = 64 * 1024;
const METADATA_TIMEOUT: Duration = Duration::from_secs(2);

/// The Region chain: environment, profile, ECS task metadata, then IMDS.
///
/// IMDS gets our HTTP client explicitly: without aws-config's default HTTPS
/// client feature, building its provider with no client panics.
pub(crate) fn region_chain(
    ecs_metadata_uri: Option<String>,
    http: SharedHttpClient,
) -> RegionProviderChain {
    let imds = ProviderConfig::default().with_http_client(http);
    RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(ProfileFileRegionProvider::new())
        .or_else(EcsTaskRegion {
            uri: ecs_metadata_uri,
        })
        .or_else(ImdsRegionProvider::builder().configure(&imds).build())
}

/// Reads the Region from `${ECS_CONTAINER_METADATA_URI_V4}/task`.
#[derive(Debug)]
pub(crate) struct EcsTaskRegion {
    uri: Option<String>,
}

impl ProvideRegion for EcsTaskRegion {
    fn region(&self) -> future::ProvideRegion<'_> {
        let uri = self.uri.clone();
        future::ProvideRegion::new(async move {
            let uri = uri.filter(|u| !u.is_empty())?;
            region_from_task_metadata(&uri).await.map(Region::new)
        })
    }
}

/// Fetches the task metadata and returns the Region in its `TaskARN`.
///
/// ```no_run
/// # async fn demo() {
/// let region = entitled::region_from_task_metadata("http://169.254.170.2/v4/abc").await;
/// # }
/// ```
pub async fn region_from_task_metadata(metadata_uri: &str) -> Option<String> {
    let uri: http::Uri = format!("{}/task", metadata_uri.trim_end_matches('/'))
        .parse()
        .ok()?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let fetch = async {
        let response = client.get(uri).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body = Limited::new(response.into_body(), MAX_METADATA_BYTES)
            .collect()
            .await
            .ok()?
            .to_bytes();
        region_from_task_json(&body)
    };
    tokio::time::timeout(METADATA_TIMEOUT, fetch)
        .await
        .ok()
        .flatten()
}

/// `TaskARN` is `arn:aws:ecs:<region>:<account>:task/...`.
fn region_from_task_json(body: &[u8]) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    let arn = doc.get("TaskARN")?.as_str()?;
    let mut parts = arn.split(':');
    let (Some("arn"), Some(_partition), Some("ecs"), Some(region)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_the_task_arn_and_nothing_else() {
        let ok = br#"{"Cluster":"c","TaskARN":"arn:aws:ecs:eu-west-3:123456789012:task/c/abc","AvailabilityZone":"us-east-1a"}"#;
        assert_eq!(region_from_task_json(ok).as_deref(), Some("eu-west-3"));
        let gov = br#"{"TaskARN":"arn:aws-us-gov:ecs:us-gov-west-1:1:task/x"}"#;
        assert_eq!(region_from_task_json(gov).as_deref(), Some("us-gov-west-1"));
        for bad in [
            &br#"{"TaskARN":"arn:aws:s3:eu-west-3:1:task/x"}"#[..],
            br#"{"TaskARN":"arn:aws:ecs::1:task/x"}"#,
            br#"{"TaskARN":"arn:aws:ecs:EU/../x:1:task/x"}"#,
            br#"{"TaskARN":42}"#,
            b"not json",
        ] {
            assert_eq!(
                region_from_task_json(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
