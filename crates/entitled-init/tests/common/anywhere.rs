//! The Anywhere set-up: an emulator whose role trusts License Manager, a buyer's licence,
//! licence tokens from the admin API, and the variables the buyer's secret provides.

use std::path::Path;
use std::process::Command;

use entitled_emulator::{Config, Emulator, EntitlementSpec, LicenseSpec, Role};

use super::admin;

pub const SKU: &str = "prod-anywhere-guard";
pub const BUYER: &str = "555555555555";
pub const ROLE: &str = "arn:aws:iam::555555555555:role/license-consumer";

/// An emulator whose role trusts License Manager, with the buyer's licence; its ARN.
pub fn anywhere_emulator() -> (Emulator, String) {
    let mut spec = LicenseSpec::new(
        SKU,
        vec![
            EntitlementSpec::tier("Premium"),
            EntitlementSpec::count("Nodes", 2),
        ],
    );
    spec.beneficiary = Some(BUYER.into());
    let config = Config::new()
        .region("us-east-1")
        .role(format!("{ROLE}=license-manager").parse::<Role>().unwrap());
    let emu = Emulator::spawn(config).unwrap();
    let arn = emu.add_license(spec).unwrap();
    (emu, arn)
}

/// A licence token for `arn`, as the buyer creates it.
pub fn licence_token(emu: &Emulator, arn: &str, expired: bool) -> String {
    let body = serde_json::json!({"license_arn": arn, "role_arn": ROLE, "expired": expired});
    admin(emu, "POST", "/_emulator/license-tokens", &body.to_string())["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Only the Anywhere variables on `cmd`: no task role, no Region, License Manager and STS on
/// the emulator, the token file and the role. Then `--contract` for [`SKU`]'s Premium tier.
pub fn anywhere_env<'a>(
    cmd: &'a mut Command,
    emu: &Emulator,
    token_file: &Path,
) -> &'a mut Command {
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_ENDPOINT_URL_LICENSE_MANAGER", emu.endpoint_url())
        .env("AWS_ENDPOINT_URL_STS", emu.endpoint_url())
        .env("AWS_WEB_IDENTITY_REFRESH_TOKEN_FILE", token_file)
        .env("AWS_ROLE_ARN", ROLE)
        .args([
            "--contract",
            "--product-sku",
            SKU,
            "--entitlement",
            "Premium",
        ])
        .stdin(std::process::Stdio::null())
}
