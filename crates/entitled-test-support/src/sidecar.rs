//! Driving the `entitled-meter` binary against the emulator: a hermetic environment, the
//! first stdout line, requests over TCP or a Unix socket, and SIGTERM. For the sidecar's
//! tests and its benchmark.

use std::io::{BufRead as _, BufReader, Read, Write};

use crate::http::{exchange, CLIENT_TIMEOUT};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use entitled_emulator::{Config, Emulator, Product};

pub const PRODUCT: &str = "prod-sidecar";

/// The variable through which `scripts/test.sh` names the static sidecar it built. A test
/// does not run cargo itself, and never falls back to another build: the binary under test
/// is the one that ships.
pub const STATIC_BIN: &str = "ENTITLED_METER_STATIC_BIN";

/// The static release sidecar built by `scripts/test.sh`.
pub fn binary() -> PathBuf {
    let how = "run the tests with ./scripts/test.sh, which builds the static sidecar and sets it \
               (or: cargo build --release --target x86_64-unknown-linux-musl -p entitled-meter, \
               then ENTITLED_METER_STATIC_BIN=target/x86_64-unknown-linux-musl/release/entitled-meter)";
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

/// The emulator, with the fixture key so no RSA key is generated.
pub fn emulator(config: Config) -> Emulator {
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem"
    ))
    .unwrap();
    let product = |code: &str| Product::new(code).key_pem(1, &pem).unwrap();
    Emulator::spawn(
        config
            .product(product(PRODUCT).dimensions(["users", "gb_scanned"]))
            .product(product("denied-product"))
            .deny("denied-product"),
    )
    .unwrap()
}

/// A running sidecar.
pub struct Sidecar {
    pub child: Child,
    /// `http://ADDR` or `unix:PATH`.
    pub address: String,
}

/// Starts the sidecar with `args` after the defaults, in a hermetic environment pointed at
/// the emulator, and waits for its `listening on` line.
pub fn start(emulator: &Emulator, journal: &Path, product: &str, extra: &[&str]) -> Sidecar {
    start_with(
        emulator,
        journal,
        product,
        extra,
        &[
            (
                "AWS_ACCESS_KEY_ID",
                entitled_emulator::DEFAULT_ACCESS_KEY_ID.into(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                entitled_emulator::DEFAULT_SECRET_ACCESS_KEY.into(),
            ),
        ],
    )
}

/// As [`start`], with `credentials` (environment variables) instead of the emulator's
/// static keys.
pub fn start_with(
    emulator: &Emulator,
    journal: &Path,
    product: &str,
    extra: &[&str],
    credentials: &[(&str, String)],
) -> Sidecar {
    let mut child = command(emulator, journal, product, extra, credentials)
        .spawn()
        .expect("spawn entitled-meter");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line {line:?}"))
        .to_owned();
    Sidecar { child, address }
}

impl Sidecar {
    /// One request; returns status and body.
    pub fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        self.request_with(method, path, &[], body)
    }

    /// One request with extra headers; JSON bodies.
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        let answer = if let Some(addr) = self.address.strip_prefix("http://") {
            let stream = std::net::TcpStream::connect(addr).expect("connect");
            stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
            stream.set_write_timeout(Some(CLIENT_TIMEOUT)).unwrap();
            exchange(stream, "meter", method, path, &all, body)
        } else {
            let path_on_disk = self.address.strip_prefix("unix:").unwrap();
            let stream =
                std::os::unix::net::UnixStream::connect(path_on_disk).expect("connect unix");
            stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
            stream.set_write_timeout(Some(CLIENT_TIMEOUT)).unwrap();
            exchange(stream, "meter", method, path, &all, body)
        };
        (answer.status, answer.body)
    }

    pub fn post(&self, body: &str) -> (u16, String) {
        self.request("POST", "/v1/usage", body)
    }

    /// `POST /v1/usage` declaring a body of `length` bytes and sending none. The sidecar
    /// refuses an oversized body from its `Content-Length` alone; sending the body would race
    /// its early close (a write into a closed socket, and a reset that can swallow the 413).
    pub fn post_declaring(&self, length: usize) -> (u16, String) {
        let addr = self.address.strip_prefix("http://").expect("a TCP sidecar");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        let head = format!(
            "POST /v1/usage HTTP/1.1\r\nHost: meter\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    /// `POST /v1/usage` with an `Idempotency-Key`.
    pub fn post_once(&self, key: &str, body: &str) -> (u16, String) {
        self.request_with("POST", "/v1/usage", &[("Idempotency-Key", key)], body)
    }

    /// SIGTERM, then the exit code and stderr.
    pub fn terminate(self) -> (i32, String) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.wait()
    }

    /// Waits for exit; returns the exit code (-1 for a signal) and stderr.
    pub fn wait(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        let _ = self
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr);
        (status.code().unwrap_or(-1), stderr)
    }
}

/// A test that fails part-way must not leave its sidecar running after the test binary.
impl Drop for Sidecar {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The sidecar's command line as [`start_with`] runs it, pointed at the emulator in a
/// hermetic environment, stdout and stderr piped; for a test that expects it not to start.
pub fn command(
    emulator: &Emulator,
    journal: &Path,
    product: &str,
    extra: &[&str],
    credentials: &[(&str, String)],
) -> Command {
    let mut command = Command::new(binary());
    command
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .envs(credentials.iter().map(|(k, v)| (k, v)))
        .env(
            "AWS_ENDPOINT_URL_MARKETPLACE_METERING",
            emulator.endpoint_url(),
        )
        .args([
            "--product-code",
            product,
            "--dimension",
            "users",
            "--dimension",
            "gb_scanned",
        ])
        .arg("--journal")
        .arg(journal)
        .args(extra)
        // A free port unless the test chose: tests run in parallel, and the default is fixed.
        .args(if extra.iter().any(|a| a.starts_with("--listen")) {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Total reported quantity per (dimension, tags as JSON) at the emulator.
pub fn totals(emulator: &Emulator) -> Vec<(String, String, f64)> {
    let mut rows: Vec<_> = emulator
        .usage()
        .into_iter()
        .map(|t| {
            (
                t.dimension,
                serde_json::to_string(&t.tags).unwrap(),
                t.quantity,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

pub const NO_TIMEOUT: Duration = Duration::from_secs(60);
