//! Command-line flags of the `entitled-emulator` binary, turned into a [`Config`]. The flags
//! themselves are defined in [`flags`].

mod flags;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use entitled_emulator::{Config, EmulatorError, KeySpec, LicenseSpec, ProductSpec, Role};

/// The product `--public-key-out` and product flags refer to when no `--product` is given.
pub const DEFAULT_PRODUCT_CODE: &str = "demo-product";

const HELP_HEAD: &str = "\
entitled-emulator: a local AWS Marketplace Metering Service (RegisterUsage, MeterUsage,
BatchMeterUsage, ResolveCustomer) with real SigV4 checks and real PS256 tokens. TEST USE ONLY.

USAGE:
  entitled-emulator [OPTIONS]

Once it accepts connections it writes --ca-out and --public-key-out, then prints exactly one
line to stdout: `listening on http://ADDR` (https with --tls). Stops cleanly on SIGTERM/Ctrl-C.

OPTIONS:
";

const HELP_TAIL: &str = "
Order of checks on every metering call: SigV4 (403 InvalidSignatureException /
UnrecognizedClientException), pinned Region, input validation (400 ValidationException /
SerializationException), the first queued fault that applies, the RegisterUsage throttle,
then the operation (RegisterUsage: platform rule, product and key version, entitlement).
STS: POST / with Content-Type application/x-www-form-urlencoded and Action=
AssumeRoleWithWebIdentity (awsQuery, unsigned, XML answers; point AWS_ENDPOINT_URL_STS here).
License Manager: POST / with X-Amz-Target: AWSLicenseManager.<Operation> (CheckoutLicense,
ExtendLicenseConsumption, CheckInLicense, GetLicense, ListReceivedLicenses, GetAccessToken),
SigV4 signing name license-manager; licences from --license, the config file or the admin API.

CONFIG FILE (all keys optional):
  {\"listen\": \"127.0.0.1:8080\", \"tls\": false, \"region\": \"us-east-1\",
   \"platform_rule\": false, \"throttle\": 5.0, \"known_products_only\": false,
   \"container_authorization\": \"Bearer x\",
   \"credentials\": [{\"access_key_id\": \"AKID\", \"secret_access_key\": \"S\", \"session_token\": null}],
   \"roles\": [{\"arn\": \"arn:aws:iam::123456789012:role/app\", \"service_account\": \"NS:NAME\"}],
   \"deny\": [\"CODE\"], \"deny_callers\": [\"AKID\"], \"deny_customers\": [\"cust-1\"],
   \"products\": [{\"code\": \"CODE\", \"dimensions\": [\"users\"],
                 \"keys\": [{\"version\": 1, \"key_file\": \"v1.pem\", \"expired_at\": 1700000000},
                          {\"version\": 2}]}],
   \"faults\": [{\"target\": \"CODE\", \"fault\": {\"kind\": \"error\", \"code\": \"ThrottlingException\"},
               \"times\": 3, \"operation\": \"RegisterUsage\"}],
   \"licenses\": [{\"product_sku\": \"SKU\", \"beneficiary\": \"123456789012\",
                 \"entitlements\": [{\"name\": \"Premium\", \"unit\": \"None\"},
                                  {\"name\": \"Users\", \"unit\": \"Count\", \"max_count\": 5,
                                   \"overage\": false, \"allow_check_in\": true}],
                 \"status\": \"AVAILABLE\", \"validity\": {\"begin\": \"2026-01-01T00:00:00Z\",
                 \"end\": \"2027-01-01T00:00:00Z\"}, \"issuer_name\": \"AWS/Marketplace\",
                 \"key_fingerprint\": \"aws:294406891311:AWS/Marketplace:issuer-fingerprint\",
                 \"provisional_ttl_minutes\": 60}]}
  A key without key_file is generated. Relative paths are relative to the file. A role may
  also be {\"arn\": ARN, \"license_manager\": true} (trusts License Manager access tokens).

";

/// The whole `--help` text but the admin API: usage, every flag, the config file.
pub fn help() -> String {
    format!("{HELP_HEAD}{}{HELP_TAIL}", flags::render())
}

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
    roles: Vec<Role>,
    licenses: Vec<LicenseSpec>,
    region: Option<String>,
    platform_rule: bool,
    throttle: Option<f64>,
    known_products_only: bool,
    config: Option<PathBuf>,
    help: bool,
    version: bool,
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

impl Args {
    fn current_product(&mut self) -> &mut ProductSpec {
        if self.products.is_empty() {
            self.products.push(ProductSpec::new(DEFAULT_PRODUCT_CODE));
        }
        let last = self.products.len() - 1;
        &mut self.products[last]
    }

    /// `--expired VERSION:EPOCH`: marks the version's latest key expired, keeping where it
    /// comes from; a version with no key yet gets a generated one.
    fn expire(&mut self, version: u32, epoch: u64) {
        let product = self.current_product();
        match product.keys.iter_mut().rev().find(|k| k.version == version) {
            Some(key) => key.expired_at = Some(epoch),
            None => product.keys.push(KeySpec {
                version,
                key_file: None,
                expired_at: Some(epoch),
            }),
        }
    }

    /// The product `--public-key-out` writes.
    pub fn first_product(&self) -> &str {
        self.products
            .first()
            .map_or(DEFAULT_PRODUCT_CODE, |p| p.code.as_str())
    }
}

/// Parses the process arguments. `-h` or `-V` ends parsing at once.
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Command, UsageError> {
    use lexopt::Arg;
    let mut parser = lexopt::Parser::from_args(args);
    let mut a = Args::default();
    while let Some(arg) = parser.next()? {
        let flag = flags::FLAGS.iter().find(|f| match &arg {
            Arg::Long(name) => f.long.strip_prefix("--") == Some(*name),
            Arg::Short(c) => f.short == Some(*c),
            Arg::Value(_) => false,
        });
        let Some(flag) = flag else {
            return Err(arg.unexpected().into());
        };
        let value = match flag.value {
            Some(_) => parser
                .value()?
                .into_string()
                .map_err(|_| bad(flag.long, "not valid UTF-8"))?,
            None => String::new(),
        };
        (flag.apply)(&mut a, value).map_err(|reason| bad(flag.long, reason))?;
        if a.help {
            return Ok(Command::Help);
        }
        if a.version {
            return Ok(Command::Version);
        }
    }
    Ok(Command::Run(Box::new(a)))
}

fn bad(flag: &'static str, reason: impl Into<String>) -> UsageError {
    UsageError::Value {
        flag,
        reason: reason.into(),
    }
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
    for role in &a.roles {
        config = config.role(role.clone());
    }
    for license in &a.licenses {
        config = config.license(license.clone());
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
mod tests;
