//! Files named by flags and the environment: bounded, never read when they
//! are FIFOs or devices, and never able to keep the guard past its deadline
//! or a stop signal.

mod common;

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

fn mkfifo(path: &Path) -> PathBuf {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
    path.to_path_buf()
}

/// Opens the FIFO's write end once a reader has it open (ENXIO before).
/// Held open, it keeps that reader blocked: no data, no end of file.
fn writer_once_read(fifo: &Path) -> std::fs::File {
    let mut writer = None;
    wait_until(Duration::from_secs(20), "a reader on the FIFO", || {
        writer = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(fifo)
            .ok();
        writer.is_some()
    });
    writer.unwrap()
}

/// A row: its name, extra environment, the key path (default: the fixture)
/// and what stderr must name.
type Case<'a> = (
    &'a str,
    Vec<(&'a str, String)>,
    Option<String>,
    &'a str,
    i32,
);

#[test]
fn a_special_or_oversized_file_is_refused_before_any_call() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(&dir.path().join("fifo"));
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'#'; 2 * 1024 * 1024]).unwrap();
    let fifo_s = fifo.display().to_string();
    let cases: Vec<Case> = vec![
        (
            "public key is a FIFO",
            vec![],
            Some(fifo_s.clone()),
            "a FIFO",
            64,
        ),
        (
            "public key is /dev/zero",
            vec![],
            Some("/dev/zero".into()),
            "a character device",
            64,
        ),
        (
            "public key is a directory",
            vec![],
            Some(dir.path().display().to_string()),
            "a directory",
            64,
        ),
        (
            "AWS_CONFIG_FILE is a FIFO",
            vec![("AWS_CONFIG_FILE", fifo_s.clone())],
            None,
            "AWS_CONFIG_FILE",
            64,
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE is /dev/zero",
            vec![("AWS_SHARED_CREDENTIALS_FILE", "/dev/zero".into())],
            None,
            "AWS_SHARED_CREDENTIALS_FILE",
            64,
        ),
        (
            "AWS_CONFIG_FILE is 2 MiB",
            vec![("AWS_CONFIG_FILE", big.display().to_string())],
            None,
            "limit",
            64,
        ),
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE is a FIFO",
            vec![
                ("AWS_WEB_IDENTITY_TOKEN_FILE", fifo_s.clone()),
                ("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/r".into()),
            ],
            None,
            // The token's fix is the pod's projected token: an IRSA refusal.
            "WebIdentityRefused",
            78,
        ),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is a FIFO",
            vec![("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", fifo_s.clone())],
            None,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            64,
        ),
    ];
    for (name, env, key, stderr_has, exit) in cases {
        emu.clear_calls();
        let mut cmd = guard(&emu);
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        match key {
            Some(key) => cmd.args(["--product-code", PRODUCT, "--public-key", &key]),
            None => cmd.args(product_flags(PRODUCT)),
        };
        cmd.args(["--deadline", "60s", "--check"]);
        let out = output_within(&mut cmd, PATIENCE);
        assert_eq!(code(out.status), exit, "{name}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(stderr_has), "{name}: {stderr}");
        assert!(emu.calls().is_empty(), "{name}: no call");
    }
}

/// CA files are read when a TLS connection needs them: here the emulator
/// serves HTTPS, its CA named in `AWS_CA_BUNDLE`, and a FIFO sits in the
/// other variable's place.
#[test]
fn a_special_file_in_place_of_a_ca_bundle_is_skipped_with_a_warning() {
    let emu = entitled_emulator::Emulator::spawn(config().tls(true)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();
    let fifo = mkfifo(&dir.path().join("ca.pem"));
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    mkfifo(&certs.join("hash.0"));
    for (var, value) in [("SSL_CERT_FILE", &fifo), ("SSL_CERT_DIR", &certs)] {
        let out = output_within(
            guard(&emu)
                .env("AWS_CA_BUNDLE", &ca)
                .env(var, value)
                .args(product_flags(PRODUCT))
                .arg("--check"),
            PATIENCE,
        );
        assert_eq!(code(out.status), 0, "{var}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("warning: CA file") && stderr.contains("skipped: a FIFO"),
            "{var}: {stderr}"
        );
    }
}

/// A profile whose web identity token file is a FIFO: aws-config reads it
/// with a blocking read that never returns. The file is named inside a
/// profile, so no check of the environment's own variables can see it.
fn profile_naming(dir: &Path, token: &Path) -> PathBuf {
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[default]\nrole_arn = arn:aws:iam::111122223333:role/r\nweb_identity_token_file = {}\n",
            token.display()
        ),
    )
    .unwrap();
    config
}

/// A guard run with `args` whose credential chain is blocked reading a
/// FIFO named in its profile; returns once it is blocked there, with the
/// FIFO's write end that keeps it so.
struct Blocked {
    emu: entitled_emulator::Emulator,
    child: std::process::Child,
    _writer: std::fs::File,
    _dir: tempfile::TempDir,
}

fn blocked_on_a_profile_fifo(args: &[&str]) -> Blocked {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(&dir.path().join("token"));
    let config = profile_naming(dir.path(), &fifo);
    let child = guard(&emu)
        .env("AWS_CONFIG_FILE", &config)
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .args(product_flags(PRODUCT))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = writer_once_read(&fifo);
    Blocked {
        emu,
        child,
        _writer: writer,
        _dir: dir,
    }
}

#[test]
fn sigterm_ends_a_guard_blocked_reading_a_fifo_within_a_second() {
    let blocked = blocked_on_a_profile_fifo(&["--", "sh", "-c", "echo EXECUTED"]);
    let sent = Instant::now();
    // SAFETY: signalling our own child, which has not been reaped.
    assert_eq!(
        unsafe { libc::kill(blocked.child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let out = wait_output(blocked.child, PATIENCE);
    let took = sent.elapsed();
    assert_eq!(code(out.status), 143, "{}", describe(&out));
    assert!(took < STOP_PROMISE + MARGIN, "took {took:?}");
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    assert!(blocked.emu.calls().is_empty());
}

#[test]
fn a_guard_blocked_reading_a_fifo_ends_with_75_at_the_deadline() {
    let blocked = blocked_on_a_profile_fifo(&["--deadline", "2s", "--check"]);
    let out = wait_output(blocked.child, PATIENCE);
    assert_eq!(code(out.status), 75, "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("did not finish within the 2000 ms deadline"),
        "{stderr}"
    );
    assert!(blocked.emu.calls().is_empty());
}
