//! The Region comes from a real HTTP fetch of ECS task metadata on loopback.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves one canned HTTP response and returns the request path it saw.
async fn serve_once(status: &str, body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
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
        entitled::region_from_task_metadata(&uri).await.as_deref(),
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
    assert_eq!(entitled::region_from_task_metadata(&uri).await, None);
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
        entitled::region_from_task_metadata(&format!("http://127.0.0.1:{port}/v4/x")).await,
        None
    );
}
