//! The READMEs' "same CLI over HTTPS" script, run as it stands with bash: it starts the
//! emulator with `--tls`, waits for its line and calls RegisterUsage with the AWS CLI trusting
//! the generated CA. The token it prints verifies with the `product-key.pem` the emulator
//! wrote. The CLI is the one `scripts/test.sh` installs (`ENTITLED_AWS_CLI`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const EMULATOR: &str = env!("CARGO_BIN_EXE_entitled-emulator");
const HEADING: &str = "# The same CLI over HTTPS, trusting the generated CA\n";

/// The bash block that starts with [`HEADING`] in `readme`.
fn script(readme: &str) -> String {
    let text = std::fs::read_to_string(readme).unwrap();
    let start = text
        .find(&format!("```bash\n{HEADING}"))
        .expect("the HTTPS block")
        + 8;
    let len = text[start..].find("```\n").expect("the block's end");
    text[start..start + len].to_owned()
}

fn readmes() -> [String; 2] {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    [
        format!("{crate_dir}/README.md"),
        format!("{crate_dir}/../../README.md"),
    ]
}

/// The AWS CLI that `scripts/test.sh` installs into its venv.
fn aws_cli() -> PathBuf {
    let how = "run the tests with ./scripts/test.sh, which installs awscli 1.46.3 and sets it";
    let path = std::env::var_os("ENTITLED_AWS_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("ENTITLED_AWS_CLI is not set; {how}"));
    assert!(
        path.is_file(),
        "ENTITLED_AWS_CLI={} is not a file; {how}",
        path.display()
    );
    path
}

#[test]
fn both_readmes_print_the_same_script() {
    let [emulator, top] = readmes().map(|r| script(&r));
    assert_eq!(emulator, top);
}

#[test]
fn the_https_script_gets_a_token_that_verifies_with_the_written_key() {
    let dir = tempfile::tempdir().unwrap();
    let aws = aws_cli();
    let path = format!(
        "{}:{}:/usr/local/bin:/usr/bin:/bin",
        Path::new(EMULATOR).parent().unwrap().display(),
        aws.parent().unwrap().display()
    );
    let out = Command::new("bash")
        .args(["-c", &script(&readmes()[0])])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = answer["Signature"].as_str().expect("a Signature");
    let key = std::fs::read_to_string(dir.path().join("product-key.pem")).unwrap();
    let decoded = decode(token, &key);
    assert!(
        decoded.ps256_valid,
        "the token verifies with product-key.pem"
    );
    assert_eq!(decoded.claims["productCode"], "my-product");
    assert_eq!(decoded.claims["nonce"], "abc123");
    assert!(
        dir.path().join("ca.pem").is_file(),
        "the CA the CLI trusted"
    );
}
