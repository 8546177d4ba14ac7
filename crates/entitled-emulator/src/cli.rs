//! Command-line flags of the `entitled-emulator` binary, turned into a [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use entitled_emulator::{Config, EmulatorError, KeySpec, ProductSpec};

/// The product `--public-key-out` and product flags refer to when no `--product` is given.
pub const DEFAULT_PRODUCT_CODE: &str = "demo-product";

pub const HELP: &str = "\
entitled-emulator: a local AWS Marketplace Metering Service (RegisterUsage, MeterUsage,
BatchMeterUsage, ResolveCustomer) with real SigV4 checks and real PS256 tokens. TEST USE ONLY.

USAGE:
  entitled-emulator [OPTIONS]

Once it accepts connections it writes --ca-out and --public-key-out, then prints exactly one
line to stdout: `listening on http://ADDR` (https with --tls). Stops cleanly on SIGTERM/Ctrl-C.

OPTIONS:
  --listen ADDR              address to listen on [default: 127.0.0.1:0, a free port]
  --tls                      serve HTTPS with a generated CA and a leaf for 127.0.0.1, ::1, localhost
  --ca-out PATH              write the CA certificate PEM (with --tls); trust it via SSL_CERT_FILE
                             or AWS_CA_BUNDLE
  --public-key-out PATH      write the SPKI PEM public key of version 1 of the first --product
                             (or of `demo-product` when there is none)
  --product CODE             configure a product (repeatable); the flags below apply to the last
                             one. Without --key-file its version 1 key is RSA-3072, generated.
                             Unconfigured product codes are served too, with a version-1 key
                             generated on first use.
  --key-file [VERSION:]PATH  sign VERSION (default 1) with this PKCS#8 PEM RSA private key
  --generate-key VERSION     generate an RSA-3072 key for VERSION at start
  --expired VERSION:EPOCH    VERSION still works but responses carry
                             PublicKeyRotationTimestamp=EPOCH
  --dimension NAME           restrict MeterUsage/BatchMeterUsage dimensions (repeatable)
  --deny CODE                product CODE is not entitled: CustomerNotEntitledException (repeatable)
  --deny-caller AKID         calls signed by AKID are not entitled (repeatable)
  --credentials AKID:SECRET[:SESSION_TOKEN]
                             accept these credentials (repeatable). Always accepted as well:
                             AKIAEMULATOREXAMPLE / emulator-secret-access-key (long-term) and the
                             session credentials served at /_emulator/credentials
  --container-authorization TOKEN
                             /_emulator/credentials requires `Authorization: TOKEN`
                             (AWS_CONTAINER_AUTHORIZATION_TOKEN): missing 401, wrong 403
  --region REGION            pin the Region: calls signed for others get InvalidRegionException
  --platform-rule            RegisterUsage signed with long-term keys (no session token) gets
                             PlatformNotSupportedException, as outside ECS/EKS
  --throttle RATE            token bucket on RegisterUsage: RATE calls/s, burst max(1, RATE);
                             excess calls get ThrottlingException (AWS's quota is 5/s)
  --known-products-only      unconfigured product codes get InvalidProductCodeException
  --config FILE              JSON config, applied before the flags above (see below)
  -h, --help                 this help
  -V, --version              the version

Order of checks on every metering call: SigV4 (403 InvalidSignatureException /
UnrecognizedClientException), pinned Region, input validation (400 ValidationException /
SerializationException), the next queued fault, the RegisterUsage throttle, then the operation
(RegisterUsage: platform rule, product and key version, entitlement).

CONFIG FILE (all keys optional):
  {\"listen\": \"127.0.0.1:8080\", \"tls\": false, \"region\": \"us-east-1\",
   \"platform_rule\": false, \"throttle\": 5.0, \"known_products_only\": false,
   \"container_authorization\": \"Bearer x\",
   \"credentials\": [{\"access_key_id\": \"AKID\", \"secret_access_key\": \"S\", \"session_token\": null}],
   \"deny\": [\"CODE\"], \"deny_callers\": [\"AKID\"], \"deny_customers\": [\"cust-1\"],
   \"products\": [{\"code\": \"CODE\", \"dimensions\": [\"users\"],
                 \"keys\": [{\"version\": 1, \"key_file\": \"v1.pem\", \"expired_at\": 1700000000},
                          {\"version\": 2}]}],
   \"faults\": [{\"target\": \"CODE\", \"fault\": {\"kind\": \"error\", \"code\": \"ThrottlingException\"},
               \"times\": 3}]}
  A key without key_file is generated. Relative paths are relative to the file.

";

/// Parsed flags.
#[derive(Debug, Default)]
pub struct Args {
    pub listen: Option<SocketAddr>,
    pub tls: bool,
    pub ca_out: Option<PathBuf>,
    pub public_key_out: Option<PathBuf>,
    products: Vec<ProductSpec>,
    deny: Vec<String>,
    deny_callers: Vec<String>,
    credentials: Vec<(String, String, Option<String>)>,
    container_authorization: Option<String>,
    region: Option<String>,
    platform_rule: bool,
    throttle: Option<f64>,
    known_products_only: bool,
    config: Option<PathBuf>,
}

/// What the command line asks for.
pub enum Command {
    Run(Box<Args>),
    Help,
    Version,
}

/// A flag problem, shown with a pointer to `--help`.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("{0}")]
    Lexopt(#[from] lexopt::Error),
    #[error("{flag}: {reason}")]
    Value { flag: &'static str, reason: String },
}

fn value(parser: &mut lexopt::Parser, flag: &'static str) -> Result<String, UsageError> {
    let v = parser.value()?;
    v.into_string().map_err(|_| UsageError::Value {
        flag,
        reason: "not valid UTF-8".into(),
    })
}

fn bad(flag: &'static str, reason: impl Into<String>) -> UsageError {
    UsageError::Value {
        flag,
        reason: reason.into(),
    }
}

impl Args {
    fn current_product(&mut self) -> &mut ProductSpec {
        if self.products.is_empty() {
            self.products.push(ProductSpec::new(DEFAULT_PRODUCT_CODE));
        }
        let last = self.products.len() - 1;
        &mut self.products[last]
    }

    /// The product `--public-key-out` writes.
    pub fn first_product(&self) -> &str {
        self.products
            .first()
            .map_or(DEFAULT_PRODUCT_CODE, |p| p.code.as_str())
    }
}

/// `--expired VERSION:EPOCH`: marks the version's latest key expired, keeping where it comes
/// from; a version with no key yet gets a generated one.
fn expire(product: &mut ProductSpec, version: u32, epoch: u64) {
    match product.keys.iter_mut().rev().find(|k| k.version == version) {
        Some(key) => key.expired_at = Some(epoch),
        None => product.keys.push(KeySpec {
            version,
            key_file: None,
            expired_at: Some(epoch),
        }),
    }
}

/// Parses the process arguments.
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Command, UsageError> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut a = Args::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("listen") => {
                let v = value(&mut parser, "--listen")?;
                a.listen = Some(v.parse().map_err(|e| {
                    bad(
                        "--listen",
                        format!("{v:?} is not IP:PORT ({e}); e.g. 127.0.0.1:0"),
                    )
                })?);
            }
            Long("tls") => a.tls = true,
            Long("ca-out") => a.ca_out = Some(value(&mut parser, "--ca-out")?.into()),
            Long("public-key-out") => {
                a.public_key_out = Some(value(&mut parser, "--public-key-out")?.into())
            }
            Long("product") => {
                let code = value(&mut parser, "--product")?;
                a.products.push(ProductSpec::new(code));
            }
            Long("key-file") => {
                let v = value(&mut parser, "--key-file")?;
                let (version, path) = match v.split_once(':') {
                    Some((n, p)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                        let n = n
                            .parse()
                            .map_err(|_| bad("--key-file", "version too large"))?;
                        (n, p.to_owned())
                    }
                    _ => (1, v),
                };
                a.current_product().keys.push(KeySpec {
                    version,
                    key_file: Some(path.into()),
                    expired_at: None,
                });
            }
            Long("generate-key") => {
                let v = value(&mut parser, "--generate-key")?;
                let n = v
                    .parse()
                    .map_err(|_| bad("--generate-key", format!("{v:?} is not a key version")))?;
                a.current_product().keys.push(KeySpec {
                    version: n,
                    key_file: None,
                    expired_at: None,
                });
            }
            Long("expired") => {
                let v = value(&mut parser, "--expired")?;
                let parsed = v
                    .split_once(':')
                    .and_then(|(n, e)| Some((n.parse().ok()?, e.parse().ok()?)));
                let Some((n, epoch)) = parsed else {
                    return Err(bad(
                        "--expired",
                        format!("{v:?} is not VERSION:EPOCH_SECONDS"),
                    ));
                };
                expire(a.current_product(), n, epoch);
            }
            Long("dimension") => {
                let v = value(&mut parser, "--dimension")?;
                a.current_product()
                    .dimensions
                    .get_or_insert_with(Vec::new)
                    .push(v);
            }
            Long("deny") => a.deny.push(value(&mut parser, "--deny")?),
            Long("deny-caller") => a.deny_callers.push(value(&mut parser, "--deny-caller")?),
            Long("credentials") => {
                let v = value(&mut parser, "--credentials")?;
                let mut parts = v.splitn(3, ':');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(id), Some(secret), token) if !id.is_empty() && !secret.is_empty() => a
                        .credentials
                        .push((id.to_owned(), secret.to_owned(), token.map(str::to_owned))),
                    _ => return Err(bad("--credentials", "expected AKID:SECRET[:SESSION_TOKEN]")),
                }
            }
            Long("container-authorization") => {
                a.container_authorization = Some(value(&mut parser, "--container-authorization")?)
            }
            Long("region") => a.region = Some(value(&mut parser, "--region")?),
            Long("platform-rule") => a.platform_rule = true,
            Long("throttle") => {
                let v = value(&mut parser, "--throttle")?;
                let rate: f64 = v
                    .parse()
                    .ok()
                    .filter(|r: &f64| r.is_finite() && *r > 0.0)
                    .ok_or_else(|| {
                        bad(
                            "--throttle",
                            format!("{v:?} is not a positive number of calls per second"),
                        )
                    })?;
                a.throttle = Some(rate);
            }
            Long("known-products-only") => a.known_products_only = true,
            Long("config") => a.config = Some(value(&mut parser, "--config")?.into()),
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(Command::Run(Box::new(a)))
}

/// Builds the emulator config: the config file first, then the flags.
pub fn to_config(a: &Args) -> Result<Config, EmulatorError> {
    let mut config = Config::new();
    if let Some(path) = &a.config {
        config = config.config_file(path)?;
    }
    if let Some(addr) = a.listen {
        config = config.listen(addr);
    }
    if a.tls {
        config = config.tls(true);
    }
    for spec in &a.products {
        config = config.product(spec.clone().into_product(Path::new(""))?);
    }
    for d in &a.deny {
        config = config.deny(d.clone());
    }
    for d in &a.deny_callers {
        config = config.deny_caller(d.clone());
    }
    for (id, secret, token) in &a.credentials {
        config = match token {
            Some(t) => config.session_credentials(id.clone(), secret.clone(), t.clone()),
            None => config.static_credentials(id.clone(), secret.clone()),
        };
    }
    if let Some(t) = &a.container_authorization {
        config = config.container_authorization(t.clone());
    }
    if let Some(r) = &a.region {
        config = config.region(r.clone());
    }
    if a.platform_rule {
        config = config.platform_rule(true);
    }
    if let Some(rate) = a.throttle {
        config = config.throttle(rate);
    }
    if a.known_products_only {
        config = config.known_products_only(true);
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(std::ffi::OsString::from))
    }

    #[test]
    fn flags_attach_to_last_product() {
        let Ok(Command::Run(a)) = run(&[
            "--product",
            "a",
            "--product",
            "b",
            "--key-file",
            "2:/k.pem",
            "--expired",
            "2:5",
        ]) else {
            panic!("parse failed");
        };
        assert_eq!(a.first_product(), "a");
        assert_eq!(
            a.products[1].keys,
            [KeySpec {
                version: 2,
                key_file: Some(PathBuf::from("/k.pem")),
                expired_at: Some(5),
            }]
        );
    }

    #[test]
    fn rejects_bad_values() {
        assert!(run(&["--throttle", "x"]).is_err());
        assert!(run(&["--expired", "1"]).is_err());
        assert!(run(&["--credentials", "onlyid"]).is_err());
        assert!(run(&["--listen", "nope"]).is_err());
        assert!(run(&["--bogus"]).is_err());
    }
}
