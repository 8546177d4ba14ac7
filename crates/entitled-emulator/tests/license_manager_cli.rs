//! The crate README's License Manager script, run as it stands with bash and the AWS CLI
//! 1.46.3 that `scripts/test.sh` installs (`ENTITLED_AWS_CLI`): the emulator seeded by
//! `--license`, a licence token from the admin API, `aws license-manager get-access-token`,
//! `aws sts assume-role-with-web-identity` and `aws license-manager checkout-license` with
//! the credentials STS returned.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const EMULATOR: &str = env!("CARGO_BIN_EXE_entitled-emulator");
const HEADING: &str = "# License Manager and the Anywhere flow with the AWS CLI\n";

/// The bash block that starts with [`HEADING`] in the crate README.
fn script() -> String {
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let text = std::fs::read_to_string(readme).unwrap();
    let start = text
        .find(&format!("```bash\n{HEADING}"))
        .expect("the License Manager block")
        + 8;
    let len = text[start..].find("```\n").expect("the block's end");
    text[start..start + len].to_owned()
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

fn run(script: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let aws = aws_cli();
    let path = format!(
        "{}:{}:/usr/local/bin:/usr/bin:/bin",
        Path::new(EMULATOR).parent().unwrap().display(),
        aws.parent().unwrap().display()
    );
    Command::new("bash")
        .args(["-c", script])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

#[test]
fn the_readme_script_checks_out_with_anywhere_credentials() {
    let out = run(&script());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let allowed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        allowed,
        serde_json::json!([{"Name": "Premium", "Unit": "None"},
                           {"Name": "Users", "Unit": "Count", "Value": "1"}])
    );
}

#[test]
fn the_cli_shows_license_manager_errors_by_code() {
    // The README's set-up, then a checkout of more seats than the licence has.
    let script = script();
    let setup = &script[..script.find("aws license-manager checkout-license").unwrap()];
    let out = run(&format!(
        "{setup}aws license-manager checkout-license --endpoint-url \"$E\" --product-sku prod-sku \\
    --checkout-type PROVISIONAL --key-fingerprint \"$FP\" --client-token run-2 \\
    --entitlements Name=Users,Unit=Count,Value=3\n"
    ));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("An error occurred (NoEntitlementsAllowedException) when calling the CheckoutLicense operation"),
        "{stderr}"
    );
}
