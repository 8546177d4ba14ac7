//! The Anywhere set-up: an emulator whose role trusts License Manager, a buyer's licence,
//! licence tokens from the admin API, and the variables the buyer's secret provides.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use entitled_emulator::{Config, Emulator, EntitlementSpec, LicenseSpec, Role};

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
        .role(format!("{ROLE}=license-manager").parse::<Role>().unwrap())
        .license(spec);
    let emu = Emulator::spawn(config).unwrap();
    let arn = admin(&emu, "GET", "/_emulator/licenses", "")[0]["license_arn"]
        .as_str()
        .unwrap()
        .to_owned();
    (emu, arn)
}

/// One admin call: the JSON answer (status 2xx asserted).
pub fn admin(emu: &Emulator, method: &str, path: &str, body: &str) -> serde_json::Value {
    let mut stream = TcpStream::connect(emu.local_addr()).unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        emu.local_addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 2"), "{method} {path}: {out}");
    serde_json::from_str(body).unwrap()
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
