//! The image's behaviour without Docker: a root directory holding only the
//! static musl `entitled`, the key and a static program, entered with
//! chroot. No libc, no /etc, no /proc, no CA bundle.
//!
//! Needs root (for chroot), the musl target, and the static guard that
//! `scripts/test.sh` builds and names in `ENTITLED_STATIC_BIN`; it fails,
//! never skips, without them.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// The contract's size limit.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// A static program that reports what it sees.
const PROGRAM: &str = r#"
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("pid={}", std::process::id());
    println!("args={args:?}");
    println!("token={}", std::env::var("ENTITLED_TOKEN").map(|t| t.split('.').count() == 3).unwrap_or(false));
    println!("nonce={}", std::env::var("ENTITLED_NONCE").unwrap_or_default());
    println!("etc={}", std::path::Path::new("/etc").exists());
    println!("proc={}", std::path::Path::new("/proc/self").exists());
}
"#;

fn build_program(dir: &Path) -> PathBuf {
    build_static_program(dir, "program", PROGRAM)
}

/// True when the ELF file asks for no program interpreter (no dynamic loader).
fn is_static_elf(bytes: &[u8]) -> bool {
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(bytes[4], 2, "64-bit ELF");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    const PT_INTERP: u32 = 3;
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) != PT_INTERP
    })
}

