//! One HTTP/1.1 exchange per connection, over TCP or over TLS (rustls with ring).
//!
//! The SDK's own client negotiates HTTP/2 as well and pools connections; its HTTP/2 stack
//! alone was about 200 KB of the static guard, which must stay under 4 MiB. Every AWS API
//! the library calls (Metering, License Manager, STS, the ECS credentials endpoint, IMDS)
//! speaks HTTP/1.1, and the library makes a handful of calls per start or per hour, so a
//! connection per request costs nothing that matters and removes the pool's idle sockets.

use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::HttpConnectorSettings;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use http::header::{HeaderValue, HOST};
use http::uri::{Scheme, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::trust::roots::Roots;

/// What a TLS connection trusts: the roots of its route, with ring as the only provider.
#[derive(Clone, Debug)]
pub(crate) struct Tls(Arc<rustls::ClientConfig>);

impl Tls {
    /// A client configuration trusting exactly `roots`.
    pub fn trusting(roots: &Roots) -> Result<Tls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots.store().clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls(Arc::new(config)))
    }
}

/// Sends `request` on a new connection and returns the answer, its body still streaming.
pub(crate) async fn send(
    request: HttpRequest,
    tls: Option<&Tls>,
    settings: &HttpConnectorSettings,
) -> Result<HttpResponse, ConnectorError> {
    let mut request = request
        .try_into_http1x()
        .map_err(|e| ConnectorError::other(e.into(), None))?;
    let target = Target::of(request.uri())?;
    set_host_and_origin_form(&mut request, &target);
    let tcp = connect(&target, settings.connect_timeout()).await?;
    let exchange = async {
        match (&target.scheme_is_https, tls) {
            (false, _) => exchange(tcp, request).await,
            (true, Some(tls)) => {
                let name = ServerName::try_from(target.host.clone())
                    .map_err(|e| ConnectorError::other(e.into(), None))?;
                let stream = tokio_rustls::TlsConnector::from(tls.0.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?;
                exchange(stream, request).await
            }
            (true, None) => Err(ConnectorError::other(
                "an https:// request reached the plain-http client".into(),
                None,
            )),
        }
    };
    let response = match settings.read_timeout() {
        Some(limit) => tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| ConnectorError::timeout(format!("no answer within {limit:?}").into()))??,
        None => exchange.await?,
    };
    HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
        .map_err(|e| ConnectorError::other(e.into(), None))
}

/// Where a request goes.
struct Target {
    scheme_is_https: bool,
    /// The host, without the brackets of an IPv6 literal.
    host: String,
    port: u16,
    /// `Host` as the request's authority names it.
    host_header: String,
}

impl Target {
    fn of(uri: &Uri) -> Result<Target, ConnectorError> {
        let bad = |what: &str| ConnectorError::other(format!("{what} in {uri}").into(), None);
        let scheme_is_https = match uri.scheme() {
            Some(s) if *s == Scheme::HTTPS => true,
            Some(s) if *s == Scheme::HTTP => false,
            _ => return Err(bad("not an http or https URL")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority.host();
        let default_port = if scheme_is_https { 443 } else { 80 };
        Ok(Target {
            scheme_is_https,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: authority.port_u16().unwrap_or(default_port),
            // The port only when it is not the scheme's, as HTTP clients send it (and as
            // SigV4 signs it).
            host_header: match authority.port_u16() {
                Some(port) if port != default_port => format!("{host}:{port}"),
                _ => host.to_owned(),
            },
        })
    }
}

/// HTTP/1.1 wants the path in the request line and the authority in `Host`.
fn set_host_and_origin_form(request: &mut http::Request<SdkBody>, target: &Target) {
    if !request.headers().contains_key(HOST) {
        if let Ok(value) = HeaderValue::from_str(&target.host_header) {
            request.headers_mut().insert(HOST, value);
        }
    }
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if let Ok(uri) = path.parse() {
        *request.uri_mut() = uri;
    }
}

async fn connect(target: &Target, limit: Option<Duration>) -> Result<TcpStream, ConnectorError> {
    let connecting = connect_any(target);
    let tcp = match limit {
        Some(limit) => tokio::time::timeout(limit, connecting).await.map_err(|_| {
            ConnectorError::timeout(
                format!(
                    "connecting to {}:{} took over {limit:?}",
                    target.host, target.port
                )
                .into(),
            )
        })?,
        None => connecting.await,
    }?;
    // Requests are one small write each; Nagle would only hold them back.
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// The first address of the host that accepts, in the resolver's order. A name that does
/// not resolve says "dns error", so a log tells it from a refused connection.
async fn connect_any(target: &Target) -> Result<TcpStream, ConnectorError> {
    let io = |text: String, kind| ConnectorError::io(std::io::Error::new(kind, text).into());
    let addresses = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| {
            io(
                format!("dns error: looking up {}: {e}", target.host),
                e.kind(),
            )
        })?;
    let mut last = None;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some((address, e)),
        }
    }
    Err(match last {
        Some((address, e)) => io(format!("connecting to {address}: {e}"), e.kind()),
        None => io(
            format!("dns error: {} has no address", target.host),
            std::io::ErrorKind::NotFound,
        ),
    })
}

