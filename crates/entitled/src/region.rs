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
pub(crate) async fn region_from_task_metadata(metadata_uri: &str) -> Option<String> {
    region_from_task_json(&fetch_task_metadata(metadata_uri).await?)
}

/// Fetches the task metadata and returns its `TaskARN`, the task's identity for metering.
pub(crate) async fn task_arn_from_metadata(metadata_uri: &str) -> Option<String> {
    let body = fetch_task_metadata(metadata_uri).await?;
    let doc: serde_json::Value = serde_json::from_slice(&body).ok()?;
    doc.get("TaskARN")?.as_str().map(str::to_owned)
}

/// `GET ${ECS_CONTAINER_METADATA_URI_V4}/task`, bounded in size and time.
async fn fetch_task_metadata(metadata_uri: &str) -> Option<bytes::Bytes> {
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
        Some(body)
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

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

    // The Region comes from a real HTTP fetch of ECS task metadata on loopback.

    /// Serves one canned HTTP response and returns the request path it saw.
    async fn serve_once(
        status: &str,
        body: &'static str,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v4/task-abc", listener.local_addr().unwrap());
        let status = status.to_owned();
        let handle = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let n = socket.read(&mut request).await.unwrap();
            let request = String::from_utf8_lossy(&request[..n]).into_owned();
            let response = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            socket.write_all(response.as_bytes()).await.unwrap();
            request.lines().next().unwrap_or_default().to_owned()
        });
        (base, handle)
    }

    #[tokio::test]
    async fn region_is_read_from_the_task_arn() {
        let (uri, server) = serve_once(
            "200 OK",
            r#"{"Cluster":"default","TaskARN":"arn:aws:ecs:ap-southeast-2:123456789012:task/default/0123","LaunchType":"EC2"}"#,
        )
        .await;
        assert_eq!(
            region_from_task_metadata(&uri).await.as_deref(),
            Some("ap-southeast-2")
        );
        assert_eq!(server.await.unwrap(), "GET /v4/task-abc/task HTTP/1.1");
    }

    #[tokio::test]
    async fn a_failing_metadata_endpoint_gives_no_region() {
        let (uri, server) = serve_once(
            "500 Internal Server Error",
            r#"{"TaskARN":"arn:aws:ecs:eu-west-1:1:task/x"}"#,
        )
        .await;
        assert_eq!(region_from_task_metadata(&uri).await, None);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_metadata_endpoint_gives_no_region() {
        // Bind then drop, so the port is very likely closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(
            region_from_task_metadata(&format!("http://127.0.0.1:{port}/v4/x")).await,
            None
        );
    }
}
