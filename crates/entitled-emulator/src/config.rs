//! What an emulator serves: [`Config`] (builder) and [`Product`], plus the JSON config file.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use entitled_verify::ProductCode;
use serde::Deserialize;

use crate::faults::{Fault, ScheduledFault};
use crate::licenses::LicenseSpec;
use crate::roles::Role;
use crate::sigv4::Credential;
use crate::token::SigningKey;
use crate::EmulatorError;

/// The long-term access key id every emulator accepts (besides configured ones), so the AWS CLI
/// and SDKs work against it without set-up. Not a real AWS key.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIAEMULATOREXAMPLE";
/// The secret of [`DEFAULT_ACCESS_KEY_ID`].
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "emulator-secret-access-key";

/// How an emulator behaves. Builder style; `Config::default()` listens on `127.0.0.1:0`, plain
/// HTTP, any Region, and serves every valid product code (see [`Product`]).
///
/// Credentials accepted: [`DEFAULT_ACCESS_KEY_ID`] / [`DEFAULT_SECRET_ACCESS_KEY`] (long-term),
/// the session credentials served at `/_emulator/credentials`, and whatever
/// [`Config::static_credentials`] / [`Config::session_credentials`] add.
///
/// # Example
/// ```
/// use entitled_emulator::{Config, EmulatorError, Product};
/// let config = Config::new()
///     .region("us-east-1")
///     .product(Product::new("prod-1"))
///     .static_credentials("AKIDEXAMPLE", "secret")
///     .config_json(r#"{"throttle": 5.0, "deny": ["prod-2"]}"#, ".".as_ref())
///     .unwrap();
/// assert!(format!("{config:?}").contains("AKIDEXAMPLE"));
/// // The config file refuses what it does not know, naming it.
/// let err = Config::new().config_json(r#"{"throtle": 5}"#, ".".as_ref()).unwrap_err();
/// assert!(matches!(&err, EmulatorError::Config(m) if m.contains("throtle")), "{err}");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) listen: SocketAddr,
    pub(crate) tls: bool,
    pub(crate) region: Option<String>,
    pub(crate) products: Vec<Product>,
    pub(crate) credentials: Vec<Credential>,
    pub(crate) container_authorization: Option<String>,
    pub(crate) roles: Vec<Role>,
    pub(crate) deny: BTreeSet<String>,
    pub(crate) deny_callers: BTreeSet<String>,
    pub(crate) deny_customers: BTreeSet<String>,
    pub(crate) platform_rule: bool,
    pub(crate) throttle: Option<f64>,
    pub(crate) faults: Vec<ScheduledFault>,
    pub(crate) known_products_only: bool,
    pub(crate) other_key: Option<SigningKey>,
    pub(crate) licenses: Vec<LicenseSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            region: None,
            products: Vec::new(),
            credentials: vec![Credential {
                access_key_id: DEFAULT_ACCESS_KEY_ID.into(),
                secret_access_key: DEFAULT_SECRET_ACCESS_KEY.into(),
                session_token: None,
            }],
            container_authorization: None,
            roles: Vec::new(),
            deny: BTreeSet::new(),
            deny_callers: BTreeSet::new(),
            deny_customers: BTreeSet::new(),
            platform_rule: false,
            throttle: None,
            faults: Vec::new(),
            known_products_only: false,
            other_key: None,
            licenses: Vec::new(),
        }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The address to listen on; port 0 picks a free port.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Serve HTTPS with a CA and a leaf certificate (for `127.0.0.1`, `::1` and `localhost`)
    /// generated at start; [`crate::Emulator::ca_pem`] returns the CA to trust.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Pin the Region: calls signed for another Region get `InvalidRegionException`
    /// (`InvalidEndpointRegionException` for MeterUsage).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Configure a product's keys, expiries and dimensions. A product configured twice keeps
    /// the later configuration.
    pub fn product(mut self, product: Product) -> Self {
        self.products.retain(|p| p.code != product.code);
        self.products.push(product);
        self
    }

    /// Accept these long-term credentials (no session token).
    pub fn static_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.add_credential(access_key_id.into(), secret.into(), None);
        self
    }

    /// Accept these session credentials; calls must send `X-Amz-Security-Token: token`.
    pub fn session_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        self.add_credential(access_key_id.into(), secret.into(), Some(token.into()));
        self
    }

    fn add_credential(&mut self, akid: String, secret: String, token: Option<String>) {
        self.credentials.retain(|c| c.access_key_id != akid);
        self.credentials.push(Credential {
            access_key_id: akid,
            secret_access_key: secret,
            session_token: token,
        });
    }

    /// Require this exact `Authorization` header value on `/_emulator/credentials`, as the ECS
    /// agent does with `AWS_CONTAINER_AUTHORIZATION_TOKEN`: missing gets 401, wrong gets 403.
    pub fn container_authorization(mut self, token: impl Into<String>) -> Self {
        self.container_authorization = Some(token.into());
        self
    }

    /// Restrict STS `AssumeRoleWithWebIdentity` to the roles added this way (by default any
    /// role ARN is accepted); a role with a service account admits only that one, as an IAM
    /// trust policy's `sub` condition does.
    pub fn role(mut self, role: Role) -> Self {
        self.roles.push(role);
        self
    }

    /// Make a product not entitled: RegisterUsage and MeterUsage get
    /// `CustomerNotEntitledException`, BatchMeterUsage records `CustomerNotSubscribed`.
    pub fn deny(mut self, product_code: impl Into<String>) -> Self {
        self.deny.insert(product_code.into());
        self
    }

    /// Make a caller (access key id) not entitled to any product.
    pub fn deny_caller(mut self, access_key_id: impl Into<String>) -> Self {
        self.deny_callers.insert(access_key_id.into());
        self
    }

    /// Make a BatchMeterUsage customer (identifier or AWS account id) `CustomerNotSubscribed`.
    pub fn deny_customer(mut self, customer: impl Into<String>) -> Self {
        self.deny_customers.insert(customer.into());
        self
    }

    /// Mimic AWS's platform rule: RegisterUsage signed with long-term keys (no session token)
    /// gets `PlatformNotSupportedException`.
    pub fn platform_rule(mut self, on: bool) -> Self {
        self.platform_rule = on;
        self
    }

    /// Throttle RegisterUsage with a token bucket: `calls_per_second` refill, burst
    /// `max(1, calls_per_second)`, starting full; one bucket for all callers. Excess calls get
    /// `ThrottlingException` (HTTP 400). AWS's real quota is 5 calls/s.
    pub fn throttle(mut self, calls_per_second: f64) -> Self {
        self.throttle = Some(calls_per_second);
        self
    }

    /// Queue a fault from the start (see [`crate::Emulator::push_fault`]).
    pub fn fault(mut self, target: impl Into<String>, fault: Fault, times: u32) -> Self {
        self.faults.push(ScheduledFault {
            target: target.into(),
            fault,
            times,
            operation: None,
        });
        self
    }

    /// Serve only configured products: other product codes get `InvalidProductCodeException`.
    pub fn known_products_only(mut self, on: bool) -> Self {
        self.known_products_only = on;
        self
    }

    /// Seed a License Manager licence at start (see [`LicenseSpec`]); the emulator refuses to
    /// start, naming the problem, if it is invalid.
    pub fn license(mut self, spec: LicenseSpec) -> Self {
        self.licenses.push(spec);
        self
    }

    /// The key [`crate::TokenVariant::OtherKey`] signs with (default: generated on first use).
    pub fn other_key(mut self, key: SigningKey) -> Self {
        self.other_key = Some(key);
        self
    }

    /// Reads a JSON config file (format in the binary's `--help`) on top of this config.
    /// Relative key paths are resolved against the file's directory.
    ///
    /// # Errors
    /// [`EmulatorError::File`] if unreadable, [`EmulatorError::Config`] if invalid,
    /// [`EmulatorError::Key`] for a bad key file.
    pub fn config_file(self, path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::File {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        self.config_json(&text, base).map_err(|e| match e {
            EmulatorError::Config(m) => EmulatorError::Config(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Applies config-file JSON text; relative key paths resolve against `base_dir`.
    ///
    /// # Errors
    /// As [`Config::config_file`].
    pub fn config_json(mut self, text: &str, base_dir: &Path) -> Result<Self, EmulatorError> {
        let file: FileConfig =
            serde_json::from_str(text).map_err(|e| EmulatorError::Config(e.to_string()))?;
        if let Some(listen) = file.listen {
            self.listen = listen;
        }
        if let Some(tls) = file.tls {
            self.tls = tls;
        }
        if let Some(region) = file.region {
            self.region = Some(region);
        }
        if let Some(on) = file.platform_rule {
            self.platform_rule = on;
        }
        if let Some(rate) = file.throttle {
            self.throttle = Some(rate);
        }
        if let Some(on) = file.known_products_only {
            self.known_products_only = on;
        }
        if let Some(token) = file.container_authorization {
            self.container_authorization = Some(token);
        }
        self.roles.extend(file.roles);
        for c in file.credentials {
            self.add_credential(c.access_key_id, c.secret_access_key, c.session_token);
        }
        self.deny.extend(file.deny);
        self.deny_callers.extend(file.deny_callers);
        self.deny_customers.extend(file.deny_customers);
        for spec in file.products {
            self = self.product(spec.into_product(base_dir)?);
        }
        if let Some(problem) = file.faults.iter().find_map(|f| f.check().err()) {
            return Err(EmulatorError::Config(format!("faults: {problem}")));
        }
        self.faults.extend(file.faults);
        for spec in &file.licenses {
            // Checked now so that the file's error names it; seeded when the emulator starts.
            spec.clone()
                .into_license(0)
                .map_err(|e| EmulatorError::Config(format!("licenses: {e}")))?;
        }
        self.licenses.extend(file.licenses);
        Ok(self)
    }
}

fn resolve(base: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() {
        file.to_owned()
    } else {
        base.join(file)
    }
}

pub(crate) fn read(path: &Path) -> Result<String, EmulatorError> {
    std::fs::read_to_string(path).map_err(|source| EmulatorError::File {
        path: path.to_owned(),
        source,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    tls: Option<bool>,
    region: Option<String>,
    platform_rule: Option<bool>,
    throttle: Option<f64>,
    known_products_only: Option<bool>,
    container_authorization: Option<String>,
    #[serde(default)]
    credentials: Vec<FileCredential>,
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    deny_callers: Vec<String>,
    #[serde(default)]
    deny_customers: Vec<String>,
    #[serde(default)]
    products: Vec<ProductSpec>,
    #[serde(default)]
    faults: Vec<ScheduledFault>,
    #[serde(default)]
    licenses: Vec<LicenseSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCredential {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

/// A product as the config file and the command line spell it: keys by version, each read
/// from a file or generated, expiries and dimensions. The one conversion into a [`Product`].
///
/// # Example
/// ```
/// use entitled_emulator::{KeySpec, ProductSpec};
/// let spec: ProductSpec = serde_json::from_str(
///     r#"{"code":"prod-1","keys":[{"version":2,"expired_at":1700000000}],"dimensions":["users"]}"#,
/// ).unwrap();
/// assert_eq!(spec.keys, [KeySpec { version: 2, key_file: None, expired_at: Some(1_700_000_000) }]);
/// assert_eq!(spec.into_product(".".as_ref()).unwrap().code(), "prod-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductSpec {
    /// The product code.
    pub code: String,
    /// The keys, applied in order (a later entry for a version replaces an earlier one).
    #[serde(default)]
    pub keys: Vec<KeySpec>,
    /// The metering dimensions; any dimension when `None`.
    pub dimensions: Option<Vec<String>>,
}

/// One key version of a [`ProductSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// The key version.
    pub version: u32,
    /// A PKCS#8 PEM RSA private key; generated when `None`.
    pub key_file: Option<PathBuf>,
    /// The `PublicKeyRotationTimestamp` responses for this version carry.
    pub expired_at: Option<u64>,
}

impl ProductSpec {
    /// A spec with no keys (so a generated version-1 key) and any dimension.
    pub fn new(code: impl Into<String>) -> Self {
        ProductSpec {
            code: code.into(),
            keys: Vec::new(),
            dimensions: None,
        }
    }

    /// The product: code checked, key files read (relative paths against `base_dir`), other
    /// keys generated.
    ///
    /// # Errors
    /// [`EmulatorError::Config`] for a code that is not a valid [`ProductCode`] (empty, too
    /// long, or outside the model's pattern: no call could ever name it),
    /// [`EmulatorError::File`] for an unreadable key file, [`EmulatorError::Key`] (naming the
    /// file) for one that is not a usable RSA PKCS#8 key.
    ///
    /// ```
    /// use entitled_emulator::{EmulatorError, ProductSpec};
    /// let err = ProductSpec::new("").into_product(".".as_ref()).unwrap_err();
    /// assert!(matches!(&err, EmulatorError::Config(m) if m.contains("1-255 characters")), "{err}");
    /// ```
    pub fn into_product(self, base_dir: &Path) -> Result<Product, EmulatorError> {
        let code = ProductCode::try_from(self.code)
            .map_err(|e| EmulatorError::Config(format!("products: {e}")))?;
        let mut product = Product::new(code.as_str());
        for k in self.keys {
            product = match k.key_file {
                Some(file) => {
                    let path = resolve(base_dir, &file);
                    let pem = read(&path)?;
                    product.key_pem(k.version, &pem).map_err(|e| match e {
                        EmulatorError::Key { reason } => EmulatorError::Key {
                            reason: format!("{}: {reason}", path.display()),
                        },
                        other => other,
                    })?
                }
                None => product.generated_key(k.version),
            };
            if let Some(epoch) = k.expired_at {
                product = product.expired(k.version, epoch);
            }
        }
        if let Some(dimensions) = self.dimensions {
            product = product.dimensions(dimensions);
        }
        Ok(product)
    }
}

/// Where a product version's key comes from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    Given(SigningKey),
    Generate,
}

/// A product's keys (per version), expired versions and metering dimensions.
///
/// A product with no key configured gets a generated RSA-3072 key for version 1. Product codes
/// that are never configured are served too (unless [`Config::known_products_only`]): their
/// version-1 key is generated on first use, and other versions get
/// `InvalidPublicKeyVersionException`.
///
/// # Example
/// ```
/// use entitled_emulator::Product;
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem")).unwrap();
/// let product = Product::new("prod-1")
///     .key_pem(1, &pem).unwrap()
///     .expired(1, 1_700_000_000)
///     .generated_key(2);
/// assert_eq!(product.code(), "prod-1");
/// assert!(Product::new("prod-1").key_pem(1, "not a PEM").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Product {
    pub(crate) code: String,
    pub(crate) keys: BTreeMap<u32, KeySource>,
    pub(crate) expired: BTreeMap<u32, u64>,
    pub(crate) dimensions: Option<BTreeSet<String>>,
}

impl Product {
    /// A product with this code and (until keys are added) a generated version-1 key.
    pub fn new(code: impl Into<String>) -> Self {
        Product {
            code: code.into(),
            keys: BTreeMap::new(),
            expired: BTreeMap::new(),
            dimensions: None,
        }
    }

    /// Sign `version`'s tokens with this PKCS#8 PEM RSA private key.
    ///
    /// # Errors
    /// [`EmulatorError::Key`] if the PEM is not a usable RSA PKCS#8 key.
    pub fn key_pem(mut self, version: u32, pkcs8_private_pem: &str) -> Result<Self, EmulatorError> {
        let key = SigningKey::from_pkcs8_pem(pkcs8_private_pem)?;
        self.keys.insert(version, KeySource::Given(key));
        Ok(self)
    }

    /// Sign `version`'s tokens with an already parsed key.
    pub fn signing_key(mut self, version: u32, key: SigningKey) -> Self {
        self.keys.insert(version, KeySource::Given(key));
        self
    }

    /// Generate an RSA-3072 key for `version` when the emulator starts.
    pub fn generated_key(mut self, version: u32) -> Self {
        self.keys.insert(version, KeySource::Generate);
        self
    }

    /// Mark `version` expired: calls still get a token, and the response carries
    /// `PublicKeyRotationTimestamp: rotation_epoch_seconds`. A version with no key gets a
    /// generated one.
    pub fn expired(mut self, version: u32, rotation_epoch_seconds: u64) -> Self {
        self.keys.entry(version).or_insert(KeySource::Generate);
        self.expired.insert(version, rotation_epoch_seconds);
        self
    }

    /// Restrict MeterUsage/BatchMeterUsage to these dimensions; others get
    /// `InvalidUsageDimensionException`. Without this any dimension is accepted.
    pub fn dimensions<I, S>(mut self, dimensions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.dimensions = Some(dimensions.into_iter().map(Into::into).collect());
        self
    }

    /// The product code.
    pub fn code(&self) -> &str {
        &self.code
    }
}