/// Makes `cmd` run with `root` as its root directory and working directory.
fn in_root(cmd: &mut Command, root: &Path) {
    let root_c = std::ffi::CString::new(root.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: chroot and chdir are async-signal-safe; the path is converted
    // before fork.
    unsafe {
        cmd.pre_exec(move || {
            if libc::chroot(root_c.as_ptr()) != 0 || libc::chdir(c"/".as_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn copy_executable(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    std::fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[test]
fn the_static_guard_runs_in_an_empty_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root, for chroot"
    );

    let guard_path = musl_guard();
    let guard_bytes = std::fs::read(&guard_path).unwrap();
    assert!(
        is_static_elf(&guard_bytes),
        "{} must be statically linked",
        guard_path.display()
    );
    assert!(
        guard_bytes.len() as u64 <= MAX_BYTES,
        "{} is {} bytes; the limit is 4 MiB",
        guard_path.display(),
        guard_bytes.len()
    );

    let work = tempfile::tempdir().unwrap();
    let program = build_program(work.path());
    assert!(is_static_elf(&std::fs::read(&program).unwrap()));

    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    copy_executable(&guard_path, &root.join("entitled"));
    copy_executable(&program, &root.join("app"));
    std::fs::copy(public_key(), root.join("key.pem")).unwrap();
    let mut listing: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listing.sort();
    assert_eq!(
        listing,
        ["app", "entitled", "key.pem"],
        "nothing else in the root"
    );

    let emu = emulator();
    let run = |product: &str| {
        let root = root.clone();
        let mut cmd = Command::new("/entitled");
        cmd.env_clear()
            .envs(aws_env(&emu))
            .args([
                "--product-code",
                product,
                "--public-key",
                "/key.pem",
                "--",
                "/app",
                "a b",
                "",
                "-x",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        in_root(&mut cmd, &root);
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        (pid, wait_output(child, PATIENCE))
    };

    let (pid, out) = run(PRODUCT);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let nonce = emu.calls()[0].nonce.clone().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!(
        "pid={pid}\nargs=[\"a b\", \"\", \"-x\"]\ntoken=true\nnonce={nonce}\netc=false\nproc=false\n"
    );
    assert_eq!(stdout, expected, "{}", describe(&out));

    let (_, out) = run(DENIED);
    assert_eq!(code(out.status), 77, "{}", describe(&out));
    assert!(out.stdout.is_empty());
}

/// Contract pricing outside AWS in the same empty root: the licence token file is the only
/// credential, exchanged through License Manager and STS on the emulator, and the program
/// gets the licence.
#[test]
fn the_anywhere_chain_runs_in_an_empty_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root, for chroot"
    );
    let work = tempfile::tempdir().unwrap();
    let program = build_static_program(
        work.path(),
        "licensed",
        r#"fn main() { println!("{}|{}", std::env::var("ENTITLED_LICENSE_ARN").unwrap_or_default(), std::env::var("ENTITLED_ENTITLEMENTS").unwrap_or_default()); }"#,
    );
    let root = work.path().join("root");
    std::fs::create_dir_all(root.join("var/run/secrets/product-license")).unwrap();
    copy_executable(&musl_guard(), &root.join("entitled"));
    copy_executable(&program, &root.join("app"));
    let (emu, arn) = common::anywhere::anywhere_emulator();
    std::fs::write(
        root.join("var/run/secrets/product-license/license_token"),
        common::anywhere::licence_token(&emu, &arn, false),
    )
    .unwrap();

    let mut cmd = Command::new("/entitled");
    common::anywhere::anywhere_env(
        &mut cmd,
        &emu,
        Path::new("/var/run/secrets/product-license/license_token"),
    )
    .args(["--", "/app"])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    in_root(&mut cmd, &root);
    let out = wait_output(cmd.spawn().unwrap(), PATIENCE);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{arn}|Premium\n"),
        "{}",
        describe(&out)
    );
    let operations: Vec<String> = emu.calls().into_iter().map(|c| c.operation).collect();
    assert_eq!(
        operations,
        [
            "GetAccessToken",
            "AssumeRoleWithWebIdentity",
            "CheckoutLicense",
            "CheckInLicense"
        ]
    );
}

/// An endpoint host that does not resolve is a transient failure: the guard
/// retries until the deadline, then exits 75. The root's resolver points at
/// 127.0.0.2, where nothing listens, so no query leaves loopback.
#[test]
fn an_endpoint_host_that_does_not_resolve_ends_with_75_at_the_deadline() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root, for chroot"
    );
    let guard_path = musl_guard();
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    copy_executable(&guard_path, &root.join("entitled"));
    std::fs::copy(public_key(), root.join("key.pem")).unwrap();
    std::fs::write(
        root.join("etc/resolv.conf"),
        "nameserver 127.0.0.2\noptions timeout:1 attempts:1\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();

    let emu = emulator();
    let mut cmd = Command::new("/entitled");
    cmd.env_clear()
        .envs(aws_env(&emu))
        .env(
            "AWS_ENDPOINT_URL_MARKETPLACE_METERING",
            "http://metering.entitled-test.invalid:8080",
        )
        .args(["--product-code", PRODUCT, "--public-key", "/key.pem"])
        .args(["--deadline", "4s", "--attempt-timeout", "3s", "--check"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    in_root(&mut cmd, &root);
    let started = std::time::Instant::now();
    let out = wait_output(cmd.spawn().unwrap(), PATIENCE);
    let took = started.elapsed();
    assert_eq!(code(out.status), 75, "{}", describe(&out));
    assert!(took < Duration::from_secs(4) + MARGIN, "took {took:?}");
    // The resolver gives up after its 1 s timeout, inside the attempt's 3 s.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dns error"),
        "{}",
        describe(&out)
    );
    assert!(emu.calls().is_empty(), "nothing reached the emulator");
}

/// EKS IRSA from an empty root: the static guard, the key and the projected service-account
/// token, nothing else. The guard exchanges the token at the emulator's STS and signs
/// RegisterUsage with the session credentials; the emulator's platform rule, which refuses
/// everything but the ECS task role and IRSA, lets it through.
#[test]
fn the_static_guard_passes_with_irsa_in_an_empty_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root, for chroot"
    );
    const ROLE: &str = "arn:aws:iam::123456789012:role/shop-app";
    let emu = entitled_emulator::Emulator::spawn(
        config()
            .platform_rule(true)
            .role(format!("{ROLE}=shop:app").parse().unwrap()),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    copy_executable(&musl_guard(), &root.join("entitled"));
    std::fs::copy(public_key(), root.join("key.pem")).unwrap();
    let token = emu.web_identity_token("shop", "app", 3600).unwrap();
    std::fs::write(root.join("token"), token).unwrap();

    let mut cmd = Command::new("/entitled");
    cmd.env_clear()
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", "/token")
        .env("AWS_ROLE_ARN", ROLE)
        .env("AWS_ENDPOINT_URL_STS", emu.endpoint_url())
        .env("AWS_ENDPOINT_URL_MARKETPLACE_METERING", emu.endpoint_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "--product-code",
            PRODUCT,
            "--public-key",
            "/key.pem",
            "--check",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    in_root(&mut cmd, &root);
    let out = wait_output(cmd.spawn().unwrap(), PATIENCE);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let calls = emu.calls();
    let operations: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(operations, ["AssumeRoleWithWebIdentity", "RegisterUsage"]);
    assert_eq!(calls[1].outcome, "ok");
    assert_eq!(calls[1].role.as_deref(), Some(ROLE));
    assert_eq!(calls[1].service_account.as_deref(), Some("shop:app"));
}
