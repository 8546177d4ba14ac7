//! The running emulator: listener, connections, routing, start and shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::calls::CallRecord;
use crate::faults::Fault;
use crate::keys::KeyStore;
use crate::ops::Operation;
use crate::state::{Received, State};
use crate::wire::{admin_response, Body, DropConnection};
use crate::{Config, EmulatorError, LicenseSpec};

/// Largest request body accepted; the operations need a few kilobytes at most.
const MAX_REQUEST_BYTES: usize = 1 << 20;

/// A running emulator. Dropping it shuts it down.
///
/// # Example
/// ```
/// use entitled_emulator::{Config, Emulator, Fault, Product};
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem")).unwrap();
/// let product = Product::new("prod-1").key_pem(1, &pem).unwrap();
/// let emulator = Emulator::spawn(Config::new().product(product)).unwrap();
/// assert_eq!(emulator.endpoint_url(), format!("http://{}", emulator.local_addr()));
/// assert_eq!(emulator.credentials_url(), format!("{}/_emulator/credentials", emulator.endpoint_url()));
/// assert!(emulator.public_key_pem("prod-1", 1).unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
/// assert!(emulator.public_key_pem("prod-1", 2).is_none(), "only configured versions");
/// assert!(emulator.session_credentials().0.starts_with("ASIA"));
/// emulator.push_fault("prod-1", Fault::Drop, 1);
/// assert!(emulator.calls().is_empty(), "queuing a fault is not a call");
/// ```
pub struct Emulator {
    state: Arc<State>,
    addr: SocketAddr,
    tls: bool,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("endpoint_url", &self.endpoint_url())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts serving on the current tokio runtime; returns once the listener accepts
    /// connections (and every configured key is loaded or generated).
    ///
    /// # Errors
    /// [`EmulatorError::Bind`], [`EmulatorError::Tls`], [`EmulatorError::KeyGeneration`].
    pub async fn start(config: Config) -> Result<Emulator, EmulatorError> {
        let r = launch(config).await?;
        Ok(Emulator {
            state: r.state,
            addr: r.addr,
            tls: r.tls,
            shutdown: r.shutdown,
            thread: None,
        })
    }

