//! The HTTP client: rustls with ring, trusting per host what [`crate::trust`]
//! says, and reading CA files only when a connection needs them.
//!
//! The SDK's client takes one trust store, so this client holds up to three
//! and picks one per request by its host: AWS's hosts get the Amazon roots
//! (plus any bundle named explicitly); other hosts get the named bundles,
//! else the distribution's; plain `http://` needs none. Each store is built
//! the first time a request needs it. A check against a plain-http emulator,
//! or against AWS with no bundle named, therefore reads no CA file at all,
//! whatever `SSL_CERT_FILE` and `SSL_CERT_DIR` say.
//!
//! The same client serves RegisterUsage and the credential providers (ECS,
//! STS for IRSA), so they share the pinning.

use std::fmt;
use std::sync::{Arc, OnceLock};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::OnceCell;

use crate::trust::bundle::{load_system, NamedSources};
use crate::trust::hosts::{anchored_by_amazon, scheme_and_host};
use crate::trust::roots::Roots;
use crate::trust::Warning;

mod http1;

use http1::Tls;

/// Errors building the HTTP client.
#[derive(Debug, thiserror::Error)]
#[error("TLS set-up failed: {0}")]
pub(crate) struct TransportError(String);

/// Where warnings about skipped CA files go, as they happen.
pub(crate) type WarningSink = Arc<dyn Fn(&Warning) + Send + Sync>;

/// What the client may trust beyond the embedded Amazon roots.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrustPolicy {
    /// Only the Amazon roots, for every host: the CA variables are ignored.
    pub locked: bool,
    /// The caller's extra roots (PEM), trusted for every host.
    pub extra_roots_pem: Option<Vec<u8>>,
}

/// The HTTPS (and plain HTTP) client used for RegisterUsage and for the
/// credential providers. Reads nothing until a request needs a trust store.
pub(crate) fn http_client(policy: TrustPolicy, on_warning: WarningSink) -> SharedHttpClient {
    let named = if policy.locked {
        NamedSources::default()
    } else {
        NamedSources::from_env()
    };
    SharedHttpClient::new(PinnedClient {
        state: Arc::new(State {
            policy,
            named,
            on_warning,
            named_roots: OnceLock::new(),
            clients: Default::default(),
        }),
    })
}

/// Which trust store a request uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// `http://`: no TLS, so the cheapest store.
    Plain = 0,
    /// An AWS host.
    Amazon = 1,
    /// Any other host.
    Other = 2,
}

fn route(uri: &str) -> Route {
    match scheme_and_host(uri) {
        Some((scheme, _)) if scheme == "http" => Route::Plain,
        Some((_, host)) if anchored_by_amazon(&host) => Route::Amazon,
        _ => Route::Other,
    }
}

struct State {
    policy: TrustPolicy,
    named: NamedSources,
    on_warning: WarningSink,
    /// The named bundles and the caller's extra roots, read once.
    named_roots: OnceLock<Roots>,
    /// The TLS configuration of each [`Route`] (none for plain http), built on first use.
    clients: [OnceCell<Result<Option<Tls>, String>>; 3],
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("locked", &self.policy.locked)
            .field("named", &self.named)
            .finish_non_exhaustive()
    }
}

impl State {
    /// True when building the store for `route` reads files.
    fn reads_files(&self, route: Route) -> bool {
        match route {
            _ if self.policy.locked => false,
            Route::Plain => false,
            Route::Amazon => !self.named.is_empty(),
            Route::Other => true,
        }
    }

    fn named_roots(&self) -> &Roots {
        self.named_roots.get_or_init(|| {
            let (mut roots, mut warnings) = (Roots::default(), Vec::new());
            self.named.load(&mut roots, &mut warnings);
            if let Some(pem) = &self.policy.extra_roots_pem {
                roots.add_pem(pem);
            }
            warnings.iter().for_each(|w| (self.on_warning)(w));
            roots
        })
    }

