//! The aarch64 (Graviton) release guard, run under `qemu-aarch64-static`
//! against the emulator: a passing check that execs, a denied product (77)
//! and a forged token (65).
//!
//! `scripts/test.sh` builds the guard for `aarch64-unknown-linux-musl` and
//! passes its path in `ENTITLED_AARCH64_GUARD`. Without that variable or
//! without qemu the test fails with the command that fixes it; it never
//! skips.
//!
//! qemu-user hands `execve` to the host kernel, which cannot run an aarch64
//! program unless binfmt_misc is set up (it is not in containers or CI). So
//! the exec target is a host program: what is under test is the aarch64
//! guard's own exec path (PATH lookup, argv, environment, PID), and the
//! kernel carries out the exec exactly as it would on Graviton.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use entitled_emulator::{Emulator, Fault, TokenVariant};

const GUARD_VAR: &str = "ENTITLED_AARCH64_GUARD";
const QEMU: &str = "qemu-aarch64-static";
/// Emulated RSA and TLS are slower than native; this only bounds a hang.
const LIMIT: Duration = Duration::from_secs(60);
/// ELF `e_machine` for AArch64.
const EM_AARCH64: u16 = 183;

/// The aarch64 guard that `scripts/test.sh` built, after checking that it
/// is an aarch64 ELF executable.
fn aarch64_guard() -> PathBuf {
    let path = std::env::var_os(GUARD_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "{GUARD_VAR} is not set; run ./scripts/test.sh, which builds the aarch64 guard \
             (apt-get install -y gcc-aarch64-linux-gnu qemu-user-static first) and sets it"
            )
        });
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{GUARD_VAR}={}: {e}; run ./scripts/test.sh", path.display()));
    assert!(
        bytes.len() > 20 && bytes.starts_with(b"\x7fELF"),
        "{} is not an ELF file",
        path.display()
    );
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    assert_eq!(
        machine,
        EM_AARCH64,
        "{} is not an aarch64 binary",
        path.display()
    );
    path
}

/// The absolute path of `qemu-aarch64-static`, or a failure naming the
/// package that provides it.
fn qemu() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(QEMU))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{QEMU} not found on PATH; install it with `apt-get install -y qemu-user-static`"
            )
        })
}

/// The aarch64 guard under qemu with the hermetic environment of the other
/// tests, plus one seller variable that must reach COMMAND.
fn guard_on_arm64(qemu: &Path, guard: &Path, emu: &Emulator) -> Command {
    let mut cmd = Command::new(qemu);
    cmd.arg(guard)
        .env_clear()
        .envs(aws_env(emu))
        .env("PATH", "/usr/bin:/bin")
        .env("SELLER_SETTING", "kept as is");
    cmd
}

/// A host shell that reports its PID, argv and the variables the guard hands
/// over, one per line.
const REPORT: &str = r#"echo "pid=$$"; for a in "$@"; do echo "arg=[$a]"; done; echo "seller=$SELLER_SETTING"; echo "nonce=$ENTITLED_NONCE"; echo "token_parts=$(echo "$ENTITLED_TOKEN" | tr . '\n' | wc -l)""#;

#[test]
fn the_aarch64_guard_checks_execs_and_refuses_under_qemu() {
    let (qemu, guard) = (qemu(), aarch64_guard());
    let emu = emulator();

    // Entitled: the guard execs COMMAND found on PATH, in its own PID, with
    // argv byte for byte and the environment plus the hand-off variables.
    let mut cmd = guard_on_arm64(&qemu, &guard, &emu);
    cmd.args(product_flags(PRODUCT))
        .args(["--", "sh", "-c", REPORT, "sh", "a b", "", "-x"]);
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = wait_output(child, LIMIT);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let nonce = emu.calls()[0]
        .nonce
        .clone()
        .expect("the guard sent a nonce");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "pid={pid}\narg=[a b]\narg=[]\narg=[-x]\nseller=kept as is\nnonce={nonce}\ntoken_parts=3\n"
        ),
        "{}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("check passed for product"),
        "{}",
        describe(&out)
    );

    // Refusals: (product, fault queued for it, exit code). Each makes one
    // call and runs nothing.
    let refusals = [
        (DENIED, None, 77),
        (PRODUCT, Some(Fault::Token(TokenVariant::OtherKey)), 65),
    ];
    for (product, fault, expected) in refusals {
        emu.clear_calls();
        if let Some(fault) = fault {
            emu.push_fault(product, fault, 1);
        }
        let out = output_within(
            guard_on_arm64(&qemu, &guard, &emu)
                .args(product_flags(product))
                .args(["--", "sh", "-c", "echo must-not-run"]),
            LIMIT,
        );
        assert_eq!(code(out.status), expected, "{product}: {}", describe(&out));
        assert!(out.stdout.is_empty(), "{product}: {}", describe(&out));
        assert_eq!(emu.calls().len(), 1, "{product}: one call");
    }
}
