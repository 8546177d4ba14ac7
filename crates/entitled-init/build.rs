//! Compiles in the product code and public key, when a seller asks for it.
//!
//! Set at build time (never read at run time):
//! - `ENTITLED_PRODUCT_CODE`: the product code from AWS Marketplace;
//! - `ENTITLED_PRODUCT_SKU`: for a contract-priced product, its product id (License
//!   Manager's `ProductSKU`) instead: the binary runs `--contract` only;
//! - `ENTITLED_PUBLIC_KEY_FILE`: the product's PEM public key file, absolute
//!   or relative to the workspace root (the directory of the `Cargo.toml`
//!   that declares `[workspace]`), whichever directory cargo runs in;
//! - `ENTITLED_PUBLIC_KEY_VERSION`: its key version (default 1; needs the key file);
//! - `ENTITLED_LOCKED=1`: only AWS's own endpoints and the Amazon Trust
//!   Services roots. `AWS_ENDPOINT_URL*` is refused at run time (exit 78) and
//!   `AWS_CA_BUNDLE`, `SSL_CERT_FILE` and `SSL_CERT_DIR` are ignored, so a
//!   buyer who controls the task's environment cannot name a fake endpoint
//!   or a CA that vouches for one. For product images; tests against the
//!   emulator need an unlocked build.
//!
//! A binary built this way is bound to one product: the matching flags are
//! refused at run time, so a task's command line cannot swap them.

use std::path::Path;

use entitled_verify::build_config;

fn main() {
    for var in [
        "ENTITLED_PRODUCT_CODE",
        "ENTITLED_PRODUCT_SKU",
        "ENTITLED_PUBLIC_KEY_FILE",
        "ENTITLED_PUBLIC_KEY_VERSION",
        "ENTITLED_LOCKED",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if let Err(message) = generate() {
        // A panic in a build script fails the build and shows this text.
        panic!("entitled build configuration: {message}");
    }
}

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn generate() -> Result<(), String> {
    let out_dir = std::env::var("OUT_DIR").map_err(|_| "OUT_DIR is not set".to_string())?;
    let out_dir = Path::new(&out_dir);

    build_config::check_bindings(
        setting("ENTITLED_PRODUCT_CODE").is_some(),
        setting("ENTITLED_PRODUCT_SKU").is_some(),
        setting("ENTITLED_PUBLIC_KEY_FILE").is_some(),
    )
    .map_err(|e| e.to_string())?;
    let product_sku = match setting("ENTITLED_PRODUCT_SKU") {
        Some(sku) => format!(
            "Some({:?})",
            build_config::check_product_sku(&sku).map_err(|e| e.to_string())?
        ),
        None => "None".to_string(),
    };

    let product_code = match setting("ENTITLED_PRODUCT_CODE") {
        Some(code) => format!(
            "Some({:?})",
            build_config::check_product_code(&code)
                .map_err(|e| e.to_string())?
                .as_str()
        ),
        None => "None".to_string(),
    };

    let key = match (setting("ENTITLED_PUBLIC_KEY_FILE"), setting("ENTITLED_PUBLIC_KEY_VERSION")) {
        (Some(file), version) => {
            let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
                .map_err(|_| "CARGO_MANIFEST_DIR is not set".to_string())?;
            let root = build_config::workspace_root(Path::new(&manifest_dir));
            let (path, pem) = build_config::load_public_key(&file, &root).map_err(|e| e.to_string())?;
            println!("cargo:rerun-if-changed={}", path.display());
            let version = match version {
                Some(text) => build_config::check_key_version(&text).map_err(|e| e.to_string())?.get(),
                None => entitled_verify::KeyVersion::FIRST.get(),
            };
            let copy = out_dir.join("public-key.pem");
            std::fs::write(&copy, &pem).map_err(|e| format!("writing {}: {e}", copy.display()))?;
            format!("Some(({version}, include_bytes!({:?})))", copy.display().to_string())
        }
        (None, Some(_)) => {
            return Err("ENTITLED_PUBLIC_KEY_VERSION is set without ENTITLED_PUBLIC_KEY_FILE; compile in the key with its version".into())
        }
        (None, None) => "None".to_string(),
    };

    let locked = match setting("ENTITLED_LOCKED").as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            return Err(format!(
                "ENTITLED_LOCKED is {other:?}; set it to 1 to lock the guard to AWS's endpoints and the Amazon roots, or 0 (or unset) not to"
            ))
        }
    };

    let source = format!(
        "/// The product code compiled in with `ENTITLED_PRODUCT_CODE`, if any.\n\
         pub const PRODUCT_CODE: Option<&str> = {product_code};\n\
         /// The product SKU compiled in with `ENTITLED_PRODUCT_SKU`, if any.\n\
         pub const PRODUCT_SKU: Option<&str> = {product_sku};\n\
         /// The key version and PEM public key compiled in with `ENTITLED_PUBLIC_KEY_FILE`, if any.\n\
         pub const PUBLIC_KEY: Option<(u32, &[u8])> = {key};\n\
         /// Built with `ENTITLED_LOCKED=1`: AWS's own endpoints and the Amazon roots only.\n\
         pub const LOCKED: bool = {locked};\n"
    );
    let path = out_dir.join("compiled.rs");
    std::fs::write(&path, source).map_err(|e| format!("writing {}: {e}", path.display()))
}