    /// Starts the emulator on its own thread and tokio runtime (two workers), for synchronous
    /// tests that run subprocesses. Returns once it accepts connections.
    ///
    /// # Errors
    /// As [`Emulator::start`], plus [`EmulatorError::Runtime`].
    pub fn spawn(config: Config) -> Result<Emulator, EmulatorError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("entitled-emulator")
            .build()
            .map_err(|e| EmulatorError::Runtime(e.to_string()))?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("entitled-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match launch(config).await {
                        Ok(running) => {
                            let mut rx = running.shutdown.subscribe();
                            if ready_tx.send(Ok(running)).is_ok() {
                                wait_shutdown(&mut rx).await;
                            }
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                // Dropping the runtime here cancels every connection, stalled ones included.
            })
            .map_err(|e| EmulatorError::Runtime(e.to_string()))?;
        let running = ready_rx
            .recv()
            .map_err(|_| EmulatorError::Runtime("emulator thread exited during start".into()))??;
        Ok(Emulator {
            state: running.state,
            addr: running.addr,
            tls: running.tls,
            shutdown: running.shutdown,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`: the endpoint URL for AWS clients.
    pub fn endpoint_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The ECS container-credentials URL (`AWS_CONTAINER_CREDENTIALS_FULL_URI`).
    pub fn credentials_url(&self) -> String {
        format!("{}/_emulator/credentials", self.endpoint_url())
    }

    /// The EKS Pod Identity agent URL (`AWS_CONTAINER_CREDENTIALS_FULL_URI` on a pod using EKS
    /// Pod Identity), whose credentials the platform rule refuses.
    pub fn pod_identity_url(&self) -> String {
        format!("{}/_emulator/pod-identity/credentials", self.endpoint_url())
    }

    /// A web identity token for service account `namespace:name`, as EKS projects it into a
    /// pod (`AWS_WEB_IDENTITY_TOKEN_FILE`), valid for `expires_in_seconds` (negative: already
    /// expired). STS at [`Emulator::endpoint_url`] (`AWS_ENDPOINT_URL_STS`) accepts it.
    /// The first call generates the OIDC key (a fraction of a second).
    ///
    /// # Errors
    /// [`EmulatorError::KeyGeneration`] if the OIDC key cannot be generated.
    pub fn web_identity_token(
        &self,
        namespace: &str,
        service_account: &str,
        expires_in_seconds: i64,
    ) -> Result<String, EmulatorError> {
        let request = crate::web_identity::TokenRequest {
            namespace: namespace.to_owned(),
            service_account: service_account.to_owned(),
            expires_in: Some(expires_in_seconds),
            audience: None,
        };
        self.state
            .oidc
            .issue_blocking(&request, crate::clock::now_epoch() as i64)
            .map_err(EmulatorError::KeyGeneration)
    }

    /// The instance metadata endpoint (`AWS_EC2_METADATA_SERVICE_ENDPOINT`), serving a node
    /// role's credentials (IMDSv2), which the platform rule refuses.
    pub fn instance_metadata_url(&self) -> String {
        self.endpoint_url()
    }

    /// The generated CA certificate (PEM) when serving TLS.
    pub fn ca_pem(&self) -> Option<String> {
        self.state.ca_pem.clone()
    }

    /// The SPKI PEM public key of a product version, as AWS Marketplace hands it to sellers.
    /// For an unconfigured product code, version 1's key is generated now if it does not exist
    /// yet (this blocks for about a second). `None` for unknown versions.
    pub fn public_key_pem(&self, product_code: &str, version: u32) -> Option<String> {
        self.state
            .keys
            .resolve_blocking(product_code, version)
            .ok()
            .map(|k| k.key.public_key_pem())
    }

    /// Queues `fault` for `times` calls to `target`: a product code, `*` (any metering call
    /// without a fault of its own), `@credentials`, `@pod-identity` or `@sts`. Faults run first in, first out.
    pub fn push_fault(&self, target: &str, fault: Fault, times: u32) {
        self.state.faults.push(target, fault, times, None);
    }

    /// As [`Emulator::push_fault`], for calls of `operation` only: calls of other operations
    /// pass the fault over and leave its uses intact. `target` is a product code or `*`; a
    /// fault aimed at an operation never applies to `@credentials`.
    pub fn push_fault_for(&self, target: &str, operation: Operation, fault: Fault, times: u32) {
        self.state
            .faults
            .push(target, fault, times, Some(operation));
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// The call log so far (also `GET /_emulator/calls`).
    pub fn calls(&self) -> Vec<CallRecord> {
        self.state.calls.snapshot()
    }

    /// MeterUsage totals per product, caller, dimension, hour and tag set (also
    /// `GET /_emulator/usage`).
    pub fn usage(&self) -> Vec<crate::UsageTotal> {
        self.state.meter_hours.totals()
    }

    /// Empties the call log.
    pub fn clear_calls(&self) {
        self.state.calls.clear();
    }

    /// The session credentials served at [`Emulator::credentials_url`]:
    /// `(access_key_id, secret_access_key, session_token)`.
    pub fn session_credentials(&self) -> (String, String, String) {
        let s = &self.state.session;
        (
            s.access_key_id.clone(),
            s.secret_access_key.clone(),
            s.session_token.clone().unwrap_or_default(),
        )
    }

    /// Issues a registration token that ResolveCustomer resolves (once) to a new customer of
    /// `product_code`. Returns the token.
    pub fn registration_token(&self, product_code: &str) -> String {
        self.state
            .registrations
            .issue(product_code, None, None, None, false)
            .registration_token
    }

    /// Seeds a License Manager licence (as `POST /_emulator/licenses`); returns its ARN. The
    /// first licence of an issuer generates the issuer's RSA-2048 key (a fraction of a second).
    ///
    /// # Errors
    /// [`EmulatorError::Config`] naming what is wrong with the licence.
    ///
    /// ```
    /// use entitled_emulator::{Config, Emulator, EntitlementSpec, LicenseSpec, MARKETPLACE_FINGERPRINT};
    /// let emulator = Emulator::spawn(Config::new()).unwrap();
    /// let arn = emulator
    ///     .add_license(LicenseSpec::new("prod-sku", vec![EntitlementSpec::count("Users", 2)]))
    ///     .unwrap();
    /// assert!(arn.starts_with("arn:aws:license-manager::294406891311:license:l-"));
    /// let pem = emulator.license_issuer_public_key(MARKETPLACE_FINGERPRINT).unwrap();
    /// assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    /// assert!(emulator.add_license(LicenseSpec::new("prod-sku", vec![])).is_err());
    /// ```
    pub fn add_license(&self, spec: LicenseSpec) -> Result<String, EmulatorError> {
        self.state
            .licenses
            .add_blocking(spec)
            .map_err(EmulatorError::Config)
    }

    /// The SPKI PEM public key that verifies `SignedToken`s of licences issued with
    /// `fingerprint` (as `GET /_emulator/license-issuers/public-key`); `None` when no licence
    /// names that issuer.
    pub fn license_issuer_public_key(&self, fingerprint: &str) -> Option<String> {
        self.state
            .licenses
            .keys
            .issuer_if_made(fingerprint)
            .map(|k| k.public_key_pem())
    }

    /// Moves the licence clock forward (as `POST /_emulator/clock`); returns the total offset
    /// in seconds. It governs licence validity, consumption expiry and License Manager tokens,
    /// not SigV4 or metering.
    pub fn advance_license_clock(&self, seconds: u64) -> u64 {
        self.state.licenses.clock.advance(seconds)
    }

    /// Stops serving and closes every connection. Also done on drop.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A started server, before it is wrapped in an [`Emulator`].
struct Running {
    state: Arc<State>,
    addr: SocketAddr,
    tls: bool,
    shutdown: watch::Sender<bool>,
}

/// Prepares everything, binds, and spawns the accept loop on the current runtime.
async fn launch(config: Config) -> Result<Running, EmulatorError> {
    let (state, listener, acceptor) = prepare(config).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| EmulatorError::Runtime(e.to_string()))?;
    let (tx, rx) = watch::channel(false);
    let tls = acceptor.is_some();
    tokio::spawn(accept_loop(listener, state.clone(), acceptor, rx));
    Ok(Running {
        state,
        addr,
        tls,
        shutdown: tx,
    })
}

/// Loads keys, creates TLS material and binds the listener.
async fn prepare(
    config: Config,
) -> Result<(Arc<State>, TcpListener, Option<tokio_rustls::TlsAcceptor>), EmulatorError> {
    let products = config.products.clone();
    let known_only = config.known_products_only;
    let other_key = config.other_key.clone();
    let keys =
        tokio::task::spawn_blocking(move || KeyStore::build(&products, known_only, other_key))
            .await
            .map_err(|e| EmulatorError::Runtime(e.to_string()))??;
    let tls = if config.tls {
        Some(crate::tls::generate()?)
    } else {
        None
    };
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
    let state = State::new(&config, keys, tls.as_ref().map(|t| t.ca_pem.clone()));
    for spec in &config.licenses {
        state
            .licenses
            .add(spec.clone())
            .await
            .map_err(|e| EmulatorError::Config(format!("licenses: {e}")))?;
    }
    let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.server_config));
    Ok((Arc::new(state), listener, acceptor))
}

