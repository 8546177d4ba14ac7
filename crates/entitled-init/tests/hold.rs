//! `--contract --hold`: the guard supervises COMMAND as its child, keeps the
//! provisional checkout extended, forwards signals, reaps orphans as PID 1,
//! checks in when the child exits, and stops the child when the licence is
//! lost. The guard binary as a subprocess, against the emulator.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use entitled_emulator::{Config, Emulator, EntitlementSpec, LicenseSpec};

const SKU: &str = "prod-hold-guard";

/// One seat, held for `ttl_minutes` by a provisional checkout.
fn emulator_with_seat(ttl_minutes: u32) -> (Emulator, String) {
    let mut spec = LicenseSpec::new(SKU, vec![EntitlementSpec::count("Seats", 1)]);
    spec.provisional_ttl_minutes = Some(ttl_minutes);
    let emu = Emulator::spawn(Config::new().region("us-east-1")).unwrap();
    let arn = emu.add_license(spec).unwrap();
    (emu, arn)
}

fn hold_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--contract",
        "--product-sku",
        SKU,
        "--entitlement",
        "Seats:Count:1",
        "--hold",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn env(cmd: &mut Command, emu: &Emulator) {
    cmd.env_clear()
        .envs(aws_env(emu))
        .env("AWS_ENDPOINT_URL_LICENSE_MANAGER", emu.endpoint_url())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
}

/// Starts the held guard and waits for COMMAND's first line, `started`.
fn start_held(emu: &Emulator, extra: &[&str]) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut cmd = guard(emu);
    env(&mut cmd, emu);
    cmd.args(hold_args(extra));
    let mut child = cmd.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "started", "COMMAND runs under the guard");
    (child, stdout)
}

fn calls(emu: &Emulator, operation: &str) -> usize {
    emu.calls()
        .iter()
        .filter(|c| c.operation == operation)
        .count()
}

fn terminate(child: &Child) {
    // SAFETY: signalling a process we started and have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
}

const SLEEPER: &[&str] = &["--", "/bin/sh", "-c", "echo started; exec sleep 300"];

#[test]
fn sigterm_is_forwarded_and_the_unit_is_held_until_the_child_exits() {
    let (emu, _) = emulator_with_seat(60);
    let (child, _stdout) = start_held(&emu, SLEEPER);
    assert_eq!(held(&emu), 1, "held while COMMAND runs");
    terminate(&child);
    let out = wait_output(child, PATIENCE);
    assert_eq!(
        code(out.status),
        143,
        "the child's SIGTERM, as 128+15: {}",
        describe(&out)
    );
    assert_eq!(held(&emu), 0, "checked in when the child exited");
    assert_eq!(calls(&emu, "CheckInLicense"), 1);
}

