//! A closed or broken stderr never changes the exit code, and never kills
//! the guard by SIGPIPE: usage errors stay 64, check failures keep their
//! class, exec failures stay 126/127.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use common::*;

/// How stderr is broken for a run.
#[derive(Clone, Copy, Debug)]
enum Broken {
    /// fd 2 is closed (`2>&-`).
    Closed,
    /// fd 2 is a pipe whose reader has gone: every write is EPIPE, and
    /// SIGPIPE at the default disposition would kill the writer.
    ReaderGone,
}

fn run_with(mut cmd: Command, broken: Broken) -> std::process::ExitStatus {
    cmd.stdout(Stdio::null());
    let cmd = match broken {
        Broken::ReaderGone => {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            cmd.stderr(writer);
            cmd
        }
        Broken::Closed => {
            // The shell closes fd 2 and execs the guard in its place.
            let mut sh = Command::new("/bin/sh");
            sh.arg("-c")
                .arg(r#"exec "$@" 2>&-"#)
                .arg("sh")
                .arg(cmd.get_program())
                .args(cmd.get_args())
                .env_clear()
                .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
                .stdout(Stdio::null())
                .stdin(Stdio::null());
            sh
        }
    };
    let mut cmd = cmd;
    let mut child = cmd.spawn().unwrap();
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("still running after {PATIENCE:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_broken_stderr_changes_no_exit_code() {
    let emu = emulator();
    let cases: Vec<(&str, Vec<String>, i32)> = vec![
        ("usage error", vec!["--no-such-flag".into()], 64),
        (
            "not entitled",
            [product_flags(DENIED), vec!["--check".into()]].concat(),
            77,
        ),
        (
            "COMMAND not found",
            [
                product_flags(PRODUCT),
                vec!["--".into(), "/nonexistent/program".into()],
            ]
            .concat(),
            127,
        ),
        (
            "COMMAND not executable",
            [
                product_flags(PRODUCT),
                vec!["--".into(), public_key().display().to_string()],
            ]
            .concat(),
            126,
        ),
    ];
    for broken in [Broken::Closed, Broken::ReaderGone] {
        for (name, args, expected) in &cases {
            let mut cmd = guard(&emu);
            cmd.args(args);
            let status = run_with(cmd, broken);
            assert_eq!(
                status.signal(),
                None,
                "{name} with stderr {broken:?}: killed by a signal"
            );
            assert_eq!(
                status.code(),
                Some(*expected),
                "{name} with stderr {broken:?}"
            );
        }
    }
}

#[test]
fn the_program_inherits_a_closed_stderr_closed() {
    let emu = emulator();
    let mut cmd = guard(&emu);
    cmd.args(product_flags(PRODUCT)).args([
        "--",
        "/bin/sh",
        "-c",
        // Exit 3 if fd 2 is open in the program, 0 if it is closed.
        "if [ -e /proc/$$/fd/2 ]; then exit 3; else exit 0; fi",
    ]);
    let status = run_with(cmd, Broken::Closed);
    assert_eq!(status.code(), Some(0), "fd 2 must be closed in the program");
}
