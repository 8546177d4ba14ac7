//! Build-time checks on the values a seller compiles in.
//!
//! This file is shared: `build.rs` includes it to refuse a bad product code,
//! key version or key while building, and the crate includes it so the same
//! checks are unit-tested. The rules themselves are `entitled-verify`'s
//! (`ProductCode`, `KeyVersion`, `PublicKey`), which `build.rs` build-depends
//! on, so the build and the run refuse exactly the same values.

use std::path::{Path, PathBuf};

use entitled_verify::{KeyVersion, ProductCode, PublicKey};

/// `ENTITLED_PRODUCT_CODE` as a [`ProductCode`].
pub fn check_product_code(code: &str) -> Result<ProductCode, String> {
    code.parse()
        .map_err(|e| format!("ENTITLED_PRODUCT_CODE: {e}"))
}

/// `ENTITLED_PUBLIC_KEY_VERSION` as a [`KeyVersion`].
pub fn check_key_version(text: &str) -> Result<KeyVersion, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("ENTITLED_PUBLIC_KEY_VERSION: {e}"))
}

/// The workspace root: the nearest directory at or above `manifest_dir`
/// whose `Cargo.toml` declares `[workspace]`; `manifest_dir` itself if none
/// does. A relative `ENTITLED_PUBLIC_KEY_FILE` is resolved from here, the
/// same directory whichever directory cargo was run in.
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
pub fn resolve_key_file(value: &str, workspace_root: &Path) -> PathBuf {
    let path = Path::new(value);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        workspace_root.join(path)
    }
}

/// Reads and parses the key file exactly as `PublicKey::from_pem_file` does
/// for any PEM key, so a private key, a certificate, a truncated copy or a
/// weak key fails the build with the run time's own words. Returns the
/// absolute path read and the PEM.
pub fn load_public_key(value: &str, workspace_root: &Path) -> Result<(PathBuf, Vec<u8>), String> {
    let path = resolve_key_file(value, workspace_root);
    let (_, pem) = PublicKey::from_pem_file(&path).map_err(|e| {
        let resolved = if Path::new(value).is_absolute() {
            String::new()
        } else {
            format!(
                " (relative paths are resolved from the workspace root {})",
                workspace_root.display()
            )
        };
        format!("ENTITLED_PUBLIC_KEY_FILE={value}{resolved}: {e}")
    })?;
    Ok((path, pem))
}
