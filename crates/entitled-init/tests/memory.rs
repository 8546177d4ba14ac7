//! The shipped guard's peak memory stays under 16 MiB whatever the
//! environment and the network send: measured as the child's own maximum
//! resident set size, on the static release build.
//!
//! Memory is not time: this bound is asserted, not only reported.

mod common;

use std::process::{Command, Stdio};

use common::*;
use entitled_emulator::{Emulator, Fault};

/// The promise, in KiB as `ru_maxrss` counts it.
const MAX_RSS_KIB: i64 = 16 * 1024;

/// A small static program that runs its arguments as a child and prints
/// the child's exit code and peak RSS.
///
/// Why not `wait4` from the test itself: a child started by a large
/// process counts that process's resident pages in its own peak (the kernel
/// carries the pre-exec high-water mark over exec), so the test harness's
/// memory would be measured. Started from this probe, the guard is charged
/// at most the probe's few hundred KiB.
const PROBE: &str = r#"
#[repr(C)]
struct RUsage { times: [i64; 4], maxrss: i64, rest: [i64; 13] }
extern "C" { fn getrusage(who: i32, usage: *mut RUsage) -> i32; }
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = std::process::Command::new(&args[0]).args(&args[1..])
        .stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null()).status().unwrap();
    let mut usage = RUsage { times: [0; 4], maxrss: 0, rest: [0; 13] };
    // RUSAGE_CHILDREN: the one child, reaped above.
    assert_eq!(unsafe { getrusage(-1, &mut usage) }, 0);
    println!("{} {}", status.code().unwrap_or(-1), usage.maxrss);
}
"#;

/// Runs the guard under the probe; returns its exit code and peak RSS (KiB).
fn exit_and_peak_rss(probe: &std::path::Path, guard: Command) -> (i32, i64) {
    let mut cmd = Command::new(probe);
    cmd.arg(guard.get_program())
        .args(guard.get_args())
        .env_clear()
        .envs(guard.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let out = output_within(&mut cmd, PATIENCE);
    assert!(out.status.success(), "the probe failed: {}", describe(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut fields = text.split_whitespace().map(|f| f.parse::<i64>().unwrap());
    (fields.next().unwrap() as i32, fields.next().unwrap())
}

#[test]
fn peak_rss_stays_under_16_mib_with_a_huge_environment_and_oversized_answers() {
    let guard_path = musl_guard();
    // Over HTTPS, so the CA files are read (they are read only when a TLS
    // connection needs them): the emulator's CA through AWS_CA_BUNDLE, the
    // junk through SSL_CERT_FILE.
    let emu = Emulator::spawn(config().tls(true)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let emulator_ca = dir.path().join("emulator-ca.pem");
    std::fs::write(&emulator_ca, emu.ca_pem().unwrap()).unwrap();
    let probe = build_static_program(dir.path(), "probe", PROBE);
    // A CA file at the size limit, full of certificate-shaped junk.
    let ca = dir.path().join("ca.pem");
    let junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let ca_bytes = junk.repeat(entitled::MAX_CA_FILE_BYTES as usize / junk.len());
    std::fs::write(&ca, ca_bytes).unwrap();
    // About 1.4 MB of environment: 12 variables just under the kernel's
    // 128 KiB limit for one string.
    let big = "x".repeat(120 * 1024);

    let mut results = Vec::new();
    // (deadline, attempt timeout): a row that must end in one attempt gets one that a
    // loaded machine cannot miss; the row that runs until the deadline keeps it short.
    let one_attempt = ["--deadline", "20s", "--attempt-timeout", "10s"];
    let until_the_deadline = ["--deadline", "3s", "--attempt-timeout", "1s"];
    for (name, fault, expected, timing) in [
        ("a good answer", None, 0, one_attempt),
        (
            "11 MiB answers until the deadline",
            Some(Fault::Oversized {
                bytes: 11 * 1024 * 1024,
            }),
            75,
            until_the_deadline,
        ),
        (
            "a 4 MiB HTML error page",
            Some(Fault::Status {
                status: 403,
                body: "<html>".repeat(4 * 1024 * 1024 / 6),
            }),
            78,
            one_attempt,
        ),
    ] {
        emu.clear_faults();
        if let Some(fault) = fault {
            emu.push_fault(PRODUCT, fault, 100_000);
        }
        let mut cmd = guard_at(&guard_path, &emu);
        cmd.env("SSL_CERT_FILE", &ca)
            .env("AWS_CA_BUNDLE", &emulator_ca)
            .args(product_flags(PRODUCT))
            .args(timing)
            .arg("--check");
        for i in 0..12 {
            cmd.env(format!("HUGE_{i}"), &big);
        }
        let (code, rss) = exit_and_peak_rss(&probe, cmd);
        println!("{name}: exit {code}, peak RSS {rss} KiB");
        assert_eq!(code, expected, "{name}");
        results.push((name, rss));
    }
    for (name, rss) in results {
        assert!(
            rss < MAX_RSS_KIB,
            "{name}: peak RSS {rss} KiB, over {MAX_RSS_KIB} KiB"
        );
    }
}
