//! Durability of the sidecar: SIGKILL at random moments with restarts on the same journal,
//! and a full disk.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use entitled_emulator::Config;

/// A small xorshift generator, seeded from the clock; the seed is printed so a failing run
/// can be repeated with `CRASH_SEED`.
struct Rng(u64);

/// The seed of this run, for failure messages.
static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("CRASH_SEED={seed}");
        SEED.get_or_init(|| seed);
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One request the driver sends: its idempotency key, dimension and quantity.
#[derive(Clone)]
struct Request {
    key: String,
    dimension: &'static str,
    quantity: u64,
}

impl Request {
    fn body(&self) -> String {
        format!(
            r#"{{"dimension": "{}", "quantity": {}}}"#,
            self.dimension, self.quantity
        )
    }
}

/// Sends with the request's key; `None` when the sidecar died before answering.
fn send(sidecar: &Sidecar, request: &Request) -> Option<()> {
    match std::panic::catch_unwind(|| sidecar.post_once(&request.key, &request.body())) {
        Ok((202, _)) => Some(()),
        Ok((0, _)) | Err(_) => None,
        Ok((status, body)) => panic!("unexpected {status}: {body}"),
    }
}

#[test]
fn sigkill_at_random_moments_then_resends_by_key_report_exactly_the_acknowledged_records() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let mut rng = Rng::new();
    let dims = ["users", "gb_scanned"];
    let mut acknowledged: BTreeMap<&str, u64> = BTreeMap::new();
    // The request that was in flight when the sidecar died: journaled or not, unknown.
    let mut unanswered: Option<Request> = None;
    let mut next_key = 0u64;
    let mut resent_after_restart = 0;
    let rounds = 30;
    for _ in 0..rounds {
        let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
        let pid = sidecar.child.id() as i32;
        let kill_after = Duration::from_millis(20 + rng.below(200));
        // The random moment: the driver keeps sending while this thread kills.
        let killer = std::thread::spawn(move || {
            std::thread::sleep(kill_after);
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        });
        loop {
            // First the request whose answer was lost, with the same key; then new ones.
            let resend = unanswered.is_some();
            let request = unanswered.take().unwrap_or_else(|| {
                next_key += 1;
                Request {
                    key: format!("crash-test-{next_key}"),
                    dimension: dims[rng.below(2) as usize],
                    quantity: 1 + rng.below(1000),
                }
            });
            match send(&sidecar, &request) {
                Some(()) => {
                    resent_after_restart += usize::from(resend);
                    *acknowledged.entry(request.dimension).or_default() += request.quantity;
                }
                None => {
                    unanswered = Some(request);
                    break;
                }
            }
        }
        killer.join().unwrap();
        let (code, _) = sidecar.wait();
        assert_eq!(code, -1, "killed by a signal");
    }
    // A last start takes the last unanswered request, then reports everything on SIGTERM.
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    if let Some(request) = unanswered.take() {
        send(&sidecar, &request).expect("the last resend is acknowledged");
        *acknowledged.entry(request.dimension).or_default() += request.quantity;
    }
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    let seed = SEED.get().copied().unwrap_or_default();
    eprintln!("{next_key} requests, {resent_after_restart} resent after a restart");
    // What the test is about: requests cut off by a kill, resent after the restart and
    // acknowledged. Every round but the first starts with one.
    assert!(
        resent_after_restart > 0,
        "no request was resent after a crash; repeat with CRASH_SEED={seed}"
    );

    let mut reported: BTreeMap<String, u64> = BTreeMap::new();
    for t in emulator.usage() {
        *reported.entry(t.dimension).or_default() += t.quantity as u64;
    }
    for dim in dims {
        let got = reported.get(dim).copied().unwrap_or(0);
        let acked = acknowledged.get(dim).copied().unwrap_or(0);
        assert_eq!(
            got, acked,
            "{dim}: reported {got}, acknowledged {acked}; repeat with CRASH_SEED={seed}"
        );
    }
    // No hour twice: every MeterUsage call was accepted once per dimension and hour (the
    // start-up check's DryRun calls record nothing).
    let calls: Vec<_> = emulator
        .calls()
        .into_iter()
        .filter(|c| c.operation == "MeterUsage" && c.outcome != "DryRunOperation")
        .collect();
    assert!(calls.iter().all(|c| c.outcome == "ok"), "{calls:?}");
    let hours: std::collections::BTreeSet<_> = emulator
        .usage()
        .into_iter()
        .map(|t| (t.dimension, t.hour))
        .collect();
    assert_eq!(calls.len(), hours.len(), "one call per dimension and hour");
}

/// Mounts a small tmpfs on `dir`; fails clearly when it cannot (the test needs root).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Tmpfs {
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount(8)");
        assert!(
            out.status.success(),
            "the disk-full test mounts a small tmpfs and needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_gets_503_loses_nothing_acknowledged_and_recovers() {
    let emulator = emulator(Config::new());
    let dir = tempfile::tempdir().unwrap();
    let _tmpfs = Tmpfs::mount(dir.path(), "64k");
    let journal = dir.path().join("journal");
    let sidecar = start(&emulator, &journal, PRODUCT, &[]);
    assert_eq!(
        sidecar.post(r#"{"dimension": "users", "quantity": 5}"#).0,
        202
    );
    // Fill the disk.
    let filler = dir.path().join("filler");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    // The journal's last page may still have room for a few records; then it is full.
    let mut acknowledged = 5;
    let (status, body) = loop {
        let (status, body) = sidecar.post(r#"{"dimension": "users", "quantity": 7}"#);
        if status != 202 || acknowledged > 5 + 7 * 1000 {
            break (status, body);
        }
        acknowledged += 7;
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("No space left on device"), "{body}");
    assert_eq!(
        sidecar.request("GET", "/v1/status", "").0,
        503,
        "unready while the journal fails"
    );
    // Space returns.
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(
        sidecar.post(r#"{"dimension": "users", "quantity": 11}"#).0,
        202
    );
    assert_eq!(sidecar.request("GET", "/v1/status", "").0, 200);
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        totals(&emulator),
        vec![("users".into(), "{}".into(), (acknowledged + 11) as f64)]
    );
}