/// One request and its answer on `stream`; the connection is driven by its own task until
/// the answer's body has been read (or dropped).
async fn exchange<S>(
    stream: S,
    request: http::Request<SdkBody>,
) -> Result<http::Response<hyper::body::Incoming>, ConnectorError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ConnectorError::io(e.into()))?;
    tokio::spawn(async move {
        // Its failure reaches the caller through the answer or its body.
        let _ = connection.await;
    });
    sender.send_request(request).await.map_err(hyper_error)
}

/// A failed exchange: a connection cut or refused is I/O (retried by the check's loop), a
/// garbled answer is a response error.
fn hyper_error(err: hyper::Error) -> ConnectorError {
    if err.is_parse() || err.is_parse_status() {
        ConnectorError::other(err.into(), None)
    } else {
        ConnectorError::io(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_header_carries_the_port_only_when_it_is_not_the_schemes() {
        let table = [
            (
                "https://sts.us-east-1.amazonaws.com/",
                "sts.us-east-1.amazonaws.com",
                443,
                "sts.us-east-1.amazonaws.com",
            ),
            (
                "https://sts.us-east-1.amazonaws.com:443/",
                "sts.us-east-1.amazonaws.com",
                443,
                "sts.us-east-1.amazonaws.com",
            ),
            (
                "http://127.0.0.1:8080/x?y=1",
                "127.0.0.1",
                8080,
                "127.0.0.1:8080",
            ),
            ("http://[::1]:9000/", "::1", 9000, "[::1]:9000"),
            ("http://localhost/", "localhost", 80, "localhost"),
        ];
        for (uri, host, port, header) in table {
            let target = Target::of(&uri.parse().unwrap()).unwrap();
            assert_eq!(
                (
                    target.host.as_str(),
                    target.port,
                    target.host_header.as_str()
                ),
                (host, port, header),
                "{uri}"
            );
        }
        assert!(Target::of(&"ftp://example.com/".parse().unwrap()).is_err());
    }

    #[test]
    fn the_request_line_holds_the_path_and_query_only() {
        let mut request = http::Request::builder()
            .uri("http://127.0.0.1:8080/a/b?c=d")
            .body(SdkBody::empty())
            .unwrap();
        let target = Target::of(request.uri()).unwrap();
        set_host_and_origin_form(&mut request, &target);
        assert_eq!(request.uri().to_string(), "/a/b?c=d");
        assert_eq!(request.headers()[HOST], "127.0.0.1:8080");
    }

    /// What reaches the TLS client is what the roots kept: a block that is not a
    /// certificate never does.
    #[test]
    fn roots_that_are_not_certificates_are_refused() {
        let mut roots = Roots::amazon();
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(roots.add_pem(garbage.as_bytes()), 0);
        assert_eq!(roots.store().len(), 5, "the five Amazon roots alone");
        assert!(Tls::trusting(&roots).is_ok());
    }
}
