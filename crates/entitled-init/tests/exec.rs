//! After a passed check the guard *becomes* the program: same PID, argv
//! exactly as given, the environment plus the hand-off, and the signal
//! mask and ignored signals it was started with.

mod common;

use std::collections::BTreeSet;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use common::*;

fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect::<Vec<_>>()
        .split_last()
        .map(|(_, rest)| rest.to_vec())
        .unwrap_or_default()
}

#[test]
fn exec_keeps_pid_argv_and_environment_and_adds_the_handoff() {
    let emu = emulator();
    // The program prints its PID, then its argv and environment exactly as
    // the kernel holds them, NUL-separated.
    let script = "echo $$; cat /proc/$$/cmdline; printf '\\n'; cat /proc/$$/environ";
    let argv = [
        "sh",
        "-c",
        script,
        "",
        "two words",
        "-x",
        "--product-code",
        "--",
        "",
        "ünï",
    ];
    let child = guard(&emu)
        .env("KEEP_ME", "kept value with spaces")
        .env("ENTITLED_TOKEN", "forged-by-the-task-environment")
        .args(product_flags(PRODUCT))
        .arg("--")
        .args(argv)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = wait_output(child, PATIENCE);
    assert_eq!(code(out.status), 0, "{}", describe(&out));

    let (pid_line, rest) = out
        .stdout
        .split_at(out.stdout.iter().position(|&b| b == b'\n').unwrap() + 1);
    assert_eq!(
        String::from_utf8_lossy(pid_line).trim(),
        pid.to_string(),
        "same PID after exec"
    );
    let newline = rest.iter().position(|&b| b == b'\n').unwrap();
    let (cmdline, environ) = (&rest[..newline], &rest[newline + 1..]);
    assert_eq!(split_nul(cmdline), argv, "argv exactly as given");

    let env: BTreeSet<String> = split_nul(environ).into_iter().collect();
    let token = env
        .iter()
        .find_map(|e| e.strip_prefix("ENTITLED_TOKEN="))
        .unwrap();
    let nonce = env
        .iter()
        .find_map(|e| e.strip_prefix("ENTITLED_NONCE="))
        .unwrap();
    let mut expected: BTreeSet<String> = aws_env(&emu)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    expected.insert("PATH=/usr/local/bin:/usr/bin:/bin".into());
    expected.insert("KEEP_ME=kept value with spaces".into());
    expected.insert(format!("ENTITLED_TOKEN={token}"));
    expected.insert(format!("ENTITLED_NONCE={nonce}"));
    assert_eq!(
        env, expected,
        "the environment plus the hand-off, the forged token replaced"
    );

    // The hand-off re-verifies offline, and the nonce is the one sent.
    let keys = entitled::KeySet::new().with(
        entitled::KeyVersion::FIRST,
        entitled::PublicKey::from_file(public_key()).unwrap(),
    );
    let handoff = entitled::Handoff {
        token: token.to_owned(),
        nonce: nonce.to_owned(),
    };
    let product = PRODUCT.parse().unwrap();
    let verified = entitled::verify_handoff(
        &handoff,
        &keys,
        &product,
        entitled::KeyVersion::FIRST,
        Duration::from_secs(300),
    )
    .unwrap();
    assert_eq!(verified.product_code(), PRODUCT);
    let calls = emu.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].nonce.as_deref(), Some(nonce));

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(token), "the token is never logged");
}

#[test]
fn exec_uses_path_lookup() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("my-paid-app");
    std::fs::write(&program, "#!/bin/sh\necho \"ran $0 $*\"\n").unwrap();
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = output_within(
        guard(&emu)
            .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
            .args(product_flags(PRODUCT))
            .args(["--", "my-paid-app", "a"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("ran {} a", program.display())
    );
}

/// Sets the signal state a parent might hand the guard.
fn start_state(
    blocked: &'static [libc::c_int],
    ignored: &'static [libc::c_int],
) -> impl FnMut() -> io::Result<()> {
    move || {
        // SAFETY: runs in the forked child before exec; only calls
        // async-signal-safe functions on local data.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for &sig in blocked {
                libc::sigaddset(&mut set, sig);
            }
            if libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            for sig in [
                libc::SIGPIPE,
                libc::SIGHUP,
                libc::SIGUSR2,
                libc::SIGTERM,
                libc::SIGINT,
            ] {
                let disposition = if ignored.contains(&sig) {
                    libc::SIG_IGN
                } else {
                    libc::SIG_DFL
                };
                if libc::signal(sig, disposition) == libc::SIG_ERR {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        Ok(())
    }
}

fn sig_lines(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| l.starts_with("SigBlk") || l.starts_with("SigIgn"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_program_sees_the_signal_state_the_guard_was_started_with() {
    let emu = emulator();
    let status = ["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"];
    let cases: [(&[libc::c_int], &[libc::c_int]); 3] = [
        // Nothing blocked, nothing ignored: SIGPIPE in particular must not
        // arrive ignored (the Rust runtime would ignore it before main).
        (&[], &[]),
        // A parent that blocks and ignores things, stop signals included.
        (
            &[libc::SIGUSR1, libc::SIGTERM],
            &[libc::SIGPIPE, libc::SIGHUP, libc::SIGUSR2],
        ),
        (&[libc::SIGINT], &[libc::SIGTERM]),
    ];
    for (blocked, ignored) in cases {
        // SAFETY: the closure only calls async-signal-safe functions.
        let control = unsafe {
            Command::new(status[0])
                .args(&status[1..])
                .pre_exec(start_state(blocked, ignored))
                .output()
                .unwrap()
        };
        let want = sig_lines(&control.stdout);
        assert_eq!(want.lines().count(), 2, "{want}");
        if ignored.is_empty() {
            let ign = want
                .lines()
                .nth(1)
                .unwrap()
                .trim_start_matches("SigIgn:")
                .trim();
            let mask = u64::from_str_radix(ign, 16).unwrap();
            assert_eq!(
                mask & (1 << (libc::SIGPIPE - 1)),
                0,
                "SIGPIPE starts at its default: {want}"
            );
        }

        let mut cmd = guard(&emu);
        cmd.args(product_flags(PRODUCT)).arg("--").args(status);
        // SAFETY: as above.
        unsafe { cmd.pre_exec(start_state(blocked, ignored)) };
        let out = output_within(&mut cmd, PATIENCE);
        assert_eq!(code(out.status), 0, "{}", describe(&out));
        assert_eq!(
            sig_lines(&out.stdout),
            want,
            "blocked {blocked:?}, ignored {ignored:?}"
        );
    }
}
