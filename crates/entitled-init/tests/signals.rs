//! SIGTERM, SIGINT and SIGHUP during the check stop the guard within a
//! second with 128+n, and the program never runs.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use entitled_emulator::Fault;

#[test]
fn a_stop_signal_during_a_stalled_call_exits_128_plus_n_without_exec() {
    let emu = emulator();
    for (sig, name, want) in [
        (libc::SIGTERM, "SIGTERM", 143),
        (libc::SIGINT, "SIGINT", 130),
        (libc::SIGHUP, "SIGHUP", 129),
    ] {
        emu.clear_calls();
        emu.push_fault(PRODUCT, Fault::Stall, 1);
        let child = guard(&emu)
            .args(product_flags(PRODUCT))
            .args(["--attempt-timeout", "1h", "--", "sh", "-c", "echo EXECUTED"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The call has reached the emulator and is stalled there.
        wait_until(Duration::from_secs(20), "the stalled call", || {
            emu.calls().iter().any(|c| c.outcome == "Stall")
        });
        let sent = Instant::now();
        // SAFETY: signalling our own child, which has not been reaped.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
        let out = wait_output(child, PATIENCE);
        let took = sent.elapsed();
        assert_eq!(code(out.status), want, "{name}: {}", describe(&out));
        assert!(took < STOP_PROMISE + MARGIN, "{name}: took {took:?}");
        assert!(
            out.stdout.is_empty(),
            "{name}: the program must not run: {}",
            describe(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("stopped by {name} during the check")),
            "{stderr}"
        );
    }
}

#[test]
fn a_stop_signal_during_backoff_is_honoured_too() {
    let emu = emulator();
    emu.push_fault(PRODUCT, error("ThrottlingException"), 10_000);
    let child = guard(&emu)
        .args(product_flags(PRODUCT))
        .args(["--", "sh", "-c", "echo EXECUTED"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(20), "a throttled call", || {
        !emu.calls().is_empty()
    });
    let sent = Instant::now();
    // SAFETY: signalling our own child, which has not been reaped.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let out = wait_output(child, PATIENCE);
    assert_eq!(code(out.status), 143, "{}", describe(&out));
    assert!(sent.elapsed() < STOP_PROMISE + MARGIN);
    assert!(out.stdout.is_empty());
}

/// The guard's host PID when it runs as PID 1 of a new PID namespace
/// under `unshare --fork`: the one child of the unshare process.
fn only_child_of(parent: u32) -> Option<libc::pid_t> {
    let children =
        std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

#[test]
fn as_pid_1_of_a_pid_namespace_sigterm_still_stops_the_check() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root, for a PID namespace"
    );
    let emu = emulator();
    emu.push_fault(PRODUCT, Fault::Stall, 1);
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--pid", "--fork", "--"])
        .arg(guard_binary())
        .args(product_flags(PRODUCT))
        .args(["--attempt-timeout", "1h", "--", "sh", "-c", "echo EXECUTED"])
        .env_clear()
        .envs(aws_env(&emu))
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_until(Duration::from_secs(20), "the stalled call", || {
        emu.calls().iter().any(|c| c.outcome == "Stall")
    });
    let guard_pid = only_child_of(child.id()).expect("the guard under unshare");
    let status = std::fs::read_to_string(format!("/proc/{guard_pid}/status")).unwrap();
    let ns_pid = status
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .unwrap()
        .to_owned();
    assert!(
        ns_pid.trim_end().ends_with("\t1"),
        "the guard is PID 1 in its namespace: {ns_pid}"
    );
    let sent = Instant::now();
    // SAFETY: signalling a process we started (through unshare), still running.
    assert_eq!(unsafe { libc::kill(guard_pid, libc::SIGTERM) }, 0);
    let out = wait_output(child, PATIENCE);
    assert!(sent.elapsed() < STOP_PROMISE + MARGIN);
    assert_eq!(code(out.status), 143, "{}", describe(&out));
    assert!(out.stdout.is_empty(), "{}", describe(&out));
}
