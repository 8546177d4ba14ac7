//! The fixtures of the guard's integration tests, defined once: the key
//! files, the products, faults, an emulator, the guard as a subprocess with
//! a hermetic environment, and waiting with a limit.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use entitled_emulator::{Config, Emulator, Fault, Product};

pub mod anywhere;
// Running a binary with a deadline and the log shape: shared by every crate's tests (each
// test file uses some of them).
#[allow(unused_imports)]
pub use entitled_test_support::log::after_time;
#[allow(unused_imports)]
pub use entitled_test_support::process::{code, describe, output_within, wait_output, wait_until};

/// The product every test checks, served with the v1 fixture key.
pub const PRODUCT: &str = "prod-entitled-test";
/// A product the customer is not entitled to.
pub const DENIED: &str = "prod-denied-test";

/// How much longer than its promise the guard may take before a test fails:
/// the headroom a loaded 2-core machine needs to start, schedule and reap
/// processes. Tight figures belong in the benchmarks, not in assertions.
pub const MARGIN: Duration = Duration::from_secs(5);

/// The guard's promise: it stops within a second of SIGTERM, SIGINT or SIGHUP.
pub const STOP_PROMISE: Duration = Duration::from_secs(1);

/// How long a test waits for a process that should end promptly before it
/// kills it and fails: long enough never to fire on a healthy run.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fixture file under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    workspace().join("tests/fixtures").join(name)
}

/// The key pair's files under `tests/fixtures`: version 1 of [`PRODUCT`]'s key.
const PUBLIC_KEY_FILE: &str = "TEST-ONLY-product-key-v1-rsa3072.public.pem";
const PRIVATE_KEY_FILE: &str = "TEST-ONLY-product-key-v1-rsa3072.private.pem";

/// The public key the guard trusts.
pub fn public_key() -> PathBuf {
    fixture(PUBLIC_KEY_FILE)
}

/// The private key the emulator signs with, as PEM text.
pub fn private_key() -> String {
    std::fs::read_to_string(fixture(PRIVATE_KEY_FILE)).unwrap()
}

/// The emulator answers with the AWS error `code` (and no message).
pub fn error(code: &str) -> Fault {
    Fault::Error {
        code: code.into(),
        message: None,
    }
}

/// An emulator config serving [`PRODUCT`] and [`DENIED`] with the fixture key.
pub fn config() -> Config {
    Config::new()
        .region("us-east-1")
        .product(Product::new(PRODUCT).key_pem(1, &private_key()).unwrap())
        .product(Product::new(DENIED).key_pem(1, &private_key()).unwrap())
        .deny(DENIED)
}

/// Starts an emulator with [`config`].
pub fn emulator() -> Emulator {
    Emulator::spawn(config()).unwrap()
}

/// The guard binary under test.
pub fn guard_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_entitled"))
}

/// The guard with a hermetic environment pointing at `emu`: ECS container
/// credentials over loopback, a fixed Region, no IMDS, no profile files.
pub fn guard(emu: &Emulator) -> Command {
    guard_at(&guard_binary(), emu)
}

/// As [`guard`], for another build of the binary.
pub fn guard_at(binary: &Path, emu: &Emulator) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .envs(aws_env(emu))
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null());
    cmd
}

/// AWS's standard variables for a run against `emu`.
pub fn aws_env(emu: &Emulator) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL_MARKETPLACE_METERING", emu.endpoint_url()),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", emu.credentials_url()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/nonexistent/aws-config".into()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials".into(),
        ),
    ]
}

/// The usual flags for [`PRODUCT`].
pub fn product_flags(product: &str) -> Vec<String> {
    vec![
        "--product-code".into(),
        product.into(),
        "--public-key".into(),
        public_key().display().to_string(),
    ]
}

/// The variable through which `scripts/test.sh` names the static guard it
/// built. A test does not run cargo itself: the test command says, in one
/// place, how the binary under test is built.
pub const STATIC_BIN: &str = "ENTITLED_STATIC_BIN";

/// The static release guard built by `scripts/test.sh`.
pub fn musl_guard() -> PathBuf {
    let how = "run the tests with ./scripts/test.sh, which builds the static guard and sets it";
    let path = std::env::var_os(STATIC_BIN)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{STATIC_BIN} is not set; {how}"));
    assert!(
        path.is_file(),
        "{STATIC_BIN}={} is not a file; {how}",
        path.display()
    );
    path
}

/// The variable through which `scripts/test.sh` names the guard it built
/// with `ENTITLED_LOCKED=1`.
pub const LOCKED_BIN: &str = "ENTITLED_LOCKED_BIN";

/// The locked guard built by `scripts/test.sh`.
pub fn locked_guard() -> PathBuf {
    let how = "run the tests with ./scripts/test.sh, or build it as that script does: ENTITLED_LOCKED=1 cargo build --workspace --bin entitled --test pinning && cp target/debug/entitled target/locked-guard/entitled, then set ENTITLED_LOCKED_BIN=$PWD/target/locked-guard/entitled";
    let path = std::env::var_os(LOCKED_BIN)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{LOCKED_BIN} is not set; {how}"));
    assert!(
        path.is_file(),
        "{LOCKED_BIN}={} is not a file; {how}",
        path.display()
    );
    path
}

/// Compiles `source` into a static musl program named `name` in `dir`.
pub fn build_static_program(dir: &Path, name: &str, source: &str) -> PathBuf {
    let source_path = dir.join(format!("{name}.rs"));
    std::fs::write(&source_path, source).unwrap();
    let binary = dir.join(name);
    let status = Command::new("rustc")
        .args([
            "--edition",
            "2021",
            "--target",
            "x86_64-unknown-linux-musl",
            "-C",
            "opt-level=1",
            "-o",
        ])
        .arg(&binary)
        .arg(&source_path)
        .status()
        .expect("run rustc");
    assert!(
        status.success(),
        "building the static program {name} failed"
    );
    binary
}

/// One call to the emulator's admin API over raw HTTP/1.1: its JSON answer (a 2xx asserted).
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

/// License Manager consumptions still held, over every licence, from the admin API.
pub fn held(emu: &Emulator) -> usize {
    admin(emu, "GET", "/_emulator/licenses", "")
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["consumptions"].as_array().unwrap().len())
        .sum()
}