    /// The trust anchors for `route`. Blocking when [`Self::reads_files`].
    fn roots(&self, route: Route) -> Roots {
        let mut roots = Roots::amazon();
        if self.policy.locked || route == Route::Plain {
            return roots;
        }
        roots.extend(self.named_roots());
        if route == Route::Other && self.named.is_empty() {
            let mut warnings = Vec::new();
            load_system(&mut roots, &mut warnings);
            warnings.iter().for_each(|w| (self.on_warning)(w));
        }
        roots
    }

    async fn tls(self: &Arc<Self>, route: Route) -> Result<Option<Tls>, ConnectorError> {
        let built = self.clients[route as usize]
            .get_or_init(|| async {
                if route == Route::Plain {
                    return Ok(None);
                }
                if !self.reads_files(route) {
                    return Tls::trusting(&self.roots(route)).map(Some);
                }
                // File reads block, even bounded ones (a hung network
                // mount): off the async thread, so deadlines still work.
                let state = self.clone();
                tokio::task::spawn_blocking(move || Tls::trusting(&state.roots(route)).map(Some))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()))
            })
            .await;
        built
            .clone()
            .map_err(|e| ConnectorError::other(TransportError(e).into(), None))
    }
}

#[derive(Debug)]
struct PinnedClient {
    state: Arc<State>,
}

impl HttpClient for PinnedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PinnedConnector {
            state: self.state.clone(),
            settings: settings.clone(),
        })
    }
}

/// Sends each request over TLS trusting its route's roots (or plain http).
struct PinnedConnector {
    state: Arc<State>,
    settings: HttpConnectorSettings,
}

impl fmt::Debug for PinnedConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedConnector")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl HttpConnector for PinnedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let route = route(request.uri());
        let (state, settings) = (self.state.clone(), self.settings.clone());
        HttpConnectorFuture::new(async move {
            let tls = state.tls(route).await?;
            http1::send(request, tls.as_ref(), &settings).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(policy: TrustPolicy, named: NamedSources) -> State {
        State {
            policy,
            named,
            on_warning: Arc::new(|_| {}),
            named_roots: OnceLock::new(),
            clients: Default::default(),
        }
    }

    #[test]
    fn requests_are_routed_by_scheme_and_host() {
        assert_eq!(route("http://127.0.0.1:9000/"), Route::Plain);
        assert_eq!(
            route("http://metering.marketplace.us-east-1.amazonaws.com/"),
            Route::Plain
        );
        assert_eq!(
            route("https://metering.marketplace.us-east-1.amazonaws.com/"),
            Route::Amazon
        );
        assert_eq!(
            route("https://sts.us-east-1.amazonaws.com:443/"),
            Route::Amazon
        );
        assert_eq!(route("https://127.0.0.1:8443/"), Route::Other);
        assert_eq!(route("https://proxy.example/"), Route::Other);
    }

    /// The production path: an AWS host with no bundle named reads no file
    /// and trusts the five Amazon roots alone.
    #[test]
    fn an_aws_host_trusts_only_the_amazon_roots_unless_a_bundle_is_named() {
        let plain = state(TrustPolicy::default(), NamedSources::default());
        assert!(!plain.reads_files(Route::Amazon));
        assert!(plain.reads_files(Route::Other), "the distribution's bundle");
        assert_eq!(plain.roots(Route::Amazon).pem(), Roots::amazon().pem());

        let extra = Roots::amazon().pem().as_bytes().to_vec();
        let locked = state(
            TrustPolicy {
                locked: true,
                extra_roots_pem: Some(extra),
            },
            NamedSources::default(),
        );
        for route in [Route::Plain, Route::Amazon, Route::Other] {
            assert!(!locked.reads_files(route), "{route:?}");
            assert_eq!(locked.roots(route).pem(), Roots::amazon().pem());
        }
    }

    #[test]
    fn an_extra_root_that_is_not_a_certificate_adds_nothing() {
        let key = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".to_vec();
        let with_key = state(
            TrustPolicy {
                locked: false,
                extra_roots_pem: Some(key),
            },
            NamedSources::default(),
        );
        assert_eq!(with_key.roots(Route::Amazon).pem(), Roots::amazon().pem());
        assert!(Tls::trusting(&Roots::amazon()).is_ok());
    }
}
