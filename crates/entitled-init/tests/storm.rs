//! A small fleet-start storm, as CI can afford: 40 guards start at once
//! against one emulator throttling RegisterUsage at 20 calls/s. Every guard
//! must exec, each with a token that verified for its own nonce, and the
//! backoff must not hammer the quota. The 300-guard storm at AWS's real
//! 5 calls/s is `scripts/storm.sh 300 5` (figures in BENCHMARKS.md).

mod common;

use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

const GUARDS: usize = 40;
const RATE: f64 = 20.0;
/// Every guard must call at least once, and the first wave can only let
/// `RATE` through; at most 2.5 calls per guard leaves room for jitter while
/// catching a backoff that retries in lockstep.
const MAX_CALLS_PER_GUARD: f64 = 2.5;

#[test]
fn a_fleet_starting_at_once_all_execs_without_hammering_the_quota() {
    let emu = entitled_emulator::Emulator::spawn(config().throttle(RATE)).unwrap();
    let started = Instant::now();
    let children: Vec<_> = (0..GUARDS)
        .map(|_| {
            guard(&emu)
                .args(product_flags(PRODUCT))
                .args([
                    "--deadline",
                    "2m",
                    "-q",
                    "--",
                    "sh",
                    "-c",
                    "echo \"$ENTITLED_NONCE\"",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut exec_nonces = HashSet::new();
    for child in children {
        let out = wait_output(child, Duration::from_secs(120));
        assert_eq!(code(out.status), 0, "{}", describe(&out));
        let nonce = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(!nonce.is_empty(), "the program ran with a hand-off nonce");
        exec_nonces.insert(nonce);
    }
    let elapsed = started.elapsed();

    let calls: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.operation == "RegisterUsage")
        .collect();
    let answered: HashSet<_> = calls
        .iter()
        .filter(|c| c.outcome == "ok")
        .filter_map(|c| c.nonce.clone())
        .collect();
    assert_eq!(exec_nonces.len(), GUARDS, "one distinct nonce per guard");
    assert_eq!(
        answered.len(),
        GUARDS,
        "exactly one answered call per guard"
    );
    assert!(
        exec_nonces.is_subset(&answered),
        "every exec'd program carries the nonce of a call AWS (the emulator) answered"
    );
    assert!(
        calls
            .iter()
            .all(|c| c.outcome == "ok" || c.outcome == "ThrottlingException"),
        "only throttling beyond the rate"
    );
    let per_guard = calls.len() as f64 / GUARDS as f64;
    println!(
        "storm: {GUARDS} guards at {RATE} calls/s: last exec after {:.2} s (ideal {:.2} s, {:.2}x), {} calls, {per_guard:.2} per guard",
        elapsed.as_secs_f64(),
        GUARDS as f64 / RATE,
        elapsed.as_secs_f64() / (GUARDS as f64 / RATE),
        calls.len()
    );
    assert!(
        per_guard <= MAX_CALLS_PER_GUARD,
        "{per_guard:.2} calls per guard"
    );
}
