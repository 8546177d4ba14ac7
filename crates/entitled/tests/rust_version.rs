//! The workspace's declared `rust-version` is the real minimum: no crate in
//! the lockfile needs a newer compiler than the one the README promises.

use std::process::Command;

fn version(text: &str) -> Vec<u64> {
    text.split('.')
        .map(|part| {
            part.parse()
                .unwrap_or_else(|_| panic!("rust-version {text}"))
        })
        .collect()
}

#[test]
fn rust_version_is_the_highest_any_locked_package_needs() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let needed = packages
        .iter()
        .filter_map(|p| Some((p["rust_version"].as_str()?, p["name"].as_str()?)))
        .max_by_key(|(v, _)| version(v))
        .unwrap();
    assert_eq!(
        env!("CARGO_PKG_RUST_VERSION"),
        needed.0,
        "{} needs Rust {}; set it as the workspace's rust-version",
        needed.1,
        needed.0
    );
}