/// Resolves when shutdown is requested or the emulator handle is gone.
pub(crate) async fn wait_shutdown(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            _ = wait_shutdown(&mut shutdown) => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _peer)) = accepted else {
            // Out of file descriptors or similar: back off briefly instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let acceptor = acceptor.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = wait_shutdown(&mut shutdown) => {}
                _ = serve_connection(stream, state, acceptor) => {}
            }
        });
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    state: Arc<State>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) {
    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new());
    match acceptor {
        Some(acceptor) => {
            if let Ok(tls) = acceptor.accept(stream).await {
                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
            }
        }
        None => {
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    let (parts, body) = req.into_parts();
    let body = match http_body_util::Limited::new(body, MAX_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(admin_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain",
                "request body too large or unreadable\n",
            ))
        }
    };
    let req = Received { parts, body };
    let path = req.parts.uri.path();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return crate::admin::handle(&state, req).await;
    }
    if path.starts_with(crate::instance_metadata::PREFIX) {
        return Ok(crate::instance_metadata::handle(&state, &req));
    }
    if req.parts.method == http::Method::POST && crate::sts::is_query_call(&req) {
        return crate::sts::handle(&state, req).await;
    }
    if req.parts.method == http::Method::POST {
        return crate::service::handle(&state, req).await;
    }
    Ok(admin_response(
        StatusCode::NOT_FOUND,
        "text/plain",
        "entitled-emulator: AWS Marketplace Metering Service emulator. POST / with X-Amz-Target: AWSMPMeteringService.<Operation>; admin API under /_emulator/\n",
    ))
}
