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

/// The AWS CLI's answer as JSON, or the error code it printed (`An error occurred (CODE)`).
fn aws(emulator: &entitled_emulator::Emulator, args: &[&str]) -> Result<serde_json::Value, String> {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(aws_cli())
        .args(args)
        .args([
            "--endpoint-url",
            &emulator.endpoint_url(),
            "--output",
            "json",
        ])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env(
            "AWS_ACCESS_KEY_ID",
            entitled_emulator::DEFAULT_ACCESS_KEY_ID,
        )
        .env(
            "AWS_SECRET_ACCESS_KEY",
            entitled_emulator::DEFAULT_SECRET_ACCESS_KEY,
        )
        .output()
        .unwrap();
    if out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        return Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null));
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Err(stderr
        .split("An error occurred (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .map(str::to_owned)
        .unwrap_or(stderr))
}

/// `checkout-license` of `entitlements` (`Name=..,Unit=..[,Value=..]` each) with `token`.
fn checkout<'a>(kind: &'a str, token: &'a str, entitlements: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "license-manager",
        "checkout-license",
        "--product-sku",
        "cli-sku",
        "--checkout-type",
        kind,
        "--key-fingerprint",
        entitled_emulator::MARKETPLACE_FINGERPRINT,
        "--client-token",
        token,
        "--entitlements",
    ];
    args.extend_from_slice(entitlements);
    args
}

/// Every rule of the issue through the AWS CLI, one call after another against one emulator:
/// the answer's allowed entitlements (`NAME` or `NAME=VALUE`), or the error code.
#[test]
fn every_checkout_rule_through_the_aws_cli() {
    use entitled_emulator::{Config, Emulator, EntitlementSpec, Fault, LicenseSpec, Operation};
    let emulator = Emulator::spawn(Config::new()).unwrap();
    let arn = emulator
        .add_license(LicenseSpec::new(
            "cli-sku",
            vec![
                EntitlementSpec::tier("Premium"),
                EntitlementSpec::count("Users", 2),
            ],
        ))
        .unwrap();
    let allowed = |answer: Result<serde_json::Value, String>| -> Result<Vec<String>, String> {
        let answer = answer?;
        Ok(answer["EntitlementsAllowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| match e["Value"].as_str() {
                Some(v) => format!("{}={v}", e["Name"].as_str().unwrap()),
                None => e["Name"].as_str().unwrap().to_owned(),
            })
            .collect())
    };
    let tiers = ["Name=Basic,Unit=None", "Name=Premium,Unit=None"];
    let one = ["Name=Users,Unit=Count,Value=1"];
    let no = Err("NoEntitlementsAllowedException".to_owned());
    let ok = |v: &[&str]| Ok(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());

    // Tiers: only the one bought.
    assert_eq!(
        allowed(aws(&emulator, &checkout("PROVISIONAL", "t", &tiers))),
        ok(&["Premium"])
    );
    // Provisional units, until both seats are held.
    let first = aws(&emulator, &checkout("PROVISIONAL", "u-1", &one)).unwrap();
    let first_token = first["LicenseConsumptionToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(allowed(Ok(first.clone())), ok(&["Users=1"]));
    let second = aws(&emulator, &checkout("PROVISIONAL", "u-2", &one)).unwrap();
    assert_eq!(
        allowed(aws(&emulator, &checkout("PROVISIONAL", "u-3", &one))),
        no
    );
    // A retry with the same ClientToken is the same checkout; other parameters conflict.
    let retry = aws(&emulator, &checkout("PROVISIONAL", "u-1", &one)).unwrap();
    assert_eq!(
        retry["LicenseConsumptionToken"],
        first["LicenseConsumptionToken"]
    );
    assert_eq!(
        allowed(aws(&emulator, &checkout("PERPETUAL", "u-1", &one))),
        Err("ConflictException".to_owned())
    );
    // Check-in frees a seat; a second check-in finds nothing.
    let check_in = |token: &str| {
        aws(
            &emulator,
            &[
                "license-manager",
                "check-in-license",
                "--license-consumption-token",
                token,
            ],
        )
    };
    check_in(&first_token).unwrap();
    assert_eq!(
        check_in(&first_token).unwrap_err(),
        "ResourceNotFoundException"
    );
    // Extend, then expiry by the licence clock.
    let second_token = second["LicenseConsumptionToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let extend = |token: &str| {
        aws(
            &emulator,
            &[
                "license-manager",
                "extend-license-consumption",
                "--license-consumption-token",
                token,
            ],
        )
    };
    let extended = extend(&second_token).unwrap();
    assert_ne!(extended["Expiration"], second["Expiration"]);
    emulator.advance_license_clock(121 * 60);
    assert_eq!(
        extend(&second_token).unwrap_err(),
        "ResourceNotFoundException"
    );
    // Perpetual units are drawn for good: two seats, then none, whatever the clock.
    let two = ["Name=Users,Unit=Count,Value=2"];
    assert_eq!(
        allowed(aws(&emulator, &checkout("PERPETUAL", "p-1", &two))),
        ok(&["Users=2"])
    );
    emulator.advance_license_clock(2 * 3600);
    assert_eq!(
        allowed(aws(&emulator, &checkout("PROVISIONAL", "p-2", &one))),
        no
    );
    // A counted entitlement asked as a tier.
    assert_eq!(
        allowed(aws(
            &emulator,
            &checkout("PROVISIONAL", "n", &["Name=Users,Unit=None"])
        )),
        no
    );
    // Wrong fingerprint.
    let mut wrong = checkout("PROVISIONAL", "f", &tiers);
    wrong[7] = "aws:111111111111:Someone/Else:issuer-fingerprint";
    assert_eq!(allowed(aws(&emulator, &wrong)), no);
    // A validation error the CLI does not catch itself.
    assert_eq!(
        allowed(aws(&emulator, &checkout("FLOATING", "v", &tiers))),
        Err("ValidationException".to_owned())
    );
    // Faults on CheckoutLicense, as the CLI sees them.
    emulator.push_fault_for(
        "cli-sku",
        Operation::CheckoutLicense,
        Fault::error("RateLimitExceededException"),
        1,
    );
    assert_eq!(
        allowed(aws(&emulator, &checkout("PROVISIONAL", "r", &tiers))),
        Err("RateLimitExceededException".to_owned())
    );
    emulator.push_fault_for(
        "*",
        Operation::CheckoutLicense,
        Fault::error("ResourceNotFoundException"),
        1,
    );
    assert_eq!(
        allowed(aws(&emulator, &checkout("PROVISIONAL", "m", &tiers))),
        Err("ResourceNotFoundException".to_owned())
    );
    // A suspended licence allows nothing.
    let suspend = format!(
        "/_emulator/licenses/{}",
        arn.replace(':', "%3A").replace('/', "%2F")
    );
    let (status, _, _) = common::raw_http(
        emulator.local_addr(),
        "PATCH",
        &suspend,
        &[],
        r#"{"status":"SUSPENDED"}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(
        allowed(aws(&emulator, &checkout("PROVISIONAL", "s", &tiers))),
        no
    );
    let got = aws(
        &emulator,
        &["license-manager", "get-license", "--license-arn", &arn],
    )
    .unwrap();
    assert_eq!(got["License"]["Status"], "SUSPENDED");
}
