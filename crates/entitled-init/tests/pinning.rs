//! Pinned trust for AWS's hosts, as the guard meets it: an emulator serving
//! the real metering host name, resolved to loopback in a private mount
//! namespace with its own `/etc/hosts`, with a certificate from a CA that is
//! not Amazon's but is in the distribution's bundle (also bind-mounted).
//!
//! Needs root (`unshare --mount`, and port 443 on 127.0.0.3): the test
//! command runs as root. The locked guard is the build `scripts/test.sh`
//! names in `ENTITLED_LOCKED_BIN`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use entitled_emulator::Emulator;

/// The metering host of us-east-1, the host a real guard calls.
const AWS_HOST: &str = "metering.marketplace.us-east-1.amazonaws.com";
/// A host outside AWS's domains, served by the same emulator.
const OTHER_HOST: &str = "metering.example.test";
/// Where both names resolve inside the namespace.
const LOOPBACK: &str = "127.0.0.3";
const AKID: &str = "AKIDPINNINGTEST";
const SECRET: &str = "pinning-test-secret";

/// Which build of the guard a case runs.
#[derive(Clone, Copy, Debug)]
enum Build {
    Unlocked,
    Locked,
}

/// One row: the build, the variables on top of the base environment, and
/// what must happen.
struct Case {
    name: &'static str,
    build: Build,
    env: Vec<(&'static str, String)>,
    code: i32,
    /// A fragment stderr must hold.
    says: &'static str,
    /// Whether RegisterUsage reached the emulator.
    called: bool,
}

#[test]
fn aws_hosts_trust_only_the_amazon_roots_unless_a_bundle_is_named() {
    assert_eq!(
        effective_uid(),
        0,
        "this test needs root for unshare --mount and port 443; run it as the test command does"
    );
    let locked = locked_guard();
    let emu = Emulator::spawn(
        config()
            .tls(true)
            .tls_name(AWS_HOST)
            .tls_name(OTHER_HOST)
            .listen(format!("{LOOPBACK}:443").parse().unwrap())
            .static_credentials(AKID, SECRET),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();
    let ns = Namespace::new(dir.path(), &emu.ca_pem().unwrap());
    let ca = ca.display().to_string();
    let other_endpoint = format!("https://{OTHER_HOST}");

    let cases = [
        Case {
            name: "AWS host, the CA only in the distribution's bundle: pinned",
            build: Build::Unlocked,
            env: vec![],
            code: 78,
            says: "TlsCertificateNotTrusted",
            called: false,
        },
        Case {
            name: "another host keeps the distribution's bundle",
            build: Build::Unlocked,
            env: vec![("AWS_ENDPOINT_URL_MARKETPLACE_METERING", other_endpoint.clone())],
            code: 0,
            says: "",
            called: true,
        },
        Case {
            name: "AWS host, the CA named in AWS_CA_BUNDLE",
            build: Build::Unlocked,
            env: vec![("AWS_CA_BUNDLE", ca.clone())],
            code: 0,
            says: "",
            called: true,
        },
        Case {
            name: "locked: the CA variables are ignored",
            build: Build::Locked,
            env: vec![("AWS_CA_BUNDLE", ca.clone()), ("SSL_CERT_FILE", ca.clone())],
            code: 78,
            says: "TlsCertificateNotTrusted",
            called: false,
        },
        Case {
            name: "locked: an endpoint override is refused",
            build: Build::Locked,
            env: vec![
                ("AWS_CA_BUNDLE", ca.clone()),
                ("AWS_ENDPOINT_URL_MARKETPLACE_METERING", other_endpoint.clone()),
            ],
            code: 78,
            says: "AWS_ENDPOINT_URL_MARKETPLACE_METERING set, but this check is locked to AWS's own endpoints",
            called: false,
        },
    ];
    for case in cases {
        emu.clear_calls();
        let binary = match case.build {
            Build::Unlocked => guard_binary(),
            Build::Locked => locked.clone(),
        };
        let mut cmd = ns.guard(&binary);
        cmd.envs(case.env.iter().map(|(k, v)| (k, v)))
            .args(product_flags(PRODUCT))
            // Long enough that a retried failure would end in 75, not 78.
            .args(["--deadline", "60s", "--check"]);
        let out = output_within(&mut cmd, PATIENCE);
        assert_eq!(
            code(out.status),
            case.code,
            "{}: {}",
            case.name,
            describe(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(case.says), "{}: {stderr}", case.name);
        assert_eq!(
            !emu.calls().is_empty(),
            case.called,
            "{}: {:?}",
            case.name,
            emu.calls()
        );
    }
}

/// The locked build says so in `--version`: the test above runs the build
/// it means to.
#[test]
fn the_locked_build_says_it_is_locked() {
    let out = Command::new(locked_guard())
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("locked to AWS endpoints and Amazon roots"),
        "{text}"
    );
    let out = Command::new(guard_binary())
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("locked"));
}

fn effective_uid() -> u32 {
    // `id -u` rather than libc: the test crate has no libc dependency.
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A private mount namespace's files: `/etc/hosts` resolving both names to
/// [`LOOPBACK`], and `/etc/ssl/certs` holding a distribution bundle that is
/// only the emulator's CA.
struct Namespace {
    hosts: PathBuf,
    certs: PathBuf,
}

impl Namespace {
    fn new(dir: &Path, ca_pem: &str) -> Self {
        let hosts = dir.join("hosts");
        std::fs::write(
            &hosts,
            format!("127.0.0.1 localhost\n{LOOPBACK} {AWS_HOST} {OTHER_HOST}\n"),
        )
        .unwrap();
        let certs = dir.join("certs");
        std::fs::create_dir(&certs).unwrap();
        std::fs::write(certs.join("ca-certificates.crt"), ca_pem).unwrap();
        assert!(
            Path::new("/etc/ssl/certs").is_dir(),
            "/etc/ssl/certs must exist to be replaced inside the namespace"
        );
        Self { hosts, certs }
    }

    /// `binary` in the namespace with a hermetic environment: static
    /// credentials the emulator accepts, the Region, no IMDS, no profile.
    fn guard(&self, binary: &Path) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(
                r#"mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/ssl/certs && shift 2 && exec "$@""#,
            )
            .arg("sh")
            .arg(&self.hosts)
            .arg(&self.certs)
            .arg(binary)
            .env_clear()
            .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
            .env("AWS_ACCESS_KEY_ID", AKID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .stdin(std::process::Stdio::null());
        cmd
    }
}
