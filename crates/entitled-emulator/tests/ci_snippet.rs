//! The "In a seller's CI" snippet, as both READMEs print it, run with bash against the built
//! emulator: it starts the emulator, exports what the software under test needs (which the
//! real SDK client then uses), and gives up with the reason when the emulator exits or stays
//! silent. Needs bash and curl, as the snippet does.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use aws_sdk_marketplacemetering::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_marketplacemetering::error::ProvideErrorMetadata as _;
use aws_sdk_marketplacemetering::Client;
use common::*;

const EMULATOR: &str = env!("CARGO_BIN_EXE_entitled-emulator");
const PRODUCT: &str = "prod-ci-snippet";

/// The bash block under the "In a seller's CI" heading of `readme`.
fn snippet(readme: &str) -> String {
    let text = std::fs::read_to_string(readme).unwrap();
    let section = &text[text.find("In a seller's CI").expect("the CI section")..];
    let start = section.find("```bash\n").expect("a bash block") + "```bash\n".len();
    let len = section[start..].find("```\n").expect("the block's end");
    section[start..start + len].to_owned()
}

fn readmes() -> [String; 2] {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    [
        format!("{crate_dir}/README.md"),
        format!("{crate_dir}/../../README.md"),
    ]
}

#[test]
fn both_readmes_print_the_same_snippet() {
    let [emulator, top] = readmes().map(|r| snippet(&r));
    assert_eq!(emulator, top);
}

/// Runs `script` with bash in `dir`, `bin` first on PATH, as a CI job would.
fn bash(script: &str, dir: &Path, bin: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.args(["-c", script])
        .current_dir(dir)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        )
        .env("PRODUCT_CODE", PRODUCT)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Reads lines of the snippet's stdout up to `ready`, returning them.
fn lines_until_ready(out: &mut BufReader<ChildStdout>) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "no ready line: {lines:?}"
        );
        let line = line.trim_end().to_owned();
        if line == "ready" {
            return lines;
        }
        lines.push(line);
    }
}

fn value<'a>(lines: &'a [String], key: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
}

/// The software under test: the real SDK client, with what the snippet exported.
async fn register(lines: &[String], product: &str) -> Result<String, String> {
    let credentials: serde_json::Value =
        serde_json::from_str(value(lines, "credentials=")).unwrap();
    let field = |k: &str| credentials[k].as_str().unwrap().to_owned();
    let config = aws_sdk_marketplacemetering::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(value(lines, "AWS_REGION=").to_owned()))
        .endpoint_url(value(lines, "AWS_ENDPOINT_URL_MARKETPLACE_METERING="))
        .credentials_provider(Credentials::new(
            field("AccessKeyId"),
            field("SecretAccessKey"),
            Some(field("Token")),
            None,
            "ci-snippet",
        ))
        .http_client(http_client(None))
        .build();
    Client::from_conf(config)
        .register_usage()
        .product_code(product)
        .public_key_version(1)
        .nonce("ci-nonce")
        .send()
        .await
        .map(|o| o.signature().unwrap_or_default().to_owned())
        .map_err(|e| e.into_service_error().code().unwrap_or("").to_owned())
}

fn finish(mut child: Child) -> Output {
    // The snippet's last step waits for this line: the software under test is done.
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snippet_starts_the_emulator_and_exports_what_the_software_needs() {
    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(EMULATOR).parent().unwrap();
    // After the snippet: report what it set up, fetch credentials as the ECS provider
    // would, then wait while the test runs the software under test.
    let script = snippet(&readmes()[0])
        + r#"
for name in AWS_REGION AWS_EC2_METADATA_DISABLED AWS_ENDPOINT_URL_MARKETPLACE_METERING; do
  echo "$name=${!name}"
done
echo "credentials=$(curl -sf -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI")"
echo ready
read -r _
"#;
    let mut child = bash(&script, dir.path(), bin, &[]).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let lines = lines_until_ready(&mut stdout);

    assert_eq!(value(&lines, "AWS_REGION="), "us-east-1");
    assert_eq!(value(&lines, "AWS_EC2_METADATA_DISABLED="), "true");
    assert!(
        lines[0].contains("CustomerNotEntitledException"),
        "the fault was queued: {lines:?}"
    );
    let calls: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(calls, serde_json::json!([]), "the call log, empty so far");

    let err = register(&lines, PRODUCT).await.unwrap_err();
    assert_eq!(err, "CustomerNotEntitledException", "the scripted failure");
    let token = register(&lines, PRODUCT).await.unwrap();
    let key = std::fs::read_to_string(dir.path().join("key.pem")).unwrap();
    let decoded = decode(&token, &key);
    assert!(decoded.ps256_valid, "the token verifies with key.pem");
    assert_eq!(decoded.claims["productCode"], PRODUCT);
    let err = register(&lines, "prod-ci-snipet").await.unwrap_err();
    assert_eq!(
        err, "InvalidProductCodeException",
        "--known-products-only: a mistyped code is not served"
    );

    let out = finish(child);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A stand-in for the emulator in `dir`, running `body`.
fn fake_emulator(dir: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("entitled-emulator");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn the_snippet_gives_up_with_the_emulators_error_when_it_exits() {
    let dir = tempfile::tempdir().unwrap();
    fake_emulator(
        dir.path(),
        "echo 'entitled-emulator: --product: not a product code' >&2; exit 2",
    );
    let out = bash(
        &snippet(&readmes()[0]),
        dir.path(),
        dir.path(),
        &[("EMULATOR_START_TIMEOUT", "600")],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("entitled-emulator exited before it was ready")
            && stderr.contains("not a product code"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no fault or call-log step ran");
}

#[test]
fn the_snippet_gives_up_when_the_emulator_stays_silent() {
    let dir = tempfile::tempdir().unwrap();
    fake_emulator(dir.path(), "exec sleep 600");
    let out = bash(
        &snippet(&readmes()[0]),
        dir.path(),
        dir.path(),
        &[("EMULATOR_START_TIMEOUT", "1")],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("entitled-emulator printed nothing within 1 s"),
        "{stderr}"
    );
}
