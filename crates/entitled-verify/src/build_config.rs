//! Build-time rules for the values a seller compiles into the guard.
//!
//! The guard's `build.rs` refuses a bad product code, key version or key
//! file with these functions while building, and the guard's own tests
//! exercise the same functions, so there is one copy of the rules. Each
//! applies the run time's own checks ([`ProductCode`], [`KeyVersion`],
//! [`PublicKey`]): the build and the run refuse exactly the same values,
//! in the same words, prefixed with the variable that carried them.
//!
//! ```
//! use entitled_verify::build_config::{check_key_version, check_product_code};
//!
//! assert_eq!(check_product_code("prod-abc123").unwrap().as_str(), "prod-abc123");
//! assert_eq!(check_key_version(" 2 ").unwrap().get(), 2);
//! let err = check_product_code("a b").unwrap_err();
//! assert!(err.to_string().starts_with("ENTITLED_PRODUCT_CODE: "));
//! ```

use std::path::{Path, PathBuf};

use crate::{KeyError, KeyVersion, KeyVersionError, ProductCode, ProductCodeError, PublicKey};

/// A compiled-in value the guard would refuse at run time; the message
/// names the build variable and the run time's reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildConfigError {
    /// `ENTITLED_PRODUCT_CODE` is not a valid product code.
    #[error("ENTITLED_PRODUCT_CODE: {0}")]
    ProductCode(#[source] ProductCodeError),
    /// `ENTITLED_PRODUCT_SKU` is not a product id License Manager could take.
    #[error("ENTITLED_PRODUCT_SKU: {0}; give the product id of the contract-priced product from AWS Marketplace (for example prod-abc123)")]
    ProductSku(&'static str),
    /// Both `ENTITLED_PRODUCT_CODE` and `ENTITLED_PRODUCT_SKU` are set.
    #[error("ENTITLED_PRODUCT_CODE and ENTITLED_PRODUCT_SKU are both set: a product is priced one way; compile in the product code for hourly pricing (RegisterUsage) or the product SKU for contract pricing (License Manager), not both")]
    BothProducts,
    /// `ENTITLED_PUBLIC_KEY_FILE` is set for a contract (product SKU) build.
    #[error("ENTITLED_PUBLIC_KEY_FILE is RegisterUsage's token key and a contract guard (ENTITLED_PRODUCT_SKU) never uses it; drop it (a seller-issued licence's key is --license-public-key)")]
    KeyWithSku,
    /// `ENTITLED_PUBLIC_KEY_VERSION` is not a valid key version.
    #[error("ENTITLED_PUBLIC_KEY_VERSION: {0}")]
    KeyVersion(#[source] KeyVersionError),
    /// `ENTITLED_PUBLIC_KEY_FILE` does not name a usable public key.
    #[error("ENTITLED_PUBLIC_KEY_FILE={value}{}: {source}", relative_note(.relative_to))]
    KeyFile {
        /// The variable's value, as set.
        value: String,
        /// The workspace root it was resolved from, when it was relative.
        relative_to: Option<PathBuf>,
        /// Why the run time would refuse the file.
        #[source]
        source: KeyError,
    },
}

fn relative_note(root: &Option<PathBuf>) -> String {
    match root {
        Some(root) => format!(
            " (relative paths are resolved from the workspace root {})",
            root.display()
        ),
        None => String::new(),
    }
}

/// `ENTITLED_PRODUCT_CODE` as a [`ProductCode`].
///
/// ```
/// assert!(entitled_verify::build_config::check_product_code("").is_err());
/// ```
pub fn check_product_code(code: &str) -> Result<ProductCode, BuildConfigError> {
    code.parse().map_err(BuildConfigError::ProductCode)
}

/// `ENTITLED_PRODUCT_SKU`, surrounding blanks ignored: 1 to 255 visible ASCII characters,
/// as AWS Marketplace product ids are.
///
/// ```
/// use entitled_verify::build_config::check_product_sku;
/// assert_eq!(check_product_sku(" prod-abc123 ").unwrap(), "prod-abc123");
/// assert!(check_product_sku("prod abc").is_err());
/// assert!(check_product_sku("").is_err());
/// ```
pub fn check_product_sku(text: &str) -> Result<&str, BuildConfigError> {
    let sku = text.trim();
    if sku.is_empty() {
        return Err(BuildConfigError::ProductSku("it is empty"));
    }
    if sku.len() > 255 {
        return Err(BuildConfigError::ProductSku(
            "it is longer than 255 characters",
        ));
    }
    if !sku.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BuildConfigError::ProductSku(
            "it holds a space, a control character or non-ASCII text",
        ));
    }
    Ok(sku)
}

