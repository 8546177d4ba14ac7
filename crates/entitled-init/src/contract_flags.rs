//! The `--contract` options: their types, and the rules that tie them to
//! each other and to the RegisterUsage flags.

use std::path::PathBuf;
use std::time::Duration;

use crate::flags::Options;

/// The options of `--contract`.
#[derive(Debug)]
pub struct ContractCli {
    /// `--product-sku`.
    pub product_sku: String,
    /// `--entitlement`, in the order given.
    pub entitlements: Vec<entitled::contract::Requested>,
    /// `--checkout-type`.
    pub checkout_type: entitled::contract::CheckoutType,
    /// `--key-fingerprint`.
    pub key_fingerprint: Option<String>,
    /// `--node-id`.
    pub node_id: Option<String>,
    /// `--license-public-key`.
    pub license_public_key: Option<PathBuf>,
    /// `--hold` and its settings.
    pub hold: Option<Hold>,
}

/// `--hold`: supervise COMMAND and keep the checkout extended.
#[derive(Clone, Copy, Debug)]
pub struct Hold {
    /// `--on-loss warn`: only log a lost licence.
    pub warn_only: bool,
    /// `--grace`: SIGTERM to SIGKILL.
    pub grace: Duration,
}

/// The default `--grace`.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// `--contract` and the RegisterUsage flags exclude each other, and the
/// contract flags need `--contract`: a task definition that mixes them is
/// refused, naming both flags, rather than half obeyed.
pub fn contract_options(options: &mut Options) -> Result<Option<Box<ContractCli>>, String> {
    let register_usage = [
        ("--product-code", options.product_code.is_some()),
        ("--public-key", options.public_key.is_some()),
        ("--public-key-version", options.public_key_version.is_some()),
        ("--handoff-file", options.handoff_file.is_some()),
    ];
    let contract_only = [
        ("--product-sku", options.product_sku.is_some()),
        ("--entitlement", !options.entitlements.is_empty()),
        ("--checkout-type", options.checkout_type.is_some()),
        ("--key-fingerprint", options.key_fingerprint.is_some()),
        ("--node-id", options.node_id.is_some()),
        ("--license-public-key", options.license_public_key.is_some()),
        ("--hold", options.hold),
    ];
    let hold_only = [
        ("--on-loss", options.on_loss_warn.is_some()),
        ("--grace", options.grace.is_some()),
    ];
    if !options.hold {
        if let Some((flag, _)) = hold_only.iter().find(|(_, given)| *given) {
            return Err(format!("{flag} needs --hold; add --hold to keep the checkout while COMMAND runs, or drop {flag}"));
        }
    }
    if !options.contract {
        if let Some((flag, _)) = contract_only.iter().find(|(_, given)| *given) {
            return Err(format!("{flag} needs --contract; add --contract for contract pricing (License Manager), or drop {flag}"));
        }
        return Ok(None);
    }
    if let Some((flag, _)) = register_usage.iter().find(|(_, given)| *given) {
        return Err(format!("--contract and {flag} exclude each other: --contract checks out from License Manager, {flag} is for RegisterUsage; give one"));
    }
    let product_sku = options
        .product_sku
        .take()
        .ok_or("--contract needs --product-sku ID, the product id from AWS Marketplace")?;
    if options.entitlements.is_empty() {
        return Err("--contract needs at least one --entitlement: every tier the product has, or counted units such as Seats:Count:1".into());
    }
    let checkout_type = options.checkout_type.unwrap_or_default();
    let hold = match options.hold {
        false => None,
        true if options.check_only => {
            return Err("--hold supervises a COMMAND; drop --check, or --hold".into())
        }
        true if checkout_type == entitled::contract::CheckoutType::Perpetual => {
            return Err("--hold keeps a provisional checkout; a perpetual one is drawn for good and holds nothing, so drop --hold or --checkout-type perpetual".into())
        }
        true => Some(Hold {
            warn_only: options.on_loss_warn.unwrap_or(false),
            grace: options.grace.unwrap_or(DEFAULT_GRACE),
        }),
    };
    Ok(Some(Box::new(ContractCli {
        product_sku,
        entitlements: std::mem::take(&mut options.entitlements),
        checkout_type,
        key_fingerprint: options.key_fingerprint.take(),
        node_id: options.node_id.take(),
        license_public_key: options.license_public_key.take(),
        hold,
    })))
}
