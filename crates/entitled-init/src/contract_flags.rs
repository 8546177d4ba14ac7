//! The `--contract` options: their types, and the rules that tie them to
//! each other and to the RegisterUsage flags.

use std::path::PathBuf;
use std::time::Duration;

use crate::compiled::Compiled;
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
/// refused, naming both flags, rather than half obeyed. A binary built for a
/// product is bound to its pricing: a product SKU compiled in means contract
/// mode (`--contract` implied, `--product-sku` refused), a product code
/// compiled in refuses `--contract`, so a buyer's command line cannot swap
/// the product for a cheaper one priced the other way.
pub fn contract_options(
    options: &mut Options,
    compiled: &Compiled,
) -> Result<Option<Box<ContractCli>>, String> {
    if let Some(built) = compiled.product_code {
        if options.contract {
            return Err(format!("--contract is refused: this binary was built for product {built}, priced through RegisterUsage, which cannot be changed at run time; remove the flag"));
        }
    }
    if let Some(built) = compiled.product_sku {
        if options.product_sku.is_some() {
            return Err(format!("--product-sku is refused: this binary was built for product SKU {built}, which cannot be changed at run time; remove the flag"));
        }
        options.contract = true;
        options.product_sku = Some(built.to_owned());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOTHING: Compiled = Compiled {
        product_code: None,
        product_sku: None,
        public_key: None,
        locked: false,
    };

    fn options(contract: bool, sku: Option<&str>) -> Options {
        Options {
            contract,
            product_sku: sku.map(str::to_owned),
            entitlements: vec!["Basic".parse().unwrap()],
            check_only: true,
            ..Options::default()
        }
    }

    #[test]
    fn a_compiled_in_sku_implies_contract_and_refuses_the_flag() {
        let bound = Compiled {
            product_sku: Some("prod-bound-sku"),
            ..NOTHING
        };
        let cli = contract_options(&mut options(false, None), &bound)
            .unwrap()
            .expect("contract mode without --contract");
        assert_eq!(cli.product_sku, "prod-bound-sku");
        let err = contract_options(&mut options(true, Some("prod-other")), &bound).unwrap_err();
        assert!(
            err.starts_with(
                "--product-sku is refused: this binary was built for product SKU prod-bound-sku"
            ),
            "{err}"
        );
        let mut hourly = options(false, None);
        hourly.product_code = Some("prod-cheap".into());
        let err = contract_options(&mut hourly, &bound).unwrap_err();
        assert!(err.contains("--product-code"), "{err}");
    }

    #[test]
    fn a_compiled_in_product_code_refuses_contract_mode() {
        let bound = Compiled {
            product_code: Some("prod-hourly"),
            ..NOTHING
        };
        let err = contract_options(&mut options(true, Some("prod-x")), &bound).unwrap_err();
        assert!(
            err.starts_with("--contract is refused: this binary was built for product prod-hourly"),
            "{err}"
        );
        assert!(contract_options(&mut Options::default(), &bound)
            .unwrap()
            .is_none());
    }

    #[test]
    fn without_bindings_the_flags_decide() {
        assert!(contract_options(&mut Options::default(), &NOTHING)
            .unwrap()
            .is_none());
        let cli = contract_options(&mut options(true, Some("sku-1")), &NOTHING)
            .unwrap()
            .unwrap();
        assert_eq!(cli.product_sku, "sku-1");
    }
}
