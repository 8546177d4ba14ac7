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
        let out = wait_output(child, Duration::from_secs(5));
        let took = sent.elapsed();
        assert_eq!(code(out.status), want, "{name}: {}", describe(&out));
        assert!(took < Duration::from_secs(2), "{name}: took {took:?}");
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
    emu.push_fault(
        PRODUCT,
        Fault::Error {
            code: "ThrottlingException".into(),
            message: None,
        },
        10_000,
    );
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
    let out = wait_output(child, Duration::from_secs(5));
    assert_eq!(code(out.status), 143, "{}", describe(&out));
    assert!(sent.elapsed() < Duration::from_secs(2));
    assert!(out.stdout.is_empty());
}