/// The bindings a build may combine: a product is priced one way, and a contract build has
/// no RegisterUsage key.
///
/// ```
/// use entitled_verify::build_config::check_bindings;
/// assert!(check_bindings(true, false, false).is_ok());
/// assert!(check_bindings(false, true, false).is_ok());
/// assert!(check_bindings(true, true, false).is_err());
/// assert!(check_bindings(false, true, true).is_err());
/// ```
pub fn check_bindings(
    product_code: bool,
    product_sku: bool,
    key_file: bool,
) -> Result<(), BuildConfigError> {
    match (product_code, product_sku, key_file) {
        (true, true, _) => Err(BuildConfigError::BothProducts),
        (false, true, true) => Err(BuildConfigError::KeyWithSku),
        _ => Ok(()),
    }
}

/// `ENTITLED_PUBLIC_KEY_VERSION` as a [`KeyVersion`], surrounding blanks ignored.
///
/// ```
/// assert!(entitled_verify::build_config::check_key_version("v1").is_err());
/// ```
pub fn check_key_version(text: &str) -> Result<KeyVersion, BuildConfigError> {
    text.trim().parse().map_err(BuildConfigError::KeyVersion)
}

/// The workspace root: the nearest directory at or above `manifest_dir`
/// whose `Cargo.toml` declares `[workspace]`; `manifest_dir` itself if none
/// does. A relative `ENTITLED_PUBLIC_KEY_FILE` is resolved from here, the
/// same directory whichever directory cargo was run in.
///
/// ```
/// use std::path::Path;
/// let here = Path::new(env!("CARGO_MANIFEST_DIR"));
/// let root = entitled_verify::build_config::workspace_root(here);
/// assert!(here.starts_with(&root));
/// ```
pub fn workspace_root(manifest_dir: &Path) -> PathBuf {
    manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|toml| toml.lines().any(|l| l.trim() == "[workspace]"))
        })
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// `ENTITLED_PUBLIC_KEY_FILE` as an absolute path: as given when absolute,
/// else joined to `workspace_root`.
///
/// ```
/// use std::path::Path;
/// use entitled_verify::build_config::resolve_key_file;
/// assert_eq!(resolve_key_file("keys/k.pem", Path::new("/ws")), Path::new("/ws/keys/k.pem"));
/// assert_eq!(resolve_key_file("/k.pem", Path::new("/ws")), Path::new("/k.pem"));
/// ```
pub fn resolve_key_file(value: &str, workspace_root: &Path) -> PathBuf {
    let path = Path::new(value);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        workspace_root.join(path)
    }
}

/// Reads and parses the key file exactly as [`PublicKey::from_pem_file`]
/// does for any PEM key, so a private key, a certificate, a truncated copy
/// or a weak key fails the build with the run time's own words. Returns
/// the absolute path read and the PEM.
///
/// ```
/// use std::path::Path;
/// use entitled_verify::build_config::load_public_key;
/// let err = load_public_key("keys/missing.pem", Path::new("/nowhere")).unwrap_err();
/// assert!(err.to_string().contains("/nowhere/keys/missing.pem"));
/// ```
pub fn load_public_key(
    value: &str,
    workspace_root: &Path,
) -> Result<(PathBuf, Vec<u8>), BuildConfigError> {
    let path = resolve_key_file(value, workspace_root);
    let (_, pem) = PublicKey::from_pem_file(&path).map_err(|source| BuildConfigError::KeyFile {
        value: value.to_string(),
        relative_to: (!Path::new(value).is_absolute()).then(|| workspace_root.to_path_buf()),
        source,
    })?;
    Ok((path, pem))
}