#[test]
fn the_guard_exits_with_the_childs_status_after_checking_in() {
    let (emu, _) = emulator_with_seat(60);
    let mut cmd = guard(&emu);
    env(&mut cmd, &emu);
    cmd.args(hold_args(&[
        "--",
        "/bin/sh",
        "-c",
        "printf %s \"$ENTITLED_ENTITLEMENTS\"; exit 3",
    ]));
    let out = wait_output(cmd.spawn().unwrap(), PATIENCE);
    assert_eq!(code(out.status), 3, "{}", describe(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Seats:Count:1");
    assert_eq!(held(&emu), 0);
}

/// Started with SIGCHLD ignored (a launcher's choice that survives exec), the guard still
/// sees COMMAND exit, and COMMAND gets SIGCHLD ignored, as its launcher meant.
#[test]
fn sigchld_ignored_at_start_neither_hangs_the_guard_nor_reaches_the_child_changed() {
    use std::os::unix::process::CommandExt as _;
    let (emu, _) = emulator_with_seat(60);
    let mut cmd = guard(&emu);
    env(&mut cmd, &emu);
    // COMMAND prints the signals it ignores (a hex mask; SIGCHLD is bit 17 - 1). Not through
    // a shell: dash sets SIGCHLD back to the default for itself.
    cmd.args(hold_args(&[
        "--",
        "/bin/grep",
        "SigIgn",
        "/proc/self/status",
    ]));
    // SAFETY: sigaction is async-signal-safe; a zeroed sigaction with SIG_IGN is valid.
    unsafe {
        cmd.pre_exec(|| {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_IGN;
            if libc::sigaction(libc::SIGCHLD, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = wait_output(cmd.spawn().unwrap(), PATIENCE);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mask = stdout
        .trim()
        .strip_prefix("SigIgn:")
        .map(|hex| u64::from_str_radix(hex.trim(), 16).unwrap())
        .unwrap_or_else(|| panic!("{}", describe(&out)));
    assert_ne!(
        mask & (1 << (libc::SIGCHLD - 1)),
        0,
        "COMMAND still ignores SIGCHLD: {stdout}"
    );
    assert_eq!(held(&emu), 0, "checked in when COMMAND exited");
}

#[test]
fn as_pid_1_an_orphaned_grandchild_is_reaped() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root, for a PID namespace"
    );
    let (emu, _) = emulator_with_seat(60);
    // The grandchild is orphaned at once and handed to PID 1, the guard; it
    // ends after 0.1 s. Reaped, its /proc entry goes; a zombie keeps it.
    let script = r#"f=$(mktemp); ( sleep 0.1 & echo $! > "$f" ); orphan=$(cat "$f"); rm -f "$f"
i=0; while [ -e /proc/$orphan ] && [ $i -lt 200 ]; do i=$((i+1)); sleep 0.05; done
[ ! -e /proc/$orphan ] && echo reaped || { grep State /proc/$orphan/status; exit 1; }"#;
    let mut cmd = Command::new("unshare");
    env(&mut cmd, &emu);
    cmd.args(["--pid", "--fork", "--mount-proc", "--"])
        .arg(guard_binary())
        .args(hold_args(&["--", "/bin/sh", "-c", script]));
    let out = wait_output(cmd.spawn().unwrap(), PATIENCE);
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "reaped");
    assert_eq!(held(&emu), 0);
}

/// The keeper extends at half the time-to-live (here 30 s of a minute).
/// After the licence clock jumped past the consumption's expiry, the
/// extension is refused and the keeper checks out again: still entitled, so
/// COMMAND keeps running with a unit held.
#[test]
fn across_a_licence_clock_jump_the_checkout_is_extended_or_taken_again() {
    let (emu, _) = emulator_with_seat(1);
    let (mut child, _stdout) = start_held(&emu, SLEEPER);
    emu.advance_license_clock(2 * 3600);
    wait_until(
        Duration::from_secs(60),
        "an extension and a new checkout",
        || calls(&emu, "ExtendLicenseConsumption") >= 1 && calls(&emu, "CheckoutLicense") >= 2,
    );
    assert!(child.try_wait().unwrap().is_none(), "COMMAND still runs");
    assert_eq!(held(&emu), 1, "the new checkout holds the seat");
    terminate(&child);
    let out = wait_output(child, PATIENCE);
    assert_eq!(code(out.status), 143, "{}", describe(&out));
    assert_eq!(held(&emu), 0);
}

/// Lost for good: the extension is refused and the licence is suspended,
/// so the new checkout is not entitled either. COMMAND gets SIGTERM and the
/// guard exits 77 once it is gone.
#[test]
fn a_suspended_licence_terminates_the_child_and_exits_77() {
    let (emu, arn) = emulator_with_seat(1);
    let (child, _stdout) = start_held(&emu, &[&["--grace", "5s"][..], SLEEPER].concat());
    let path = format!(
        "/_emulator/licenses/{}",
        arn.replace(':', "%3A").replace('/', "%2F")
    );
    admin(&emu, "PATCH", &path, r#"{"status":"SUSPENDED"}"#);
    let out = wait_output(child, Duration::from_secs(90));
    assert_eq!(code(out.status), 77, "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the licence was lost"), "{stderr}");
}
